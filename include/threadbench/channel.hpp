// threadbench/channel.hpp: Rust's std::sync::mpsc, in C++20.
//
//   auto [tx, rx] = threadbench::channel<int>();        // mpsc::channel(): unbounded
//   auto [tx, rx] = threadbench::sync_channel<int>(8);  // mpsc::sync_channel(8)
//   auto [tx, rx] = threadbench::sync_channel<int>(0);  // rendezvous
//
//   Rust                                  threadbench
//   tx.clone()                            Sender copy
//   drop(last Sender) disconnects         last Sender destructor disconnects
//   tx.send(v) -> Err(SendError(v))       tx.send(v) -> SendResult; .value() gives v back
//   tx.try_send(v) -> Full(v)/Disc.(v)    tx.try_send(v) -> SendResult: full()/disconnected()
//   rx.recv() -> Err(RecvError)           rx.recv() -> RecvResult: disconnected() only once
//                                         every Sender is gone AND the buffer is drained
//   rx.try_recv() -> Empty/Disconnected   rx.try_recv()
//   rx.recv_timeout(d) -> Timeout/Disc.   rx.recv_for(d), rx.recv_until(t)
//   for v in rx.iter() / rx.try_iter()    for (auto& v : rx) / rx.try_iter()
//
// Differences from Rust, all deliberate:
//  * Receiver is move-only like Rust's, but its operations may also be called from several
//    threads at once through a reference (crossbeam-style multi-consumer); Rust would need
//    Arc<Mutex<Receiver>> for that.
//  * A T whose move constructor may throw (or is deleted) is kept boxed (heap) inside the
//    channel, so a throwing copy/move can only happen before a value enters the channel:
//    nothing is lost or duplicated, and the caller's object is left as it was. Sending an
//    lvalue costs one copy, an rvalue one move. Results hold such a T by pointer; value()
//    hides the difference.
// As in Rust: dropping the Receiver destroys every undelivered message at once (including
// one whose send races with the drop: that send either lands before and is destroyed, or
// fails and gives its value back), so a message that holds a Sender of its own channel, or
// the only Sender of a reply channel, does not keep anything alive. try_send on a
// rendezvous channel succeeds only when a receiver is blocked in recv() and that receiver
// takes this very value.
//
// The three flavours, each explained at the top of its file: detail/list.hpp (unbounded,
// lock-free block list), detail/array.hpp (bounded ring), detail/zero.hpp (rendezvous).
// Waiting (spin, then futex) and the one Backoff: detail/wait.hpp.
// try_send/try_recv/recv_for never sleep, but may spin-then-yield briefly for a thread that
// claimed a slot and was descheduled before finishing it (see Probe in detail/array.hpp).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "threadbench/detail/array.hpp"
#include "threadbench/detail/list.hpp"
#include "threadbench/detail/planted.hpp"
#include "threadbench/detail/wait.hpp"
#include "threadbench/detail/zero.hpp"

namespace threadbench {

enum class SendStatus { ok, full, disconnected };
enum class RecvStatus { ok, empty, timeout, disconnected };

namespace detail {

template <class T>
inline constexpr bool boxed = !std::is_nothrow_move_constructible_v<T>;

// What the buffer stores for a T, and what results hold.
template <class T>
using Stored = std::conditional_t<boxed<T>, std::unique_ptr<T>, T>;

// Makes the Stored form of a value with exactly one copy (lvalue) or one move (rvalue); a
// T whose move constructor is deleted is copied. If that copy or move throws, nothing has
// entered the channel and the caller's object is untouched by us.
template <class T, class U>
Stored<T> store(U&& v) {
  using Arg = std::conditional_t<std::is_constructible_v<T, U&&>, U&&, const T&>;
  if constexpr (boxed<T>) {
    return std::make_unique<T>(static_cast<Arg>(v));
  } else {
    return T(static_cast<Arg>(v));
  }
}

template <class T>
class Held {
 public:
  Held() = default;
  explicit Held(Stored<T>&& s) {
    if constexpr (boxed<T>) {
      v_ = std::move(s);
    } else {
      v_.emplace(std::move(s));
    }
  }
  bool has_value() const noexcept { return static_cast<bool>(v_); }
  T& get() noexcept { return *v_; }
  const T& get() const noexcept { return *v_; }

