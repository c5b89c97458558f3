// threadbench/workload.hpp: calibrated CPU work ("burn about N ns"), shared by bench/ and
// stress/.
//
//   threadbench::workload::calibrate();                  // once, before anything is timed
//   const auto work = threadbench::workload::Work::of(std::chrono::microseconds(1));
//   sink ^= work(seed);                                  // ~1 us of pure CPU
//
// The kernel is a chain of dependent 64-bit multiply-adds (an LCG). Each step depends on
// the last, so the CPU cannot overlap steps, and an empty asm statement that "modifies"
// the value makes it opaque to the optimiser: no closed form, no vectorisation, no
// hoisting, and the loop stays even when the result is thrown away. The kernel touches no
// memory, so the time it takes does not depend on cache state or on other threads.
//
// Calibration measures the kernel once per process with the thread's own CPU-time clock
// (CLOCK_THREAD_CPUTIME_ID), so that time during which another process held the core does
// not count, and keeps the fastest of several trials (the run least disturbed by
// interrupts and frequency changes). Work::of(d) then converts a duration into a step
// count; a Work object does no clock reads and no calibration look-ups when it runs.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>

#include <time.h>

namespace threadbench::workload {

// n dependent LCG steps from seed; returns the last value (feed it to a sink if you like;
// the loop is kept either way).
inline std::uint64_t spin(std::uint64_t n, std::uint64_t seed = 0x9e3779b97f4a7c15ULL) noexcept {
  std::uint64_t x = seed;
  for (std::uint64_t i = 0; i < n; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;  // Knuth's MMIX LCG
    asm volatile("" : "+r"(x));  // x is now "unknown": every step must really run
  }
  return x;
}

namespace detail {

inline double thread_cpu_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// Steps per ns of thread CPU time for a run of n steps.
inline double rate(std::uint64_t n) noexcept {
  const double t0 = thread_cpu_ns();
  const std::uint64_t x = spin(n);
  const double t1 = thread_cpu_ns();
  asm volatile("" : : "r"(x));
  return static_cast<double>(n) / std::max(t1 - t0, 1.0);
}

inline double measure_steps_per_ns() noexcept {
  // A first guess from ~100k steps, then trials of ~2 ms each: long enough that the clock's
  // resolution (~1 us on some VMs) is noise below 0.1%, short enough that a trial rarely
  // contains an interrupt. Seven trials, keep the fastest: ~15 ms once per process.
  double best = rate(1u << 17);
  const auto n = static_cast<std::uint64_t>(best * 2e6);
  for (int trial = 0; trial < 7; ++trial) best = std::max(best, rate(n));
  return best;
}

}  // namespace detail

// Kernel steps per nanosecond on this machine (measured on first use; thread-safe).
inline double steps_per_ns() noexcept {
  static const double v = detail::measure_steps_per_ns();
  return v;
}

// Runs the calibration now, so that it does not land inside a timed region.
inline void calibrate() noexcept { (void)steps_per_ns(); }

// A fixed amount of calibrated CPU work.
class Work {
 public:
  Work() = default;
  static Work of(std::chrono::nanoseconds d) noexcept {
    const double steps = std::round(static_cast<double>(d.count()) * steps_per_ns());
    return Work(static_cast<std::uint64_t>(std::max(steps, 0.0)), d);
  }
  static Work of_ns(std::uint64_t ns) noexcept {
    return of(std::chrono::nanoseconds(static_cast<std::int64_t>(ns)));
  }

  // Burns the CPU for about duration(); the result depends on seed (use it or drop it).
  std::uint64_t operator()(std::uint64_t seed = 0x9e3779b97f4a7c15ULL) const noexcept {
    return spin(steps_, seed);
  }
  std::uint64_t steps() const noexcept { return steps_; }
  std::chrono::nanoseconds duration() const noexcept { return nominal_; }

 private:
  Work(std::uint64_t steps, std::chrono::nanoseconds d) noexcept : steps_(steps), nominal_(d) {}
  std::uint64_t steps_ = 0;
  std::chrono::nanoseconds nominal_{0};
};

// Burns about d of CPU time (converts on every call; prefer a Work object in loops).
inline std::uint64_t burn(std::chrono::nanoseconds d, std::uint64_t seed = 1) noexcept {
  return Work::of(d)(seed);
}

}  // namespace threadbench::workload
