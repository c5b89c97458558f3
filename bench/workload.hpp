// bench/workload.hpp: calibrated CPU work ("burn about N ns") for the benchmarks that need a
// task of a known length (pool_bench), and the thread CPU-time clock it is calibrated with.
// Benchmark tooling, not part of the library under test.
//
//   bench::workload::calibrate();                        // once, before anything is timed
//   const auto work = bench::workload::Work::of(std::chrono::microseconds(1));
//   sink ^= work(seed);                                  // ~1 us of pure CPU
//
// The kernel is a chain of dependent 64-bit multiply-adds (an LCG). Each step depends on
// the last, so the CPU cannot overlap steps, and an empty asm statement that "modifies"
// the value makes it opaque to the optimiser: no closed form, no vectorisation, no
// hoisting, and the loop stays even when the result is thrown away. The kernel touches no
// memory, so the time it takes does not depend on cache state or on other threads.
//
// Calibration measures the kernel once per process with the thread's own CPU-time clock
// (bench::thread_cpu_ns, CLOCK_THREAD_CPUTIME_ID), so that time during which another
// process held the core does not count, and keeps the fastest of several trials (the run
// least disturbed by interrupts and frequency changes). It fits cost = fixed + steps / rate
// from short and long calls made back to back, exactly as tasks run. Work::of(d) then
// converts a duration into a step count; a Work object does no clock reads and no look-ups
// when it runs. The Rust and Go peers (bench/rust, bench/go) port the same kernel and
// calibration, so a grain means the same thing in every language.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>

#include <time.h>

namespace bench {

// CPU time the calling thread has used, in ns (CLOCK_THREAD_CPUTIME_ID): time during which
// the thread was descheduled does not count. Also what bench/kit.hpp offers the benches.
inline double thread_cpu_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

}  // namespace bench

namespace bench::workload {

namespace detail {
// Out-of-order cores overlap independent dependency chains: without a fence, back-to-back
// 100 ns tasks run in ~65 ns because the next task's chain starts while the last one
// drains. lfence (dispatch-serialising on Intel, and on AMD with the Spectre-era MSR bit
// every current kernel sets) makes a task start after the previous code has finished and
// end before the following code starts. Elsewhere, a compiler barrier only.
inline void fence() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("lfence" ::: "memory");
#else
  asm volatile("" ::: "memory");
#endif
}
}  // namespace detail

// n dependent LCG steps from seed; returns the last value (feed it to a sink if you like;
// the loop is kept either way).
inline std::uint64_t spin(std::uint64_t n, std::uint64_t seed = 0x9e3779b97f4a7c15ULL) noexcept {
  std::uint64_t x = seed;
  detail::fence();
  for (std::uint64_t i = 0; i < n; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;  // Knuth's MMIX LCG
    asm volatile("" : "+r"(x));  // x is now "unknown": every step must really run
  }
  detail::fence();
  return x;
}

namespace detail {

// Thread CPU ns per spin(n) call, from `calls` back-to-back calls (the way tasks run).
inline double ns_per_call(std::uint64_t n, std::uint64_t calls) noexcept {
  std::uint64_t sink = 0;
  const double t0 = thread_cpu_ns();
  for (std::uint64_t i = 0; i < calls; ++i) sink += spin(n, i);
  const double t1 = thread_cpu_ns();
  asm volatile("" : : "r"(sink));
  return (t1 - t0) / static_cast<double>(calls);
}

struct Model {
  double steps_per_ns;  // slope: how fast the chain runs
  double fixed_ns;      // intercept: a call's own cost (fences, loop exit), steps aside
};

// A call costs fixed_ns + n / steps_per_ns. Two points fix the line: short calls (32 steps,
// a task of a few tens of ns, where the fixed cost shows) and long ones (4096 steps, where
// it vanishes). Each point is the fastest of 7 trials of ~2 ms of CPU time: long enough
// for the clock's resolution (~1 us on some VMs) to be noise, short enough that a trial
// rarely contains an interrupt; the fastest is the least disturbed.
inline Model measure() noexcept {
  constexpr std::uint64_t n_short = 32;
  constexpr std::uint64_t n_long = 4096;
  (void)ns_per_call(n_long, 256);  // warm-up, and a first speed estimate below
  const double guess = std::max(ns_per_call(n_long, 256), 1.0);
  const auto calls_long = static_cast<std::uint64_t>(std::max(2e6 / guess, 16.0));
  const auto calls_short = calls_long * (n_long / n_short) / 2;
  double t_short = 1e300;
  double t_long = 1e300;
  for (int trial = 0; trial < 7; ++trial) {
    t_short = std::min(t_short, ns_per_call(n_short, calls_short));
    t_long = std::min(t_long, ns_per_call(n_long, calls_long));
  }
  const double rate = static_cast<double>(n_long - n_short) / std::max(t_long - t_short, 1e-3);
  const double fixed = std::max(t_short - static_cast<double>(n_short) / rate, 0.0);
  return {rate, fixed};
}

inline const Model& model() noexcept {
  static const Model m = measure();
  return m;
}

}  // namespace detail

// Kernel steps per nanosecond on this machine (measured on first use; thread-safe).
inline double steps_per_ns() noexcept { return detail::model().steps_per_ns; }
// The cost of one call beyond its steps (fences, loop exit), in ns.
inline double fixed_ns() noexcept { return detail::model().fixed_ns; }

// Runs the calibration now, so that it does not land inside a timed region.
inline void calibrate() noexcept { (void)detail::model(); }

// A fixed amount of calibrated CPU work. Work::of(d) runs for about d (never less than a
// call's fixed cost, ~10-30 ns: asking for less gives zero steps).
class Work {
 public:
  Work() = default;
  static Work of(std::chrono::nanoseconds d) noexcept {
    const double steps =
        std::round((static_cast<double>(d.count()) - fixed_ns()) * steps_per_ns());
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

}  // namespace bench::workload
