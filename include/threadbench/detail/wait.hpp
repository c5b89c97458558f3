// threadbench/detail/wait.hpp: how a blocked channel operation waits.
//
// Blocking is spin-then-park: a short, bounded spin first, because when the
// peer thread is running on another core the hand-off arrives within a few hundred
// nanoseconds and a sleep/wake pair costs tens of microseconds; then a few yields, which
// matter when there are more runnable threads than cores; then a real sleep on a Linux
// futex, so that an idle blocked thread costs no CPU at all. Also here: the one Backoff
// used by every contended retry and short wait, and deadline arithmetic that cannot overflow.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "threadbench/detail/planted.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace threadbench::detail {

// Separates state written by producers from state written by consumers so the two
// sides do not invalidate each other's cache lines (false sharing).
inline constexpr std::size_t cache_line = 64;

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// When a blocked operation gives up; never = Deadline::max().
using Deadline = std::chrono::steady_clock::time_point;
inline constexpr Deadline never = Deadline::max();

// now + d, saturating: a zero or negative d is "now" (already expired), and a d too large
// to add to now (hours::max(), a NaN or infinite double) is never. The arithmetic runs in
// long double seconds, which cannot overflow for any standard duration, so a timeout of
// centuries waits instead of wrapping around to a deadline in the past.
template <class Rep, class Period>
Deadline deadline_after(std::chrono::duration<Rep, Period> d) noexcept {
  const auto now = std::chrono::steady_clock::now();
  const std::chrono::duration<long double> want(d);
  if (want.count() <= 0) return now;
  const std::chrono::duration<long double> room(never - now);
  if (!(want < room)) return never;  // also catches NaN
  return now + std::chrono::ceil<std::chrono::steady_clock::duration>(want);
}

// A deadline given on any clock, with any duration type. The time left is computed as the
// difference of the two time_since_epoch values in long double seconds: converting either
// time point to a finer integer duration first (as t - Clock::now() does) overflows for
// time_point::min()/max() or for a coarse duration far away. A deadline already past times
// out at once; steady_clock deadlines keep their exact value when representable.
template <class Clock, class Duration>
Deadline deadline_at(std::chrono::time_point<Clock, Duration> t) noexcept {
  using Seconds = std::chrono::duration<long double>;
  if constexpr (std::is_same_v<Clock, std::chrono::steady_clock> &&
                std::is_same_v<Duration, Deadline::duration>) {
    return t;
  } else {
    const auto now = Clock::now();
    const Seconds left = Seconds(t.time_since_epoch()) - Seconds(now.time_since_epoch());
    return deadline_after(left);
  }
}

inline bool expired(const Deadline& deadline) noexcept {
  return deadline != never && std::chrono::steady_clock::now() >= deadline;
}

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

// Polling before a park: poll after every pause (a hand-off is seen within one pause;
// an exponential backoff would add up to its longest step to every hand-off's latency),
// for an adaptive number of polls (SpinBudget), then a few yields, then the caller parks.
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

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "the futex word must be a plain 32-bit atomic");

// Asymmetric fences (the technique of liburcu and folly's AsymmetricMemoryBarrier): the
// hot path (every send and receive) pays only a compiler barrier, and the rare path (a
// thread about to sleep) pays for both with membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED),
// which makes every running thread of the process execute a full memory barrier.
//
// Where the kernel refuses membarrier from the start (old kernel, a seccomp filter), both
// sides use a seq_cst fence. Where it starts failing later (a seccomp filter installed at run
// time), heavy_fence() notices the error return, switches every later fence to seq_cst and
// says so (fences_switched_late()). A notifier that was already past its compiler barrier
// when the switch happened may still miss a sleeper once, so from then on every park sleeps
// at most late_switch_sleep and re-checks: a lost wake-up costs at most that, never a hang.
struct FenceMode {
  std::atomic<bool> real_fences;   // light_fence() is a full fence
  std::atomic<bool> switched_late; // membarrier failed after it had worked
};

