// threadbench/contenders/builtin.hpp: threadbench's own contenders, one thin adapter per
// queue, written against the seam in contender.hpp exactly as a user's adapter would be
// (nothing here is out of a user adapter's reach).
//
// Each adapter declares only the optional capabilities its queue really has, and says why
// in the paragraph above it: a scenario or stress check that needs a capability an adapter
// lacks leaves that adapter out, never emulates it. A capacity a queue cannot honestly give
// (TBB has no rendezvous; moodycamel and tbb::concurrent_queue cannot block a sender) is
// refused by supports(), and that benchmark is not registered.
//
// BuiltinContenders lists them in the order the benchmarks are registered; adding a
// built-in contender = its adapter here + its name in that list. A user's contender needs
// neither: see contender.hpp (THREADBENCH_CONTENDER) and THREADBENCH_CONTENDERS in CMake.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>

#include <concurrentqueue/blockingconcurrentqueue.h>
#include <tbb/concurrent_queue.h>

#include "threadbench/channel.hpp"
#include "threadbench/contenders/contender.hpp"
#include "threadbench/detail/wait.hpp"  // cpu_relax

namespace bench {

[[noreturn]] inline void adapter_failure(const char* what) {
  std::fprintf(stderr, "builtin.hpp: %s\n", what);
  std::abort();
}

// ---- threadbench: the channel under test (channel.hpp) ----------------------------------
// One Sender and the Receiver, both shared by reference across threads: the channel's
// shared state does all the synchronisation, so this is what N cloned Senders would do too
// (a clone only copies the pointer and bumps a count).
// Capabilities, all the channel's own API:
//  * try_send / try_recv: Sender::try_send hands the value back when full
//    (SendResult::value()), Receiver::try_recv reports empty.
//  * close(): drops the one Sender (Rust: dropping the last Sender), which is why it is held
//    in a std::optional; recv_or_closed() is Receiver::recv, which fails only once every
//    Sender is gone and the buffer is drained.
//  * fifo_per_producer: every flavour (array, list, rendezvous) delivers in send order.
template <class T>
class Threadbench {
 public:
  static constexpr std::string_view name = "threadbench";
  static constexpr bool fifo_per_producer = true;
  static bool supports(Cap) { return true; }

  explicit Threadbench(Cap cap) : Threadbench(threadbench::make_channel<T>(cap)) {}

  void send(T&& v) {
    if (!tx_->send(std::move(v))) adapter_failure("threadbench send failed (receiver gone?)");
  }
  void recv(T& out) {
    if (!recv_or_closed(out)) adapter_failure("threadbench recv failed (disconnected)");
  }
  bool try_send(T& v) {
    auto r = tx_->try_send(std::move(v));
    if (r) return true;
    if (r.disconnected()) adapter_failure("threadbench try_send: receiver gone");
    v = std::move(r).value();  // full: the value comes back
    return false;
  }
  bool try_recv(T& out) {
    auto r = rx_.try_recv();
    if (!r) return false;
    out = std::move(r).value();
    return true;
  }
  void close() { tx_.reset(); }
  bool recv_or_closed(T& out) {
    auto r = rx_.recv();
    if (!r) return false;
    out = std::move(r).value();
    return true;
  }

 private:
  explicit Threadbench(std::pair<threadbench::Sender<T>, threadbench::Receiver<T>>&& p)
      : tx_(std::move(p.first)), rx_(std::move(p.second)) {}
  std::optional<threadbench::Sender<T>> tx_;  // empty once closed
  threadbench::Receiver<T> rx_;
};

// ---- mutex_deque: the baseline everyone writes first ------------------------------------
// std::deque under one std::mutex, one condition variable per side, notify after unlock.
// Rendezvous (cap 0) is the textbook extension: a sender waits, after pushing, until the
// receivers have popped past its ticket.
// Capabilities, all of them, since the mutex makes each one a few lines:
//  * fifo_per_producer: one deque, so one global order (stronger than per producer).
//  * try_send: false when full; for a rendezvous, when no receiver is waiting for a message
//    (only then can the value be handed over without waiting for the taker).
//  * try_recv: false when empty.
//  * close() / recv_or_closed(): a flag under the mutex; waiting receivers are woken and
//    leave once the deque is drained.
template <class T>
class MutexDeque {
 public:
  static constexpr std::string_view name = "mutex_deque";
  static constexpr bool fifo_per_producer = true;
  static bool supports(Cap) { return true; }

