// threadbench/detail/spin.hpp: how long a waiter polls before it parks. SpinPolls is one
// wait's poll schedule (pauses, then a few yields); SpinBudget is the adaptive number of
// pauses shared by the waiters of one wait queue; step_off_if_crowded() is the short nap a
// waiter takes now and then while its process's threads are being preempted.
// (Why spin, then yield, then park: wait.hpp.)
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

#include <sched.h>
#include <sys/resource.h>
#include <time.h>

#include "threadbench/detail/cpu.hpp"

namespace threadbench::detail {

// Polling before a park: poll after every pause (a hand-off is seen within one pause;
// an exponential backoff would add up to its longest step to every hand-off's latency),
// for an adaptive number of polls (SpinBudget), then a few yields, then the caller parks.
// Measured (issue 19, 2-vCPU AMD EPYC VM, 10 alternated processes a side, commit 8a74a4e):
// polls spaced 1, 2, 4, 8, then 16 pauses apart (the same pause budget), which would leave
// a producer's line alone longer, made nothing faster and mpsc 2p cap:1024 2.9x slower
// (interval 1.45-4.11), ping_pong cap:1 1.19x, spsc unbounded 1 KiB 1.07x (0.75-1.29).
class SpinPolls {
 public:
  static constexpr unsigned yield_polls = 4;  // sched_yield() calls after the spin

  explicit SpinPolls(unsigned spin_polls) noexcept : spin_polls_(spin_polls) {}
  // Were the polls so far all spin polls (no yield yet)?
  bool spinning() const noexcept { return step_ <= spin_polls_; }

  // false once the caller should park.
  bool next() noexcept {
    if (step_ < spin_polls_) {
      cpu_relax();
    } else if (step_ < spin_polls_ + yield_polls) {
      sched_yield();
    } else {
      return false;
    }
    ++step_;
    return true;
  }

 private:
  unsigned spin_polls_;
  unsigned step_ = 0;
};

// The adaptive spin budget of the waiters of one wait queue, in polls (min..max):
//  * a wait that ended while spinning restores the full budget: the peer is running and
//    spinning pays (a margin far above the typical hand-off also rides out the hiccups of a
//    virtual machine, where a missed spin costs a ~100 us sleep/wake);
//  * a wait that ended during the yields that follow the spin shrinks it by 1/8: spinning
//    did not pay off, yielding did (the peer was not running: more threads than cores), so
//    waiters stop burning the CPU the peer needs. Only by 1/8: a wait that outlasts the spin
//    now and then (the peer was preempted once) must not undo what thousands of quick
//    hand-offs showed. Halving did exactly that: four such waits took the budget from 256
//    to 16 polls, below a 2-core VM's ~300 ns hand-off, after which most waits ended in
//    sched_yield() and ping_pong's median round trip went from ~0.5 to ~2 us. A run where
//    most waits outlast the spin (oversubscribed) still reaches the floor in ~20 waits;
//  * a wait that had to sleep leaves it alone (an idle peer says nothing about spinning).
// Every 16th wait of a thread spins the full max as a probe (polls()), so a budget shrunk
// while the machine was crowded grows back once hand-offs are fast again.
class SpinBudget {
 public:
  static constexpr std::uint32_t min = 16, max = 256;
  std::uint32_t polls() const noexcept {
    thread_local std::uint32_t waits = 0;
    return (++waits % 16) == 0 ? max : spin_.load(std::memory_order_relaxed);
  }
  void ended(const SpinPolls& polls) noexcept {
    const std::uint32_t now = spin_.load(std::memory_order_relaxed);
    if (polls.spinning()) {
      if (now != max) spin_.store(max, std::memory_order_relaxed);
    } else if (now > min) {
      spin_.store(std::max(min, now - now / 8), std::memory_order_relaxed);
    }
  }