 private:
  std::conditional_t<boxed<T>, std::unique_ptr<T>, std::optional<T>> v_;
};

template <class T>
class Shared;

}  // namespace detail

// The outcome of send/try_send. On failure the value comes back: value().
template <class T>
class [[nodiscard]] SendResult {
 public:
  SendStatus status() const noexcept { return status_; }
  bool ok() const noexcept { return status_ == SendStatus::ok; }
  bool full() const noexcept { return status_ == SendStatus::full; }
  bool disconnected() const noexcept { return status_ == SendStatus::disconnected; }
  explicit operator bool() const noexcept { return ok(); }
  // The value that was not sent. Precondition: !ok().
  T& value() & noexcept { return held_.get(); }
  T&& value() && noexcept { return std::move(held_.get()); }

 private:
  friend class detail::Shared<T>;
  SendResult() = default;
  SendResult(SendStatus s, detail::Stored<T>&& v) : status_(s), held_(std::move(v)) {}
  SendStatus status_ = SendStatus::ok;
  detail::Held<T> held_;
};

// The outcome of recv/try_recv/recv_for/recv_until: a message, or why there is none.
template <class T>
class [[nodiscard]] RecvResult {
 public:
  RecvStatus status() const noexcept { return status_; }
  bool ok() const noexcept { return status_ == RecvStatus::ok; }
  bool empty() const noexcept { return status_ == RecvStatus::empty; }
  bool timed_out() const noexcept { return status_ == RecvStatus::timeout; }
  bool disconnected() const noexcept { return status_ == RecvStatus::disconnected; }
  explicit operator bool() const noexcept { return ok(); }
  // The message. Precondition: ok().
  T& value() & noexcept { return held_.get(); }
  T&& value() && noexcept { return std::move(held_.get()); }
  T& operator*() & noexcept { return held_.get(); }
  T* operator->() noexcept { return &held_.get(); }

 private:
  friend class detail::Shared<T>;
  explicit RecvResult(RecvStatus s) : status_(s) {}
  explicit RecvResult(detail::Stored<T>&& v) : status_(RecvStatus::ok), held_(std::move(v)) {}
  RecvStatus status_;
  detail::Held<T> held_;
};

namespace detail {

// The state both ends share: one flavour (chosen by the capacity), the handle counts and
// the wait queues. Handles (Senders and the Receiver) count references; the last one to go
// destroys it.
template <class T>
class Shared {
  using S = Stored<T>;
  enum class Kind { list, array, zero };

 public:
  // cap: 0 = rendezvous, N = bounded, unbounded = nullopt.
  explicit Shared(std::optional<std::size_t> cap)
      : kind_(!cap ? Kind::list : (*cap == 0 ? Kind::zero : Kind::array)) {
    switch (kind_) {
      case Kind::list: list_.emplace(); break;
      case Kind::array: array_.emplace(*cap + (plant(Bug::capacity_off_by_one) ? 1 : 0)); break;
      case Kind::zero: zero_.emplace(); break;
    }
  }

  // ---- handles ----
  void add_sender() noexcept {
    if (!plant(Bug::clone_not_counted)) senders_.fetch_add(1, std::memory_order_relaxed);
    refs_.fetch_add(1, std::memory_order_relaxed);
  }
  static void drop_sender(Shared* s) noexcept {
    if (s->senders_.fetch_sub(1, std::memory_order_seq_cst) == 1) {
      if (s->kind_ == Kind::zero) {
        s->zero_->disconnect_senders();
      } else if (!plant(Bug::no_wake_after_disconnect)) {
        s->recv_ready_.notify_all();
      }
    }
    release(s);
  }
  // Rust's drop(Receiver): later sends fail, undelivered messages are destroyed now, and
  // blocked senders get their values back.
  static void drop_receiver(Shared* s) noexcept {
    switch (s->kind_) {
      case Kind::list: s->list_->disconnect_and_discard(); break;
      case Kind::array:
        s->array_->disconnect_and_discard();
        s->space_ready_.notify_all();
        break;
      case Kind::zero: s->zero_->disconnect_receivers(); break;
    }
    release(s);
  }

  // ---- sending ----
  SendResult<T> send(S v) {
    Push p = Push::ok;
    switch (kind_) {
      case Kind::list: p = list_->try_push(v); break;
      case Kind::zero: p = zero_->send(v); break;
      case Kind::array: {
        auto pushed_or_gone = [&](bool exact) {
          p = array_->try_push(v, exact ? Probe::exact : Probe::quick);
          return p != Push::full;
        };
        wait_until_ready(space_ready_, never, pushed_or_gone);
        break;
      }
    }
    return sent(p, std::move(v));
  }

