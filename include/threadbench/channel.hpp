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
//  * try_send on a rendezvous channel succeeds only while some thread is blocked in
//    recv(); if that receiver then times out, the value waits in the hand-off slot for the
//    next recv (never lost).
//  * A T whose move constructor may throw is kept boxed (heap) inside the channel, so a
//    throwing copy/move can only happen before a value enters the channel: nothing is
//    lost or duplicated. Results hold such a T by pointer; value() hides the difference.
// Undelivered messages are destroyed with the channel's last handle.
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

#include "threadbench/detail/queues.hpp"
#include "threadbench/detail/wait.hpp"

namespace threadbench {

enum class SendStatus { ok, full, disconnected };
enum class RecvStatus { ok, empty, timeout, disconnected };

namespace detail {

template <class T>
inline constexpr bool boxed = !std::is_nothrow_move_constructible_v<T>;

// What the buffer stores for a T, and what results hold.
template <class T>
using Stored = std::conditional_t<boxed<T>, std::unique_ptr<T>, T>;

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

// The state both ends share. Handles (Senders and the Receiver) count references; the
// last one to go destroys it, and with it any undelivered messages.
template <class T>
class Shared {
  using S = Stored<T>;

 public:
  // cap: 0 = rendezvous, N = bounded, unbounded = nullopt.
  explicit Shared(std::optional<std::size_t> cap) : rendezvous_(cap && *cap == 0) {
    if (cap) {
      ring_.emplace(rendezvous_ ? 1 : *cap);
    } else {
      list_.emplace();
    }
  }

  // ---- handles ----
  void add_sender() noexcept {
    senders_.fetch_add(1, std::memory_order_relaxed);
    refs_.fetch_add(1, std::memory_order_relaxed);
  }
  static void drop_sender(Shared* s) noexcept {
    if (s->senders_.fetch_sub(1, std::memory_order_seq_cst) == 1) s->recv_ready_.notify_all();
    release(s);
  }
  static void drop_receiver(Shared* s) noexcept {
    s->receiver_alive_.store(false, std::memory_order_seq_cst);
    s->space_ready_.notify_all();
    s->taken_ready_.notify_all();
    release(s);
  }

  // ---- sending ----
  static S box(T&& v) {
    if constexpr (boxed<T>) {
      return std::make_unique<T>(std::move(v));  // may throw: nothing sent yet
    } else {
      return std::move(v);
    }
  }

  SendResult<T> send(T&& value) {
    S v = box(std::move(value));
    std::optional<std::uint64_t> pos;
    auto pushed_or_gone = [&](bool exact) {
      if (!receiver_alive()) return true;
      pos = push(v, exact);
      return pos.has_value();
    };
    wait_until_ready(space_ready_, never, pushed_or_gone);
    if (!pos) return SendResult<T>(SendStatus::disconnected, std::move(v));
    recv_ready_.notify_one();
    if (rendezvous_) return finish_rendezvous(*pos);
    return SendResult<T>();
  }

  SendResult<T> try_send(T&& value) {
    S v = box(std::move(value));
    if (!receiver_alive()) return SendResult<T>(SendStatus::disconnected, std::move(v));
    if (rendezvous_ && blocked_receivers_.load(std::memory_order_seq_cst) == 0) {
      return SendResult<T>(SendStatus::full, std::move(v));
    }
    if (!push(v, true)) return SendResult<T>(SendStatus::full, std::move(v));
    recv_ready_.notify_one();
    return SendResult<T>();
  }

  // ---- receiving ----
  // exact = false may answer empty while a message is only being written (a quick probe).
  RecvResult<T> try_recv(bool exact = true) {
    if (auto v = pop(exact)) return RecvResult<T>(std::move(*v));
    if (senders_.load(std::memory_order_seq_cst) != 0) return RecvResult<T>(RecvStatus::empty);
    // All senders are gone; everything they sent happened before that, so one more
    // look decides between "drained" and a last message.
    if (auto v = pop(true)) return RecvResult<T>(std::move(*v));
    return RecvResult<T>(RecvStatus::disconnected);
  }