 private:
  std::atomic<std::uint32_t> spin_{max};
};

// Stepping off the CPU while the process's threads keep being preempted (more runnable
// threads than cores, or other processes wanting the cores: either way a spin holds a core
// somebody is waiting for).
//
// A waiter whose messages keep coming within its spin never parks, so it holds its core
// for as long as it waits. With one thread more than there are cores, Linux can settle
// that waiter alone on one core and the threads it waits for together on the other, and
// nothing moves them: the waiter's core is never idle, and sched_yield() there finds
// nobody to yield to. Measured (issue 19, 2-vCPU AMD EPYC VM): the Rust book's pool with 2
// workers (pool/channel_workers, grain 1 us, T=2) sat that way in 60-80% of its 3 ms jobs,
// the caller using 0.6-1.0 of a core to receive results it needs a few percent of one
// for: ~0.8 M tasks/s in those jobs against ~1.3 M when it shared a core with a worker.
// (The rendezvous flavour waits in zero.hpp's own loop, which neither naps nor counts.)
// Only a core going idle makes the scheduler pull a waiting thread over, so a waiter
// naps (crowd_nap_ns, a real sleep) now and then while its process is crowded:
//  * every 1024th wait of a thread (a blocking wait with no deadline that found nothing
//    at its first poll) looks at the process's involuntary context switches
//    (getrusage, ~1.5 us there) and the clock;
//  * once a look is crowd_window after the thread's window began, the window is judged:
//    crowded when its threads were preempted at least twice and once per 2 ms. That pool
//    saw ~0.65 preemptions a ms; two threads on two cores (ping_pong, spawn/pool_dispatch)
//    ~0.05 a ms, the machine's own housekeeping, where every nap is lost latency;
//  * while the last window judged was crowded, every 256th wait naps (the judgement holds
//    until the next look that closes a window), but a thread naps at most once per
//    crowd_nap_gap (0.25 ms). Without that gap a thread of a fast flow naps for the rest
//    of any window judged crowded: spsc cap:1 makes ~4 M waits a second, so every 256th
//    was a nap every ~65 us, and a 4 ms window in which the host preempted it a few times
//    became mostly naps (64-128 naps in a 0.2-0.3 s run; its fast processes, ~110 ns a
//    message, ran 1.57x slower than before the nap, 1.30-1.76). With the gap, alternated
//    against the same code without it: spsc cap:1 0.95x the time (0.91-0.99, 100
//    processes a side), the same as no nap at all (0.94x); the pool at T=2 0.98x the
//    tasks/s (0.96-1.01, 20 a side), where no nap gives 0.83x. A 1 ms gap cost the pool
//    as much as no nap (0.78x).
// The nap itself (before the gap), against no nap, 40 alternated processes a side on the
// same VM: channel_workers grain 1 us T=2 1.43x the tasks/s (1.38-1.47), pool_dispatch
// 1.03x its time (0.93-1.20, no significant change). Napping after any preemption
// instead (8 looks in a row) cost pool_dispatch's round trip 1.22x (1.12-1.42): a kernel
// thread preempts one of its two threads every ~20 ms. Looking every 256th wait cost
// pool_dispatch ~1% in getrusage alone (5500 looks in a 0.75 s run); every 1024th kept
// the pool's gain (tasks/s 1.02x of that, 0.998-1.040).
// Shortening the spin instead (SpinBudget::max 64, so that the pool's caller reaches its
// yields) did nothing the nap does not: with the nap in, pool_dispatch 1.04-1.10x slower,
// the pool at T=2 0.81-1.06x, ping_pong within noise.
inline constexpr unsigned crowd_look_every = 1024;  // waits of a thread between two looks
inline constexpr unsigned crowd_nap_every = 256;    // waits between two naps while crowded
inline constexpr std::int64_t crowd_window_ns = 4'000'000;
inline constexpr std::int64_t crowd_ns_per_preemption = 2'000'000;  // crowded at this rate
inline constexpr long crowd_nap_ns = 20'000;  // the nap (the timer slack comes on top)
inline constexpr std::int64_t crowd_nap_gap_ns = 250'000;  // a thread's naps at least this apart

inline std::int64_t monotonic_ns(const timespec& t) noexcept {
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

// The state of one thread's looks and naps.
struct CrowdLook {
  unsigned waits = 0;
  bool crowded = false;    // the last window judged was crowded
  long preempted = -1;     // the process's ru_nivcsw when the current window began
  std::int64_t since = 0;  // when it began (CLOCK_MONOTONIC ns)
  std::int64_t napped = 0;  // when this thread's last nap ended (CLOCK_MONOTONIC ns)

  void look() noexcept {
    rusage ru{};
    timespec now{};
    if (getrusage(RUSAGE_SELF, &ru) != 0 || clock_gettime(CLOCK_MONOTONIC, &now) != 0) return;
    const std::int64_t t = monotonic_ns(now);
    if (preempted < 0) {
      preempted = ru.ru_nivcsw;
      since = t;
    } else if (t - since >= crowd_window_ns) {
      const long n = ru.ru_nivcsw - preempted;
      crowded = n >= 2 && n * crowd_ns_per_preemption >= t - since;
      preempted = ru.ru_nivcsw;
      since = t;
    }
  }
};

// Called at the start of a wait; returns true if it napped (the caller should poll again).
inline bool step_off_if_crowded() noexcept {
  thread_local CrowdLook me;
  ++me.waits;
  if (me.waits % crowd_look_every == 0) me.look();
  if (!me.crowded || me.waits % crowd_nap_every != 0) return false;
  timespec now{};
  if (clock_gettime(CLOCK_MONOTONIC, &now) != 0) return false;
  if (monotonic_ns(now) - me.napped < crowd_nap_gap_ns) return false;
  const timespec nap{0, crowd_nap_ns};
  nanosleep(&nap, nullptr);
  if (clock_gettime(CLOCK_MONOTONIC, &now) == 0) me.napped = monotonic_ns(now);
  return true;
}

}  // namespace threadbench::detail
