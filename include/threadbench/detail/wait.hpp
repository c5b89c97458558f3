// threadbench/detail/wait.hpp: how a blocked channel operation waits.
//
// Blocking is spin-then-park (DESIGN.md): a short, bounded spin first, because when the
// peer thread is running on another core the hand-off arrives within a few hundred
// nanoseconds and a sleep/wake pair costs tens of microseconds; then a few yields, which
// matter when there are more runnable threads than cores; then a real sleep on a Linux
// futex, so that an idle blocked thread costs no CPU at all.
#pragma once

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>

#include <linux/futex.h>
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

// Exponential spin, then yields. snooze() returns false once the caller should park.
// 1+2+...+64 = 127 pauses is roughly 1-5 us depending on the CPU's pause latency: longer
// than a cross-core hand-off, far shorter than a scheduler tick.
class Backoff {
 public:
  static constexpr unsigned spin_steps = 7;   // steps 0..6 spin 2^step pauses each
  static constexpr unsigned yield_steps = 4;  // then this many sched_yield() calls

  bool snooze() noexcept {
    if (step_ < spin_steps) {
      for (unsigned i = 0; i < (1u << step_); ++i) cpu_relax();
    } else if (step_ < spin_steps + yield_steps) {
      sched_yield();
    } else {
      return false;
    }
    ++step_;
    return true;
  }

 private:
  unsigned step_ = 0;
};

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "the futex word must be a plain 32-bit atomic");

// An event count: a lost-wake-up-free way to sleep until some other condition holds.
//
// Sleeper:   auto t = prepare();  if (condition()) { cancel(); ... }  else sleep(t, dl); ...
// Notifier:  make the condition true with a seq_cst store/RMW, then notify_one/all().
//
// Why no wake-up is lost: the sleeper's registration (seq_cst RMW on count_ followed by a
// seq_cst fence) and the notifier's seq_cst store + seq_cst load of count_ form a Dekker
// pair, so either the sleeper's re-check sees the new condition or the notifier sees the
// sleeper registered and bumps epoch_, which makes the futex wait return at once.
class alignas(cache_line) EventCount {
 public:
  std::uint32_t prepare() noexcept {
    count_.fetch_add(1, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
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

  // Wakes one sleeper. Every woken sleeper re-checks its condition before it leaves, so
  // one wake per state change is enough (a message, a freed slot).
  void notify_one() noexcept { notify(1); }
  // Wakes every sleeper: disconnection, and waits that only their owner can judge.
  void notify_all() noexcept { notify(INT_MAX); }

 private:
  void notify(int n) noexcept {
    if (count_.load(std::memory_order_seq_cst) == 0) return;  // nobody parked: no syscall
    epoch_.fetch_add(1, std::memory_order_release);
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&epoch_), FUTEX_WAKE_PRIVATE, n,
            nullptr, nullptr, 0);
  }

  std::atomic<std::uint32_t> epoch_{0};
  std::atomic<std::uint32_t> count_{0};
};

// Waits for ready() to become true: spin, yield, then park on ec. Returns false when the
// deadline passed first. ready() must be made true by the notifier with a seq_cst
// store/RMW before it calls ec.notify_*().
template <class Ready>
bool wait_until_ready(EventCount& ec, const Deadline& deadline, Ready&& ready) {
  Backoff backoff;
  while (!ready()) {
    if (deadline != never && std::chrono::steady_clock::now() >= deadline) return ready();
    if (backoff.snooze()) continue;
    const auto token = ec.prepare();
    if (ready()) {
      ec.cancel();
      return true;
    }
    ec.sleep(token, deadline);
  }
  return true;
}

}  // namespace threadbench::detail