inline FenceMode& fence_mode() noexcept {
  static FenceMode mode = [] {
    const long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    const bool usable = cmds >= 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
                        syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
    return FenceMode{!usable, false};
  }();
  return mode;
}

inline bool membarrier_usable() noexcept {
  return !fence_mode().real_fences.load(std::memory_order_relaxed);
}
inline bool fences_switched_late() noexcept {
  return fence_mode().switched_late.load(std::memory_order_relaxed);
}
inline constexpr std::chrono::milliseconds late_switch_sleep{10};

inline void light_fence() noexcept {
  if (membarrier_usable()) {
    std::atomic_signal_fence(std::memory_order_seq_cst);
  } else {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
}

inline void heavy_fence() noexcept {
  if (plant(Bug::no_park_fence)) return;
  if (membarrier_usable()) {
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0) return;
    FenceMode& mode = fence_mode();
    mode.switched_late.store(true, std::memory_order_relaxed);
    mode.real_fences.store(true, std::memory_order_seq_cst);
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

// futex(2) on a 32-bit atomic, private to this process.
static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "the futex word must be a plain 32-bit atomic");

// Sleeps while word == expected, until woken, a spurious wake or the deadline.
inline void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                       Deadline deadline) noexcept {
  if (fences_switched_late()) {
    deadline = std::min(deadline, std::chrono::steady_clock::now() + late_switch_sleep);
  }
  timespec ts{};
  const timespec* abs = nullptr;
  if (deadline != never) {
    // libstdc++'s steady_clock is CLOCK_MONOTONIC, what FUTEX_WAIT_BITSET measures.
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
    ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    abs = &ts;
  }
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_BITSET_PRIVATE, expected,
          abs, nullptr, FUTEX_BITSET_MATCH_ANY);
}

inline void futex_wake(std::atomic<std::uint32_t>& word, int n) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, n, nullptr,
          nullptr, 0);
}

// An event count: a lost-wake-up-free way to sleep until some other condition holds.
//
// Sleeper:   auto t = prepare();  if (condition()) { cancel(); ... }  else sleep(t, dl); ...
// Notifier:  make the condition true (a release store is enough), then notify_one/all().
//
// Why no wake-up is lost: the sleeper registers (count_ += 1) and then runs heavy_fence();
// the notifier stores its condition, runs light_fence() and then reads count_. The pair of
// fences orders each side's store before its load (a Dekker pair), so either the sleeper's
// re-check sees the new condition or the notifier sees the sleeper registered and bumps
// epoch_, which makes the futex wait return at once.
//
// One wake in flight at a time: a sleeper stays counted until it has run again, which
// takes a futex wake-up's latency (microseconds; far more on a busy or virtual machine).
// Without a gate every notify_one in that window makes a futex_wake syscall of its own:
// while one consumer is parked, every send pays a syscall. So bit 0 of epoch_ (pending)
// says "a notify_one's wake is on its way", set in the same atomic step that bumps the wake
// sequence (bits 1..31), and a notify_one that finds it set only leaves its mark (a CAS
// that writes the same word, so that the sleeper who clears the bit synchronises with it)
// and returns. The responsibility for its message passes to the sleepers:
//  * a sleeper clears pending (settle()) when it registers, after its fence and before its
//    exact re-check, and again when it leaves; its token never has the bit set, so a wake
//    that lands after it registered changes the word and ends its futex wait;
//  * a sleeper that got what it waited for after registering calls pass_on(): if others
//    still sleep, it wakes one, since the notifiers it absorbed may have left more messages
//    (or free slots) than it took. One that finds nothing needs no relay: its exact re-check
//    saw the condition false after the notifiers it absorbed, so their messages are gone.
// A wake whose sleeper had already read its token before the bump is caught by that
// token's futex_wait failing at once; a wake that lands before the token read is cleared
// by the sleeper itself, which then re-checks (a bit left set there would swallow every
// later notify_one: stress/channel_pingpong_stress stalled on exactly that in the first
// version of this gate, which cleared the bit before reading the token).
// notify_all (disconnection) always wakes everyone.
class alignas(cache_line) EventCount {
  static constexpr std::uint32_t pending = 1;    // bit 0 of epoch_
  static constexpr std::uint32_t one_wake = 2;   // the wake sequence counts in bits 1..31

