// threadbench/kit/short_slices.hpp: short scheduler time slices for the tests and stress
// harnesses (not for the benchmarks, and not part of the channel), so that a hand-off between
// two threads does not wait for a CPU-bound neighbour's whole slice on a busy machine.
//
// Why: Linux 6.6+ schedules ordinary threads with EEVDF. A thread woken by a hand-off (a
// futex wake from the channel) no longer jumps ahead of CPU-bound threads that have the same
// share of the CPU; it waits until the running one's slice ends (about 3 ms on 2 CPUs). A
// test that hands 40,000 messages between two threads then waits that long for each: beside
// four CPU-bound threads of another program on the 2-vCPU Debian VM (kernel 6.18, autogroup
// off, as on a CI runner whose jobs share one scheduling group), channel_pingpong_stress
// took 113 s (a round trip 5 ms) instead of 6 s, and litmus_stress more than ctest's 300 s.
// Such a test checks correctness, not speed: the wait is the scheduler's, and it only makes
// a busy CI run time out.
//
// What: since Linux 6.12 a thread may ask for a shorter slice (sched_setattr() with
// sched_runtime, for SCHED_OTHER; the kernel keeps it within 0.1-100 ms). A thread with a
// short slice has an early virtual deadline, so when it wakes it runs at once. Asked for in
// main before any thread starts, every thread the process starts inherits it. Measured the
// same way: channel_pingpong_stress 8 s (a round trip 0.14-1.7 ms). On older kernels
// sched_runtime is ignored for SCHED_OTHER, so the request is harmless there.
//
// THREADBENCH_SHORT_SLICES=0 leaves the kernel's default slice (to run a check under the
// default scheduling); 1 or unset asks for short slices; anything else is a usage error.
#pragma once

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace threadbench::kit {

// The kernel's struct sched_attr (sched_setattr(2)): declared here because
// <linux/sched/types.h> clashes with glibc's <sched.h>.
struct SchedAttr {
  std::uint32_t size;
  std::uint32_t sched_policy;
  std::uint64_t sched_flags;
  std::int32_t sched_nice;
  std::uint32_t sched_priority;
  std::uint64_t sched_runtime;  // for SCHED_OTHER on Linux 6.12+: the thread's slice, in ns
  std::uint64_t sched_deadline;
  std::uint64_t sched_period;
  std::uint32_t sched_util_min;
  std::uint32_t sched_util_max;
};

// The slice asked for: the kernel's minimum.
inline constexpr std::uint64_t short_slice_ns = 100'000;

// The calling thread's slice as the kernel reports it, in ns: Linux 6.12+ reports the slice in
// force for SCHED_OTHER (its default, or one asked for); older kernels report 0, as does a
// kernel without sched_getattr. A non-zero value says that the kernel can grant short slices.
inline std::uint64_t slice_in_force_ns() noexcept {
#if defined(__linux__) && defined(SYS_sched_getattr)
  SchedAttr attr{};
  if (::syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0) != 0) return 0;
  return attr.sched_policy == 0 ? attr.sched_runtime : 0;
#else
  return 0;
#endif
}

// THREADBENCH_SHORT_SLICES=0: the caller asked for the kernel's default slice.
inline bool short_slices_turned_off() noexcept {
  const char* e = std::getenv("THREADBENCH_SHORT_SLICES");
  return e != nullptr && std::strcmp(e, "0") == 0;
}

// Asks for short_slice_ns slices for the calling thread (and the threads it starts from now
// on), keeping its nice value. Returns the slice in force afterwards, in ns (0 when it
// cannot be read: no sched_getattr, not Linux 6.12+). Call it in main before any thread
// starts. Exits 2 with one line when THREADBENCH_SHORT_SLICES is neither 0 nor 1.
inline std::uint64_t ask_for_short_slices() {
#if defined(__linux__) && defined(SYS_sched_setattr) && defined(SYS_sched_getattr)
  if (short_slices_turned_off()) return 0;
  if (const char* e = std::getenv("THREADBENCH_SHORT_SLICES"); e != nullptr && *e != '\0') {
    if (std::strcmp(e, "1") != 0) {
      std::fprintf(stderr, "error: THREADBENCH_SHORT_SLICES='%s': use 0 (the kernel's default slice) or 1\n", e);
      std::exit(2);
    }
  }
  SchedAttr attr{};
  if (::syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0) != 0) return 0;
  if (attr.sched_policy != 0) return 0;  // not SCHED_OTHER (a real-time policy, batch, idle)
  attr.size = sizeof attr;
  attr.sched_flags = 0;
  attr.sched_runtime = short_slice_ns;
  if (::syscall(SYS_sched_setattr, 0, &attr, 0) != 0) return 0;
  return slice_in_force_ns();
#else
  return 0;
#endif
}

}  // namespace threadbench::kit
