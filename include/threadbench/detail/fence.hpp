// threadbench/detail/fence.hpp: the asymmetric fence pair of the park handshake
// (event_count.hpp): light_fence() on the hot path, heavy_fence() before a thread sleeps,
// with membarrier(2) where the kernel allows it and seq_cst fences where it does not.
#pragma once

#include <atomic>
#include <chrono>

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "threadbench/detail/planted.hpp"

namespace threadbench::detail {

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

}  // namespace threadbench::detail