  SendResult<T> try_send(S v) {
    Push p = Push::ok;
    switch (kind_) {
      case Kind::list: p = list_->try_push(v); break;
      case Kind::array: p = array_->try_push(v, Probe::exact); break;
      case Kind::zero: p = zero_->try_send(v); break;
    }
    return sent(p, std::move(v));
  }

  // ---- receiving ----
  // exact = false may answer empty while a message is only being written (a quick probe).
  RecvResult<T> try_recv(bool exact = true) {
    if (kind_ == Kind::zero) return received(zero_->recv(false, never));
    if (auto v = pop(exact)) return RecvResult<T>(std::move(*v));
    if (senders_.load(std::memory_order_seq_cst) != 0) return RecvResult<T>(RecvStatus::empty);
    // All senders are gone; everything they sent happened before that, so one more
    // look decides between "drained" and a last message.
    if (auto v = pop(true)) return RecvResult<T>(std::move(*v));
    return RecvResult<T>(RecvStatus::disconnected);
  }

  RecvResult<T> recv(const Deadline& deadline) {
    if (kind_ == Kind::zero) return received(zero_->recv(true, deadline));
    std::optional<RecvResult<T>> out;
    auto got_something = [&](bool exact) {
      RecvResult<T> r = try_recv(exact);
      if (r.empty()) return false;
      out.emplace(std::move(r));
      return true;
    };
    if (!wait_until_ready(recv_ready_, deadline, got_something)) {
      return RecvResult<T>(RecvStatus::timeout);
    }
    return std::move(*out);
  }

 private:
  static void release(Shared* s) noexcept {
    constexpr auto order = plant(Bug::refcount_release_only) ? std::memory_order_release
                                                             : std::memory_order_acq_rel;
    if (s->refs_.fetch_sub(1, order) == 1) delete s;
  }

  SendResult<T> sent(Push p, S&& v) {
    switch (p) {
      case Push::ok:
        if (kind_ != Kind::zero && !plant(Bug::no_wake_after_send)) recv_ready_.notify_one();
        return SendResult<T>();
      case Push::full: return SendResult<T>(SendStatus::full, std::move(v));
      case Push::disconnected: break;
    }
    return SendResult<T>(SendStatus::disconnected, std::move(v));
  }

  static RecvResult<T> received(typename Zero<S>::Received&& r) {
    using R = typename Zero<S>::Recv;
    switch (r.status) {
      case R::ok: return RecvResult<T>(std::move(*r.value));
      case R::empty: return RecvResult<T>(RecvStatus::empty);
      case R::timeout: return RecvResult<T>(RecvStatus::timeout);
      case R::disconnected: break;
    }
    return RecvResult<T>(RecvStatus::disconnected);
  }

  std::optional<S> pop(bool exact) {
    if (kind_ == Kind::list) return list_->try_pop(exact ? Probe::exact : Probe::quick);
    auto v = array_->try_pop(exact ? Probe::exact : Probe::quick);
    if (v && !plant(Bug::no_wake_after_pop)) space_ready_.notify_one();  // a slot came free
    return v;
  }

  const Kind kind_;
  std::optional<List<S>> list_;    // kind_ == list
  std::optional<Ring<S>> array_;   // kind_ == array
  std::optional<Zero<S>> zero_;    // kind_ == zero