  explicit MutexDeque(Cap cap)
      : limit_(cap ? std::max<std::size_t>(*cap, 1) : 0), rendezvous_(cap && *cap == 0) {}

  void send(T&& v) {
    std::unique_lock lock(mu_);
    if (limit_ != 0) not_full_.wait(lock, [&] { return q_.size() < limit_; });
    push(lock, std::move(v), rendezvous_);
  }
  bool try_send(T& v) {
    std::unique_lock lock(mu_);
    const bool room = rendezvous_ ? waiting_ > q_.size() : limit_ == 0 || q_.size() < limit_;
    if (!room) return false;
    push(lock, std::move(v), false);
    return true;
  }

  void recv(T& out) { (void)recv_or_closed(out); }
  bool try_recv(T& out) {
    std::unique_lock lock(mu_);
    if (q_.empty()) return false;
    pop(lock, out);
    return true;
  }
  void close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    not_empty_.notify_all();
  }
  bool recv_or_closed(T& out) {
    std::unique_lock lock(mu_);
    ++waiting_;
    not_empty_.wait(lock, [&] { return !q_.empty() || closed_; });
    --waiting_;
    if (q_.empty()) return false;  // closed and drained
    pop(lock, out);
    return true;
  }

 private:
  // Appends v and wakes a receiver; with wait_taken (a rendezvous send; a try_send hands
  // over only to a receiver already waiting) it then waits until v has been taken.
  void push(std::unique_lock<std::mutex>& lock, T&& v, bool wait_taken) {
    q_.push_back(std::move(v));
    const std::uint64_t ticket = ++pushed_;
    if (!wait_taken) {
      lock.unlock();
      not_empty_.notify_one();
      return;
    }
    not_empty_.notify_one();
    taken_.wait(lock, [&] { return popped_ >= ticket; });
  }
  void pop(std::unique_lock<std::mutex>& lock, T& out) {
    out = std::move(q_.front());
    q_.pop_front();
    ++popped_;
    lock.unlock();
    if (limit_ != 0) not_full_.notify_one();
    if (rendezvous_) taken_.notify_all();
  }

  const std::size_t limit_;  // 0 = unbounded
  const bool rendezvous_;
  std::mutex mu_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::condition_variable taken_;
  std::deque<T> q_;
  std::uint64_t pushed_ = 0;
  std::uint64_t popped_ = 0;
  std::size_t waiting_ = 0;  // receivers inside recv_or_closed's wait
  bool closed_ = false;
};

// ---- tbb_bounded_queue: tbb::concurrent_bounded_queue -----------------------------------
// Blocking push/pop (TBB's own spin-then-sleep monitors). set_capacity for bounded; left at
// its default (unbounded) otherwise. TBB has no rendezvous: cap 0 is not supported.
// Capabilities:
//  * try_send / try_recv: try_push (returns false when full before it touches the value,
//    so the value stays with the caller) and try_pop.
//  * fifo_per_producer: TBB documents that two values pushed by one thread are popped in
//    the order pushed.
//  * no close(): abort() wakes blocked threads with an exception and does not let the
//    receivers drain what is left, which is not "closed once drained".
template <class T>
class TbbBoundedQueue {
 public:
  static constexpr std::string_view name = "tbb_bounded_queue";
  static constexpr bool fifo_per_producer = true;
  static bool supports(Cap cap) { return !cap || *cap > 0; }

  explicit TbbBoundedQueue(Cap cap) {
    if (cap) q_.set_capacity(static_cast<std::ptrdiff_t>(*cap));
  }
  void send(T&& v) { q_.push(std::move(v)); }
  void recv(T& out) { q_.pop(out); }
  bool try_send(T& v) { return q_.try_push(std::move(v)); }
  bool try_recv(T& out) { return q_.try_pop(out); }

 private:
  tbb::concurrent_bounded_queue<T> q_;
};

// ---- tbb_queue: tbb::concurrent_queue, polled ------------------------------------------
// Unbounded and non-blocking only, so recv polls try_pop with PollBackoff below (pauses that
// double, then sched_yield forever). It never sleeps: this is the "just spin on a lock-free
// queue" design, fast when cores are free and a CPU burner when idle (see channel/idle_recv).
// Capabilities:
//  * try_recv: try_pop.
//  * fifo_per_producer: as for tbb_bounded_queue (same documented guarantee).
//  * no try_send: push never fails and never waits, so a try_send would say nothing send
//    does not; no close(): the queue has no end-of-stream.
template <class T>
class TbbQueue {
 public:
  static constexpr std::string_view name = "tbb_queue";
  static constexpr bool fifo_per_producer = true;
  static bool supports(Cap cap) { return !cap; }

