// threadbench/detail/backoff.hpp: short waits for another thread's next step. The one
// Backoff used by every contended retry and short wait (a failed CAS, a slot claimed and
// not yet written, a block not yet installed), and the SpinLock built on it.
#pragma once

#include <algorithm>
#include <atomic>

#include <sched.h>

#include "threadbench/detail/cpu.hpp"

namespace threadbench::detail {

// The one backoff for contended retries and short waits (crossbeam-utils' Backoff, in
// spirit): pauses that double with every step, capped, then yields.
//  * spin():   after a failed CAS. Another thread won, so the state moved on: retry soon,
//              but spread the retries of many threads out (8 producers re-reading one tail
//              line at once is a cache-line storm), at most 2^spin_limit pauses. Never yields.
//  * snooze(): waiting for another thread to finish a step it started (write a claimed slot,
//              release a lock, install the next block): the same doubling pauses, then
//              sched_yield(), since that thread may have been preempted (more threads than
//              cores) and needs this CPU to finish.
class Backoff {
 public:
  static constexpr unsigned spin_limit = 6;    // at most 64 pauses per step
  static constexpr unsigned yield_limit = 10;  // the step count stops growing here

  void spin() noexcept {
    pause(std::min(step_, spin_limit));
    if (step_ <= spin_limit) ++step_;
  }
  void snooze() noexcept {
    if (step_ <= spin_limit) {
      pause(step_);
    } else {
      sched_yield();
    }
    if (step_ <= yield_limit) ++step_;
  }

 private:
  static void pause(unsigned step) noexcept {
    for (unsigned i = 0; i < (1u << step); ++i) cpu_relax();
  }
  unsigned step_ = 0;
};

// A test-and-test-and-set lock for critical sections of a few dozen instructions (the
// rendezvous flavour's waiter lists): spinning costs less than the futex round trip a
// std::mutex makes under contention; the Backoff yields to a preempted holder.
class SpinLock {
 public:
  void lock() noexcept {
    Backoff backoff;
    while (locked_.exchange(true, std::memory_order_acquire)) {
      while (locked_.load(std::memory_order_relaxed)) backoff.snooze();
    }
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace threadbench::detail
