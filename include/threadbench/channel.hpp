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
// This file is the API, top to bottom: Sender, Receiver, channel() and sync_channel(). The
// result types they return are in detail/result.hpp; what the two ends share and how each
// operation works, in detail/shared.hpp; how a T is held, in detail/stored.hpp.
// The three flavours, each explained at the top of its file: detail/list.hpp (unbounded,
// lock-free block list, List), detail/ring.hpp (bounded ring, Ring), detail/zero.hpp
// (rendezvous, Zero); what they share, detail/flavour.hpp. Waiting: detail/wait.hpp (the
// wait loop: spin, then futex), built from detail/spin.hpp, detail/event_count.hpp,
// detail/fence.hpp, detail/futex.hpp and detail/deadline.hpp; the one Backoff and the
// SpinLock: detail/backoff.hpp; the cache-line size and cpu_relax: detail/cpu.hpp; the
// handles' reference count: detail/refcount.hpp.
// try_send/try_recv never sleep, but may spin-then-yield briefly for a thread that claimed a
// slot and was descheduled before finishing it (see Probe in detail/flavour.hpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <iterator>
#include <memory>
#include <optional>
#include <utility>

#include "threadbench/detail/deadline.hpp"
#include "threadbench/detail/planted.hpp"
#include "threadbench/detail/result.hpp"
#include "threadbench/detail/shared.hpp"

namespace threadbench {

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
  // Unbounded: a send that needs a new block allocates it before it claims a slot, so if
  // that allocation throws (std::bad_alloc), nothing was sent and the caller's object still
  // holds the value (a T held in place is untouched; a boxed one is moved back).
  SendResult<T> send(const T& value) { return s_->send(value); }
  SendResult<T> send(T&& value) { return s_->send(std::move(value)); }
  // Never blocks: full() when there is no room (or, rendezvous, no receiver blocked in
  // recv() to take it), disconnected() when the Receiver is gone; the value comes back.
  // Unbounded: as send, a failed block allocation throws with the value left to the caller.
  SendResult<T> try_send(const T& value) { return s_->try_send(value); }
  SendResult<T> try_send(T&& value) { return s_->try_send(std::move(value)); }

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
  // Rust's recv_timeout: timed_out() once d has passed with no message. It waits as recv()
  // does (spin, yield, then a futex sleep) until its deadline. Any duration type; zero or
  // negative checks once, a huge one (hours::max()) waits as long as recv().
  template <class Rep, class Period>
  RecvResult<T> recv_for(std::chrono::duration<Rep, Period> d) {
    if (detail::plant(detail::Bug::timeout_too_early)) d -= d / 4;
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