  explicit TbbQueue(Cap) {}
  void send(T&& v) { q_.push(std::move(v)); }
  void recv(T& out) {
    for (PollBackoff backoff; !q_.try_pop(out);) backoff.snooze();
  }
  bool try_recv(T& out) { return q_.try_pop(out); }

 private:
  // The poll loop's own waiting, kept apart from threadbench's (whose Backoff and spin
  // budget are the channel's internals and tuned for it; only the one pause instruction,
  // detail::cpu_relax, is shared): 2^k pause instructions at poll k
  // for k < spin_steps, a sched_yield per poll after that. It never parks.
  class PollBackoff {
   public:
    void snooze() noexcept {
      if (step_ < spin_steps) {
        for (unsigned i = 0; i < (1u << step_); ++i) threadbench::detail::cpu_relax();
        ++step_;
      } else {
        std::this_thread::yield();
      }
    }

   private:
    static constexpr unsigned spin_steps = 7;
    unsigned step_ = 0;
  };

  tbb::concurrent_queue<T> q_;
};

// ---- moodycamel: moodycamel::BlockingConcurrentQueue ------------------------------------
// Unbounded (enqueue allocates as needed; its bounded mode cannot block a sender). Plain
// enqueue/wait_dequeue without tokens: each producer thread gets an implicit sub-queue, the
// usage its README leads with.
// Capabilities:
//  * try_recv: try_dequeue.
//  * fifo_per_producer: a producer's messages stay in order in its own sub-queue (the only
//    order the queue promises: none across producers).
//  * no try_send (enqueue never waits; try_enqueue fails when it would allocate, which is
//    not "full"); no close().
template <class T>
class Moodycamel {
 public:
  static constexpr std::string_view name = "moodycamel";
  static constexpr bool fifo_per_producer = true;
  static bool supports(Cap cap) { return !cap; }

  explicit Moodycamel(Cap) {}
  void send(T&& v) {
    if (!q_.enqueue(std::move(v))) adapter_failure("moodycamel enqueue failed (allocation)");
  }
  void recv(T& out) { q_.wait_dequeue(out); }
  bool try_recv(T& out) { return q_.try_dequeue(out); }

 private:
  moodycamel::BlockingConcurrentQueue<T> q_;
};

// ---- the list, and what the compiler checks about it ------------------------------------
template <template <class> class... Qs>
struct Contenders {};
using BuiltinContenders =
    Contenders<Threadbench, MutexDeque, TbbBoundedQueue, TbbQueue, Moodycamel>;

// Every built-in adapter has the required shape for a word and for a move-only payload, and
// the capabilities its paragraph claims (a lost or misspelt member would otherwise just
// drop it from the scenarios that need it).
template <template <class> class Q>
constexpr bool holds_words_and_boxes =
    Contender<Q<std::uint64_t>, std::uint64_t> &&
    Contender<Q<std::unique_ptr<std::uint64_t>>, std::unique_ptr<std::uint64_t>>;
static_assert(holds_words_and_boxes<Threadbench> && holds_words_and_boxes<MutexDeque> &&
              holds_words_and_boxes<TbbBoundedQueue> && holds_words_and_boxes<TbbQueue> &&
              holds_words_and_boxes<Moodycamel>);
static_assert(CanTrySend<Threadbench<std::uint64_t>, std::uint64_t> &&
              CanTryRecv<Threadbench<std::uint64_t>, std::uint64_t> &&
              CanClose<Threadbench<std::uint64_t>, std::uint64_t>);
static_assert(CanTrySend<MutexDeque<std::uint64_t>, std::uint64_t> &&
              CanTryRecv<MutexDeque<std::uint64_t>, std::uint64_t> &&
              CanClose<MutexDeque<std::uint64_t>, std::uint64_t>);
static_assert(CanTrySend<TbbBoundedQueue<std::uint64_t>, std::uint64_t> &&
              CanTryRecv<TbbBoundedQueue<std::uint64_t>, std::uint64_t>);
static_assert(CanTryRecv<TbbQueue<std::uint64_t>, std::uint64_t> &&
              CanTryRecv<Moodycamel<std::uint64_t>, std::uint64_t>);

}  // namespace bench