 public:
  std::uint32_t prepare() noexcept {
    count_.fetch_add(1, std::memory_order_seq_cst);
    heavy_fence();
    return settle();
  }

  // Unregisters a sleeper that found its condition true after prepare().
  void cancel() noexcept {
    count_.fetch_sub(1, std::memory_order_relaxed);
    settle();
  }

  // Sleeps until notified, a spurious wake, or the deadline. Always unregisters.
  void sleep(std::uint32_t token, const Deadline& deadline) noexcept {
    if (epoch_.load(std::memory_order_acquire) == token) futex_wait(epoch_, token, deadline);
    count_.fetch_sub(1, std::memory_order_relaxed);
    settle();
  }

  // Wakes one sleeper. Every woken sleeper re-checks its condition before it leaves, so
  // one wake per state change is enough (a message, a freed slot).
  void notify_one() noexcept {
    light_fence();
    if (count_.load(std::memory_order_relaxed) == 0) return;  // nobody parked: no syscall
    std::uint32_t w = epoch_.load(std::memory_order_relaxed);
    for (;;) {
      const std::uint32_t next = (w & pending) ? w : (w + one_wake) | pending;
      if (epoch_.compare_exchange_weak(w, next, std::memory_order_acq_rel,
                                       std::memory_order_relaxed)) {
        break;
      }
    }
    if (w & pending) return;  // a wake is on its way; its sleeper answers for this one too
    futex_wake(epoch_, 1);
  }
  // Wakes every sleeper: disconnection, and waits that only their owner can judge.
  void notify_all() noexcept {
    light_fence();
    if (count_.load(std::memory_order_relaxed) == 0) return;
    epoch_.fetch_add(one_wake, std::memory_order_release);
    futex_wake(epoch_, INT_MAX);
  }
  // Called by a sleeper that registered (prepare) and then got what it waited for.
  void pass_on() noexcept {
    if (!plant(Bug::wake_gate_no_relay)) notify_one();
  }

  SpinBudget budget;  // how long this queue's waiters poll before they park

 private:
  // Clears pending (taking over the wake on its way) and returns epoch_ without it.
  std::uint32_t settle() noexcept {
    std::uint32_t w = epoch_.load(std::memory_order_acquire);
    while ((w & pending) != 0 &&
           !epoch_.compare_exchange_weak(w, w & ~pending, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
    }
    return w & ~pending;
  }

  std::atomic<std::uint32_t> epoch_{0};  // wake sequence << 1 | pending (see above)
  std::atomic<std::uint32_t> count_{0};
};

// Waits for ready(exact) to become true: spin, yield, then park on ec. Returns false when
// the deadline passed first. While polling, ready(false) may answer "not yet" cheaply
// (a quick probe); before sleeping, and at the deadline, ready(true) must be exact, since
// a wrong "not yet" then means sleeping through a wake-up (see the ring's probes).
template <class Ready>
bool wait_until_ready(EventCount& ec, const Deadline& deadline, Ready&& ready) {
  if (ready(false)) return true;
  SpinPolls polls(ec.budget.polls());
  while (polls.next()) {  // spin, then yield
    if (ready(false)) {
      ec.budget.ended(polls);
      return true;
    }
    if (expired(deadline)) return ready(true);
  }
  for (;;) {  // park
    const auto token = ec.prepare();
    if (!plant(Bug::park_without_recheck) && ready(true)) {
      ec.cancel();
      ec.pass_on();
      return true;
    }
    ec.sleep(token, deadline);
    if (ready(false) || (expired(deadline) && ready(true))) {
      ec.pass_on();
      return true;
    }
    if (expired(deadline)) return false;
  }
}

}  // namespace threadbench::detail
