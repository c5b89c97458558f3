// bench/kit.hpp: what every bench/*_bench.cpp shares, written once: benchmark names,
// registration, the program's main, result tallies and the clocks.
//
//   Name("channel", "spsc").key("impl", "threadbench").key("cap", 1024)
//       -> "channel/spsc/impl:threadbench/cap:1024"
//   add(name, fn)             registers fn under that name, timed by the wall clock
//   run(argc, argv, prepare)  main: parse flags, prepare() (contexts, registration), run all
//   Tally                     one thread's count and key sum; holds_each_of(t, n) checks 1..n
//   LoopClock                 wall-clock ns per thing over one benchmark loop, as a counter
//   thread_cpu_ns()           the calling thread's CPU time (from workload.hpp)
//
// Names are `family/scenario/key:value/...` (plot.py and the results package parse them
// with scripts/threadbench_results/names.py): a part that would break that shape (a '/' or a
// ':' inside a part, an empty part) stops the program with a one-line error before anything
// runs, so a contender's odd name cannot produce results that no script can read.
#pragma once

#include <benchmark/benchmark.h>

#include <chrono>
#include <concepts>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "workload.hpp"  // bench::thread_cpu_ns (its calibration runs on the same clock)

namespace bench {

// ---- names --------------------------------------------------------------------------------
// Builds one benchmark name, in the order the keys are given. Google Benchmark may append
// parts of its own (/real_time, /threads:N, an ArgName's /size:N): those say how a benchmark
// ran and are read back by the same parser.
class Name {
 public:
  Name(std::string_view family, std::string_view scenario) {
    text_ = checked(family, "family");
    text_ += '/';
    text_ += checked(scenario, "scenario");
  }
  Name& key(std::string_view key, std::string_view value) {
    text_ += '/';
    text_ += checked(key, "key");
    text_ += ':';
    text_ += checked(value, "value");
    return *this;
  }
  Name& key(std::string_view key, std::integral auto value) {
    return this->key(key, std::to_string(value));
  }
  const std::string& str() const noexcept { return text_; }

 private:
  // A part holds no '/' (the separator) and no ':' (key:value), and is not empty.
  std::string_view checked(std::string_view part, const char* what) const {
    if (part.empty() || part.find_first_of("/:") != std::string_view::npos) {
      std::fprintf(stderr,
                   "error: benchmark name '%s...': %s '%.*s' must be non-empty, without '/' "
                   "or ':'\n",
                   text_.c_str(), what, static_cast<int>(part.size()), part.data());
      std::exit(2);
    }
    return part;
  }
  std::string text_;
};

// ---- registration and main ----------------------------------------------------------------
// Registers fn (a callable taking benchmark::State&, then args...) under name. Every
// benchmark here is timed by the wall clock (UseRealTime): the work happens on other
// threads, so the calling thread's CPU time would undercount it. Returns the benchmark for
// the rest of the builder chain (ArgName, Range, ThreadRange, Unit).
template <class Fn, class... Args>
benchmark::internal::Benchmark* add(const Name& name, Fn&& fn, Args&&... args) {
  return benchmark::RegisterBenchmark(name.str().c_str(), std::forward<Fn>(fn),
                                      std::forward<Args>(args)...)
      ->UseRealTime();
}

// The whole main of a bench program: Google Benchmark's flags (an unknown one is an error,
// exit 1), then prepare() (custom context, calibration, registration: after the flags, so
// that --help and a bad flag cost nothing), then every benchmark the filter selects.
inline int run(int& argc, char** argv, const std::function<void()>& prepare = {}) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (prepare) prepare();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// ---- result checks ------------------------------------------------------------------------
// One thread's count and sum of the keys it handled, alone on its cache line so that threads
// counting side by side do not slow each other down. Keys are 1..n; a run is right when the
// tallies of all threads together hold each key exactly once.
struct alignas(64) Tally {
  std::uint64_t count = 0;
  std::uint64_t sum = 0;

  void add(std::uint64_t key) noexcept {
    ++count;
    sum += key;
  }
};

inline Tally total(const std::vector<Tally>& tallies) noexcept {
  Tally all;
  for (const Tally& t : tallies) {
    all.count += t.count;
    all.sum += t.sum;
  }
  return all;
}

// count == n and sum == n(n+1)/2. The count catches a loss or a duplicate alone; the sum
// catches a loss hidden by a duplicate of another key (the count stays right, the sum moves).
// It is a cheap check that stays on in Release, not a proof: the stress harnesses check
// exactly-once key by key.
inline bool holds_each_of(const Tally& t, std::uint64_t n) noexcept {
  return t.count == n && t.sum == n * (n + 1) / 2;
}

// ---- clocks -------------------------------------------------------------------------------
// Wall-clock time over one benchmark loop: start() just before it, then elapsed_ns(), or
// counter(things) for the ns per thing as a counter (Google Benchmark's rate counters could
// derive it from the real time too, but its console then prints ns as "ks").
class LoopClock {
 public:
  void start() noexcept { t0_ = std::chrono::steady_clock::now(); }
  double elapsed_ns() const noexcept {
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0_).count();
  }
  benchmark::Counter counter(
      double things, benchmark::Counter::Flags flags = benchmark::Counter::kDefaults) const {
    return benchmark::Counter(things > 0 ? elapsed_ns() / things : 0.0, flags);
  }

 private:
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
};

}  // namespace bench
