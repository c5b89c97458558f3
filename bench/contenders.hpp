// bench/contenders.hpp: one thin adapter per queue that the channel benchmarks compare.
//
// Every adapter Q<T> has the same shape, so each scenario is written once, as a template:
//
//   static constexpr std::string_view name;   // the impl:<name> key in benchmark names
//   static bool supports(Cap cap);             // can it honestly do this capacity?
//   explicit Q(Cap cap);
//   void send(T&& v);                          // blocks while full (rendezvous: until taken)
//   void recv(T& out);                         // blocks until a message arrives
//
// All operations may be called from any number of threads at once (MPMC). There is no
// close(): the scenarios end a stream with in-band markers (see channel_bench.cpp), which
// every queue here can carry, so no queue is charged for a feature another lacks.
//
// A capacity an adapter cannot really provide (TBB has no rendezvous; moodycamel and
// tbb::concurrent_queue cannot block a sender) is reported by supports() and the benchmark
// is not registered: never emulated, never faked.
//
// Adding a contender = one more adapter here + one line in the impl lists of the benches.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include <concurrentqueue/blockingconcurrentqueue.h>
#include <tbb/concurrent_queue.h>

#include "threadbench/channel.hpp"

namespace bench {

// nullopt = unbounded; 0 = rendezvous; n = at most n buffered messages.
using Cap = std::optional<std::size_t>;

inline std::string cap_label(Cap cap) {
  return cap ? std::to_string(*cap) : std::string("unbounded");
}

[[noreturn]] inline void adapter_failure(const char* what) {
  std::fprintf(stderr, "contenders.hpp: %s\n", what);
  std::abort();
}

// ---- threadbench: the channel under test (channel.hpp) ----------------------------------
// One Sender and the Receiver, both shared by reference across threads: Shared<T> does all
// the synchronisation, so this is what N cloned Senders would do too (a clone only copies
// the pointer and bumps a count).
template <class T>
class Threadbench {
 public:
  static constexpr std::string_view name = "threadbench";
  static bool supports(Cap) { return true; }

  explicit Threadbench(Cap cap) : Threadbench(threadbench::make_channel<T>(cap)) {}

  void send(T&& v) {
    if (!tx_.send(std::move(v))) adapter_failure("threadbench send failed (receiver gone?)");
  }
  void recv(T& out) {
    auto r = rx_.recv();
    if (!r) adapter_failure("threadbench recv failed (disconnected?)");
    out = std::move(r.value());
  }

 private:
  explicit Threadbench(std::pair<threadbench::Sender<T>, threadbench::Receiver<T>>&& p)
      : tx_(std::move(p.first)), rx_(std::move(p.second)) {}
  threadbench::Sender<T> tx_;
  threadbench::Receiver<T> rx_;
};

// ---- mutex_deque: the baseline everyone writes first ------------------------------------
// std::deque under one std::mutex, one condition variable per side, notify after unlock.
// Rendezvous (cap 0) is the textbook extension: a sender waits, after pushing, until the
// receivers have popped past its ticket.
template <class T>
class MutexDeque {
 public:
  static constexpr std::string_view name = "mutex_deque";
  static bool supports(Cap) { return true; }

  explicit MutexDeque(Cap cap)
      : limit_(cap ? std::max<std::size_t>(*cap, 1) : 0), rendezvous_(cap && *cap == 0) {}

  void send(T&& v) {
    std::unique_lock lock(mu_);
    if (limit_ != 0) not_full_.wait(lock, [&] { return q_.size() < limit_; });
    q_.push_back(std::move(v));
    const std::uint64_t ticket = ++pushed_;
    if (!rendezvous_) {
      lock.unlock();
      not_empty_.notify_one();
      return;
    }
    not_empty_.notify_one();
    taken_.wait(lock, [&] { return popped_ >= ticket; });
  }

  void recv(T& out) {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return !q_.empty(); });
    out = std::move(q_.front());
    q_.pop_front();
    ++popped_;
    lock.unlock();
    if (limit_ != 0) not_full_.notify_one();
    if (rendezvous_) taken_.notify_all();
  }

 private:
  const std::size_t limit_;  // 0 = unbounded
  const bool rendezvous_;
  std::mutex mu_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::condition_variable taken_;
  std::deque<T> q_;
  std::uint64_t pushed_ = 0;
  std::uint64_t popped_ = 0;
};

// ---- tbb_bounded_queue: tbb::concurrent_bounded_queue -----------------------------------
// Blocking push/pop (TBB's own spin-then-sleep monitors). set_capacity for bounded; left at
// its default (unbounded) otherwise. TBB has no rendezvous: cap 0 is not supported.
template <class T>
class TbbBoundedQueue {
 public:
  static constexpr std::string_view name = "tbb_bounded_queue";
  static bool supports(Cap cap) { return !cap || *cap > 0; }

  explicit TbbBoundedQueue(Cap cap) {
    if (cap) q_.set_capacity(static_cast<std::ptrdiff_t>(*cap));
  }
  void send(T&& v) { q_.push(std::move(v)); }
  void recv(T& out) { q_.pop(out); }

 private:
  tbb::concurrent_bounded_queue<T> q_;
};

// ---- tbb_queue: tbb::concurrent_queue, polled ------------------------------------------
// Unbounded and non-blocking only, so recv polls try_pop: 2^k pauses for k < 7 (the same
// spin budget as threadbench's Backoff), then sched_yield forever. It never sleeps: this is
// the "just spin on a lock-free queue" design, fast when cores are free and a CPU burner
// when idle (see channel/idle_recv).
template <class T>
class TbbQueue {
 public:
  static constexpr std::string_view name = "tbb_queue";
  static bool supports(Cap cap) { return !cap; }

  explicit TbbQueue(Cap) {}
  void send(T&& v) { q_.push(std::move(v)); }
  void recv(T& out) {
    for (unsigned step = 0; !q_.try_pop(out); ++step) {
      if (step < 7) {
        for (unsigned i = 0; i < (1u << step); ++i) threadbench::detail::cpu_relax();
      } else {
        std::this_thread::yield();
      }
    }
  }

 private:
  tbb::concurrent_queue<T> q_;
};

// ---- moodycamel: moodycamel::BlockingConcurrentQueue ------------------------------------
// Unbounded (enqueue allocates as needed; its bounded mode cannot block a sender). Plain
// enqueue/wait_dequeue without tokens: each producer thread gets an implicit sub-queue, the
// usage its README leads with. Ordering is FIFO per producer only, which is all the
// end-of-stream markers in channel_bench.cpp need.
template <class T>
class Moodycamel {
 public:
  static constexpr std::string_view name = "moodycamel";
  static bool supports(Cap cap) { return !cap; }

  explicit Moodycamel(Cap) {}
  void send(T&& v) {
    if (!q_.enqueue(std::move(v))) adapter_failure("moodycamel enqueue failed (allocation)");
  }
  void recv(T& out) { q_.wait_dequeue(out); }

 private:
  moodycamel::BlockingConcurrentQueue<T> q_;
};

}  // namespace bench
