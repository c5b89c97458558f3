// threadbench/detail/futex.hpp: sleeping and waking on a 32-bit atomic word with Linux's
// futex(2), private to this process, with a steady_clock deadline.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "threadbench/detail/deadline.hpp"
#include "threadbench/detail/fence.hpp"

namespace threadbench::detail {

// futex(2) on a 32-bit atomic, private to this process.
static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "the futex word must be a plain 32-bit atomic");

// Sleeps while word == expected, until woken, a spurious wake or the deadline. Once the
// fences switched late (fence.hpp), a sleep lasts at most late_switch_sleep.
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

}  // namespace threadbench::detail