  RecvResult<T> recv(const Deadline& deadline) {
    if (rendezvous_) blocked_receivers_.fetch_add(1, std::memory_order_seq_cst);
    std::optional<RecvResult<T>> out;
    auto got_something = [&](bool exact) {
      RecvResult<T> r = try_recv(exact);
      if (r.empty()) return false;
      out.emplace(std::move(r));
      return true;
    };
    const bool done = wait_until_ready(recv_ready_, deadline, got_something);
    if (rendezvous_) blocked_receivers_.fetch_sub(1, std::memory_order_seq_cst);
    if (!done) return RecvResult<T>(RecvStatus::timeout);
    return std::move(*out);
  }

 private:
  static void release(Shared* s) noexcept {
    if (s->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete s;
  }

  bool receiver_alive() const noexcept {
    return receiver_alive_.load(std::memory_order_seq_cst);
  }

  using Probe = typename Ring<S>::Probe;
  static Probe probe(bool exact) noexcept { return exact ? Probe::exact : Probe::quick; }

  std::optional<std::uint64_t> push(S& v, bool exact) {
    if (ring_) return ring_->try_push(v, probe(exact));
    list_->push(v);
    return 0;
  }

  std::optional<S> pop(bool exact) {
    auto v = ring_ ? ring_->try_pop(probe(exact)) : list_->try_pop();
    if (v && ring_) space_ready_.notify_one();   // a slot came free
    if (v && rendezvous_) taken_ready_.notify_all();  // some sender's value was taken
    return v;
  }

  // A rendezvous send returns only once the receiver has taken the value, or gives the
  // value back if the receiver went away first.
  SendResult<T> finish_rendezvous(std::uint64_t pos) {
    auto taken_or_gone = [&](bool) { return ring_->taken(pos) || !receiver_alive(); };
    wait_until_ready(taken_ready_, never, taken_or_gone);
    if (!ring_->taken(pos)) {
      if (auto back = ring_->try_reclaim(pos)) {
        return SendResult<T>(SendStatus::disconnected, std::move(*back));
      }
    }
    return SendResult<T>();
  }

  const bool rendezvous_;
  std::optional<Ring<S>> ring_;
  std::optional<BlockList<S>> list_;

  // Written only when a handle is copied or dropped: read-mostly on the hot paths.
  alignas(cache_line) std::atomic<std::size_t> refs_{2};  // 1 Sender + the Receiver
  std::atomic<std::size_t> senders_{1};
  std::atomic<bool> receiver_alive_{true};
  // Rendezvous only, written by every recv: its own line, so senders' reads of the
  // fields above stay cache hits.
  alignas(cache_line) std::atomic<std::uint32_t> blocked_receivers_{0};
  EventCount recv_ready_;   // receivers wait here for a message or disconnection
  EventCount space_ready_;  // senders wait here for a free slot (bounded)
  EventCount taken_ready_;  // rendezvous senders wait here for their value to be taken
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

  // Blocks while a bounded channel is full; on a rendezvous channel, until the receiver
  // has taken the value. Fails (giving the value back) only if the Receiver is gone.
  SendResult<T> send(T value) { return s_->send(std::move(value)); }
  // Never blocks: full() when there is no room (or, rendezvous, no receiver waiting).
  SendResult<T> try_send(T value) { return s_->try_send(std::move(value)); }

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
  template <class Rep, class Period>
  RecvResult<T> recv_for(std::chrono::duration<Rep, Period> d) {
    return s_->recv(detail::deadline_after(d));
  }
  template <class Clock, class Duration>
  RecvResult<T> recv_until(std::chrono::time_point<Clock, Duration> t) {
    if constexpr (std::is_same_v<Clock, std::chrono::steady_clock>) {
      return s_->recv(std::chrono::time_point_cast<std::chrono::steady_clock::duration>(t));
    } else {
      return recv_for(t - Clock::now());
    }
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
