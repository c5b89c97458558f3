// threadbench/detail/cpu.hpp: the two facts about the CPU that the channel is built around:
// the cache-line size its layout pads to, and the pause instruction its spins execute.
#pragma once

#include <cstddef>

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

}  // namespace threadbench::detail
