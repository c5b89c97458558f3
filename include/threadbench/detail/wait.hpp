// threadbench/detail/wait.hpp: how a blocked channel operation waits.
//
// Blocking is spin-then-park (DESIGN.md): a short, bounded spin first, because when the
// peer thread is running on another core the hand-off arrives within a few hundred
// nanoseconds and a sleep/wake pair costs tens of microseconds; then a few yields, which
// matter when there are more runnable threads than cores; then a real sleep on a Linux
// futex, so that an idle blocked thread costs no CPU at all.
#pragma once

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>

#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

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

// now + d, saturating at never (a huge timeout means "no timeout", not an overflow).
template <class Rep, class Period>
Deadline deadline_after(std::chrono::duration<Rep, Period> d) noexcept {
  const auto now = std::chrono::steady_clock::now();
  if (d <= d.zero()) return now;
  if (d >= std::chrono::duration<double>(never - now)) return never;
  return now + std::chrono::ceil<std::chrono::steady_clock::duration>(d);
}

// Spin, then yield; snooze() returns false once the caller should park. The caller
// re-checks its condition after every pause, so a hand-off is seen within one pause
// (an exponential backoff would add up to its longest step to every hand-off's latency).
// How many pauses is adaptive (EventCount::spin_limit): at most 256, roughly 3-10 us
// depending on the CPU's pause latency, longer than a cross-core hand-off while the peer
// is running and far shorter than a scheduler tick.
class Backoff {
 public:
  static constexpr unsigned yield_polls = 4;  // sched_yield() calls after the spin

  explicit Backoff(unsigned spin_polls) noexcept : spin_polls_(spin_polls) {}
  bool spinning() const noexcept { return step_ < spin_polls_; }

  bool snooze() noexcept {
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

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "the futex word must be a plain 32-bit atomic");

// Asymmetric fences (the technique of liburcu and folly's AsymmetricMemoryBarrier): the
// hot path (every send and receive) pays only a compiler barrier, and the rare path (a
// thread about to sleep) pays for both with membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED),
// which makes every running thread of the process execute a full memory barrier. Where
// the kernel refuses membarrier (old kernel, seccomp), both sides use a seq_cst fence.
inline bool membarrier_usable() noexcept {
  static const bool usable = [] {
    const long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED)) return false;
    return syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
  }();
  return usable;
}

inline void light_fence() noexcept {
  if (membarrier_usable()) {
    std::atomic_signal_fence(std::memory_order_seq_cst);
  } else {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
}

inline void heavy_fence() noexcept {
  if (membarrier_usable()) {
    syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
  } else {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
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
class alignas(cache_line) EventCount {
 public:
  std::uint32_t prepare() noexcept {
    count_.fetch_add(1, std::memory_order_seq_cst);
    heavy_fence();
    return epoch_.load(std::memory_order_acquire);
  }

  void cancel() noexcept { count_.fetch_sub(1, std::memory_order_relaxed); }

  // Sleeps until notified, a spurious wake, or the deadline. Always unregisters.
  void sleep(std::uint32_t token, const Deadline& deadline) noexcept {
    timespec ts{};
    const timespec* abs = nullptr;
    if (deadline != never) {
      // libstdc++'s steady_clock is CLOCK_MONOTONIC, what FUTEX_WAIT_BITSET measures.
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          deadline.time_since_epoch())
                          .count();
      ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
      ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
      abs = &ts;
    }
    if (epoch_.load(std::memory_order_acquire) == token) {
      syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&epoch_), FUTEX_WAIT_BITSET_PRIVATE,
              token, abs, nullptr, FUTEX_BITSET_MATCH_ANY);
    }
    count_.fetch_sub(1, std::memory_order_relaxed);
  }

  // The adaptive spin budget of the waiters here, in polls (min_spin..max_spin):
  //  * a wait that ended while spinning restores the full budget: the peer is running
  //    and spinning pays (a margin far above the typical hand-off also rides out the
  //    hiccups of a virtual machine, where a missed spin costs a ~100 us sleep/wake);
  //  * a wait that ended during the yields that follow the spin halves it: spinning did
  //    not pay off, yielding did (the peer was not running: more threads than cores), so
  //    waiters stop burning the CPU the peer needs;
  //  * a wait that had to sleep leaves it alone (an idle peer says nothing about spinning).
  // Every 16th wait of a thread spins the full max_spin as a probe, so a budget shrunk
  // while the machine was crowded grows back once hand-offs are fast again.
  static constexpr std::uint32_t min_spin = 16, max_spin = 256;
  std::uint32_t spin_limit() const noexcept { return spin_.load(std::memory_order_relaxed); }
  void spin_paid_off() noexcept {
    if (spin_limit() != max_spin) spin_.store(max_spin, std::memory_order_relaxed);
  }
  void spin_wasted() noexcept {
    const std::uint32_t now = spin_limit();
    if (now > min_spin) spin_.store(std::max(min_spin, now / 2), std::memory_order_relaxed);
  }

  // Wakes one sleeper. Every woken sleeper re-checks its condition before it leaves, so
  // one wake per state change is enough (a message, a freed slot).
  void notify_one() noexcept { notify(1); }
  // Wakes every sleeper: disconnection, and waits that only their owner can judge.
  void notify_all() noexcept { notify(INT_MAX); }

 private:
  void notify(int n) noexcept {
    light_fence();
    if (count_.load(std::memory_order_relaxed) == 0) return;  // nobody parked: no syscall
    epoch_.fetch_add(1, std::memory_order_release);
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&epoch_), FUTEX_WAKE_PRIVATE, n,
            nullptr, nullptr, 0);
  }

  std::atomic<std::uint32_t> epoch_{0};
  std::atomic<std::uint32_t> count_{0};
  std::atomic<std::uint32_t> spin_{max_spin};
};

inline bool expired(const Deadline& deadline) noexcept {
  return deadline != never && std::chrono::steady_clock::now() >= deadline;
}

// Waits for ready(exact) to become true: spin, yield, then park on ec. Returns false when
// the deadline passed first. While polling, ready(false) may answer "not yet" cheaply
// (a quick probe); before sleeping, and at the deadline, ready(true) must be exact, since
// a wrong "not yet" then means sleeping through a wake-up (see Ring's probes).
template <class Ready>
bool wait_until_ready(EventCount& ec, const Deadline& deadline, Ready&& ready) {
  if (ready(false)) return true;
  thread_local std::uint32_t waits = 0;
  const bool probe = (++waits % 16) == 0;
  Backoff backoff(probe ? EventCount::max_spin : ec.spin_limit());
  for (;;) {  // spin, then yield
    const bool spinning = backoff.spinning();
    if (!backoff.snooze()) break;
    if (ready(false)) {
      spinning ? ec.spin_paid_off() : ec.spin_wasted();
      return true;
    }
    if (expired(deadline)) return ready(true);
  }
  for (;;) {  // park
    const auto token = ec.prepare();
    if (ready(true)) {
      ec.cancel();
      return true;
    }
    ec.sleep(token, deadline);
    if (ready(false)) return true;
    if (expired(deadline)) return ready(true);
  }
}

}  // namespace threadbench::detail