  // Written only when a handle is copied or dropped: read-mostly on the hot paths.
  alignas(cache_line) std::atomic<std::size_t> refs_{2};  // 1 Sender + the Receiver
  std::atomic<std::size_t> senders_{1};
  EventCount recv_ready_;   // receivers wait here for a message or disconnection
  EventCount space_ready_;  // bounded: senders wait here for a free slot or disconnection
};

}  // namespace detail

template <class T>
class Receiver;

// The sending half: copy it to get another producer (Rust's Sender::clone). The channel
// disconnects when the last Sender is destroyed.
template <class T>
class Sender {
 public:
  Sender(const Sender& o) noexcept : s_(o.s_) {
    if (s_) s_->add_sender();
  }
  Sender(Sender&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  Sender& operator=(Sender o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  ~Sender() {
    if (s_) detail::Shared<T>::drop_sender(s_);
  }

  // Blocks while a bounded channel is full; on a rendezvous channel, until a receiver has
  // taken the value. Fails (giving the value back) only if the Receiver is gone.
  SendResult<T> send(const T& value) { return s_->send(detail::store<T>(value)); }
  SendResult<T> send(T&& value) { return s_->send(detail::store<T>(std::move(value))); }
  // Never blocks: full() when there is no room (or, rendezvous, no receiver blocked in
  // recv() to take it), disconnected() when the Receiver is gone; the value comes back.
  SendResult<T> try_send(const T& value) { return s_->try_send(detail::store<T>(value)); }
  SendResult<T> try_send(T&& value) { return s_->try_send(detail::store<T>(std::move(value))); }

 private:
  template <class U>
  friend std::pair<Sender<U>, Receiver<U>> make_channel(std::optional<std::size_t>);
  explicit Sender(detail::Shared<T>* s) noexcept : s_(s) {}
  detail::Shared<T>* s_;
};

// The receiving half: move-only. Its operations may be called concurrently from several
// threads through a reference (see the header comment).
template <class T>
class Receiver {
 public:
  Receiver(Receiver&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  Receiver& operator=(Receiver&& o) noexcept {
    if (this != &o) {
      reset();
      s_ = std::exchange(o.s_, nullptr);
    }
    return *this;
  }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;
  ~Receiver() { reset(); }

  // Blocks until a message arrives; disconnected() once every Sender is gone and the
  // buffer is drained.
  RecvResult<T> recv() { return s_->recv(detail::never); }
  RecvResult<T> try_recv() { return s_->try_recv(); }
  // Rust's recv_timeout: timed_out() once d has passed with no message. Any duration type;
  // zero or negative checks once, a huge one (hours::max()) waits as long as recv().
  template <class Rep, class Period>
  RecvResult<T> recv_for(std::chrono::duration<Rep, Period> d) {
    if constexpr (detail::plant(detail::Bug::timeout_too_early)) d -= d / 4;
    return s_->recv(detail::deadline_after(d));
  }
  // The same with a deadline on any clock; a deadline already past checks once, and
  // time_point::max() (or any deadline centuries away) never overflows into a past one.
  template <class Clock, class Duration>
  RecvResult<T> recv_until(std::chrono::time_point<Clock, Duration> t) {
    return s_->recv(detail::deadline_at(t));
  }

  // Range-for over the receiver: blocks for each message, ends on disconnection
  // (Rust's rx.iter()). try_iter() drains what is there without blocking.
  template <bool Blocking>
  class Range {
   public:
    class iterator {
     public:
      using value_type = T;
      using difference_type = std::ptrdiff_t;
      iterator() = default;
      explicit iterator(Receiver* rx) : rx_(rx) { advance(); }
      T& operator*() const { return cur_->value(); }
      iterator& operator++() {
        advance();
        return *this;
      }
      void operator++(int) { advance(); }
      bool operator==(std::default_sentinel_t) const { return !cur_ || !cur_->ok(); }

     private:
      void advance() {
        cur_.reset();
        cur_.emplace(Blocking ? rx_->recv() : rx_->try_recv());
      }
      Receiver* rx_ = nullptr;
      mutable std::optional<RecvResult<T>> cur_;
    };
    explicit Range(Receiver* rx) : rx_(rx) {}
    iterator begin() { return iterator(rx_); }
    std::default_sentinel_t end() { return {}; }

   private:
    Receiver* rx_;
  };

  Range<true> iter() { return Range<true>(this); }
  Range<false> try_iter() { return Range<false>(this); }
  typename Range<true>::iterator begin() { return typename Range<true>::iterator(this); }
  std::default_sentinel_t end() { return {}; }

 private:
  template <class U>
  friend std::pair<Sender<U>, Receiver<U>> make_channel(std::optional<std::size_t>);
  explicit Receiver(detail::Shared<T>* s) noexcept : s_(s) {}
  void reset() noexcept {
    if (s_) detail::Shared<T>::drop_receiver(std::exchange(s_, nullptr));
  }
  detail::Shared<T>* s_;
};

template <class T>
std::pair<Sender<T>, Receiver<T>> make_channel(std::optional<std::size_t> cap) {
  auto* s = new detail::Shared<T>(cap);
  return {Sender<T>(s), Receiver<T>(s)};
}

// Rust's mpsc::channel(): unbounded, send never blocks.
template <class T>
std::pair<Sender<T>, Receiver<T>> channel() {
  return make_channel<T>(std::nullopt);
}

// Rust's mpsc::sync_channel(cap): send blocks while cap messages are buffered; cap == 0 is
// a rendezvous, where send returns only once a receiver has taken the value.
template <class T>
std::pair<Sender<T>, Receiver<T>> sync_channel(std::size_t cap) {
  return make_channel<T>(cap);
}

}  // namespace threadbench
