// bench/kit.hpp: what every bench/*_bench.cpp shares, written once: benchmark names,
// registration, the program's main, result tallies, the clocks and the flow crew.
//
//   Name("channel", "spsc").key("impl", "threadbench").key("cap", 1024)
//       -> "channel/spsc/impl:threadbench/cap:1024"
//   add(name, fn)             registers fn under that name, timed by the wall clock
//   run(argc, argv, prepare)  main: parse flags, prepare() (contexts, registration), run all
//   Tally                     one thread's count and key sum; holds_each_of(t, n) checks 1..n
//   OwnLines<T>               a T on cache lines of its own (an object other threads use,
//                             in a benchmark function's frame)
//   LoopClock                 wall-clock ns per thing over one benchmark loop, as a counter
//   ticks(), RttRecorder      TSC stamps; per-round round-trip percentiles (p50_ns, ...)
//   thread_cpu_ns()           the calling thread's CPU time (from workload.hpp)
//   Crew                      threads that run one role per round, released by a start gate;
//                             Crew::round times one round (release to last consumer done);
//                             with THREADBENCH_PIN set, member k runs pinned (pin.hpp)
//
// Names are `family/scenario/key:value/...` (plot.py and the results package parse them
// with scripts/threadbench_results/names.py): a part that would break that shape (a '/' or a
// ':' inside a part, an empty part) stops the program with a one-line error before anything
// runs, so a contender's odd name cannot produce results that no script can read.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <concepts>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "pin.hpp"       // bench::pin_this_thread (THREADBENCH_PIN, per-thread pinning)
#include "threadbench/detail/wait.hpp"  // cpu_relax: the coordinator's poll pause
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

// ---- objects several threads use, on a stack ----------------------------------------------
// OwnLines<T>: a T alone on cache lines of its own, for an object that lives in a benchmark
// function's frame and that another thread reads or writes while the benchmark thread keeps
// writing its own locals (a queue both ends of a round trip call, a counter a worker bumps).
// 128 bytes: a line and the neighbour that adjacent-line prefetchers fetch with it. Why it
// matters: Linux starts the main thread's stack at a random 16-byte offset, so what shares
// a line with such an object changes from process to process. Measured (issue 19, 2-vCPU
// AMD EPYC VM, ASLR off and the stack shifted 0..112 bytes in 16-byte steps through the
// environment's size, two or three processes each):
//  * ping_pong cap:1 p50: 590-780 ns at half the offsets, 950-1160 ns at the other half (the
//    responder reads the queue objects, the caller writes its locals every round);
//    with each queue alone, 490-650 ns at every offset;
//  * spawn/pool_dispatch: 0.91-0.98 us at half the offsets, 1.2-1.44 us at the other half
//    (the worker's counter beside the caller's handles); with the counter alone,
//    0.66-0.94 us at every offset;
//  * spsc and mpmc 2x2 flows (the queue read by every crew member): no pattern by offset
//    before or after, the rows' spread being the host's.
template <class T>
class alignas(128) OwnLines {
 public:
  template <class... Args>
    requires std::constructible_from<T, Args...>
  explicit OwnLines(Args&&... args) : value_(std::forward<Args>(args)...) {}
  // Other threads hold its address: never copied or moved.
  OwnLines(const OwnLines&) = delete;
  OwnLines& operator=(const OwnLines&) = delete;
  T& operator*() noexcept { return value_; }
  const T& operator*() const noexcept { return value_; }
  T* operator->() noexcept { return &value_; }
  const T* operator->() const noexcept { return &value_; }

 private:
  T value_;
};

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

// Round-trip timestamps use the TSC where there is one (constant_tsc: a read costs a fraction
// of a steady_clock::now() that goes through a paravirtual clock such as kvm-clock),
// converted to ns with a ratio measured once against steady_clock over 20 ms.
#if defined(__x86_64__) || defined(__i386__)
inline std::uint64_t ticks() noexcept { return __rdtsc(); }
inline double measure_ns_per_tick() {
  using C = std::chrono::steady_clock;
  const auto w0 = C::now();
  const std::uint64_t t0 = ticks();
  while (C::now() - w0 < std::chrono::milliseconds(20)) {
  }
  const auto w1 = C::now();
  const std::uint64_t t1 = ticks();
  return std::chrono::duration<double, std::nano>(w1 - w0).count() /
         static_cast<double>(t1 - t0);
}
#else
inline std::uint64_t ticks() noexcept {
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}
inline double measure_ns_per_tick() {
  return 1e9 * std::chrono::steady_clock::period::num / std::chrono::steady_clock::period::den;
}
#endif
inline double ns_per_tick() {
  static const double v = measure_ns_per_tick();
  return v;
}
// Calibrates the TSC before anything is timed, and records the ratio in the JSON context.
inline void calibrate_ticks() {
  benchmark::AddCustomContext("tsc_ns_per_tick", std::to_string(ns_per_tick()));
}

// Per-round round-trip times (channel ping_pong, spawn pool_dispatch): one timestamp per
// round, RTT = difference of consecutive stamps, so each round pays one clock read and one
// push_back. Keeps the first 2^21 samples of a run (more than a repetition of
// scripts/bench.sh's length produces even at the fastest round trips) and reports
// percentiles.
class RttRecorder {
 public:
  RttRecorder() { samples_.reserve(max_samples); }
  void start() noexcept { prev_ = ticks(); }
  void lap() noexcept {
    const std::uint64_t now = ticks();
    if (samples_.size() < max_samples) samples_.push_back(now - prev_);
    prev_ = now;
  }
  void report(benchmark::State& state) {
    if (samples_.empty()) return;
    const double k = ns_per_tick();
    auto pct = [&](double q) {
      const auto i = std::min(samples_.size() - 1,
                              static_cast<std::size_t>(q * static_cast<double>(samples_.size())));
      std::nth_element(samples_.begin(), samples_.begin() + static_cast<std::ptrdiff_t>(i),
                       samples_.end());
      return static_cast<double>(samples_[i]) * k;
    };
    state.counters["p50_ns"] = pct(0.50);
    state.counters["p99_ns"] = pct(0.99);
    state.counters["p999_ns"] = pct(0.999);
  }

 private:
  static constexpr std::size_t max_samples = std::size_t{1} << 21;
  std::vector<std::uint64_t> samples_;
  std::uint64_t prev_ = 0;
};

// ---- the crew and its start gate -----------------------------------------------------------
// A Crew is n threads, started once, that run role(i) once per round. Crew::round is one
// iteration of a flow benchmark (channel_bench.cpp: spsc, mpsc, mpmc, and the crew floor
// rows), and its timed interval is the messages' movement only. The protocol is written
// the same way in the Rust peer (bench/rust/src/crew.rs) and the Go peer (bench/go/crew.go):
//
//  1. Gate: a member back from its role counts itself in (ready) and parks on the gate's
//     generation word until the generation changes (here and in Rust a futex wait on the
//     word; Go: sync.Cond). It never spins there: a member that finishes early must not take
//     CPU from those still moving messages, and every release then finds every member in
//     the same state, parked.
//  2. Release (coordinator = the benchmark thread): untimed, it waits until ready == n, resets
//     the counts and runs the scenario's between-rounds step (checks of the last round,
//     resets for the next); then reads the clock (t0), bumps the generation with one store
//     and wakes every member with one futex wake (Go: Broadcast).
//  3. Done: the last `reporters` members (the consumers) count themselves in (done) the moment
//     their role returns, i.e. right after their last message; the one that completes the
//     count wakes the coordinator if it parked.
//  4. Stop: the coordinator waits for done == reporters (spin_polls polls one CPU pause
//     apart, yield_polls yields, then a futex wait; Go: spin, Gosched, sync.Cond) and reads
//     the clock (t1). The round's time is t1 - t0: the release, the messages, and the
//     coordinator noticing the last consumer. The members' return to the gate, the checks
//     and the resets are outside it.
//  5. With an empty role the same round is the crew floor (channel/crew/... rows): what the
//     harness itself adds to each flow row of the same producers x consumers.
//
// Clocks: t0 and t1 are Google Benchmark's own, read by ResumeTiming / PauseTiming
// (steady_clock), so the name keeps its /real_time and items_per_second counts timed time
// only. ResumeTiming reads the thread's CPU clock right after t0: one clock_gettime
// (CLOCK_THREAD_CPUTIME_ID) syscall, a few hundred ns on bare metal, about 2.5 us on the
// 2-vCPU development VM, where every syscall costs about 2 us (page-table isolation). It is
// the one step inside the C++ interval that the Rust and Go peers, which read only a
// monotonic clock, do not have; the C++ crew rows include it.
class Crew {
 public:
  // Polls of the coordinator's wait before it yields, then yields before it parks: about a
  // microsecond or two of spinning (a PAUSE is 10-140 cycles), enough to catch a consumer
  // that is running on another core, too short to matter when it is not.
  static constexpr int spin_polls = 64;
  static constexpr int yield_polls = 4;

  // n threads; the last `reporters` of them (1 <= reporters <= n) report done when their
  // role returns, and a round ends when all of those have.
  Crew(int n, int reporters, std::function<void(int)> role)
      : role_(std::move(role)),
        n_(static_cast<std::uint32_t>(n)),
        reporters_(static_cast<std::uint32_t>(reporters)) {
    threads_.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) threads_.emplace_back([this, i] { member(i); });
  }
  Crew(const Crew&) = delete;
  Crew& operator=(const Crew&) = delete;
  ~Crew() {
    ready_.await(n_);
    quit_.store(true, std::memory_order_relaxed);  // published by the generation's release
    release();
    for (auto& t : threads_) t.join();
  }

  // One round, for one turn of the benchmark loop: PauseTiming, wait (untimed) until every
  // member is parked at the gate, run between() (false stops: the caller then calls
  // SkipWithError and leaves the loop), reset the counts, ResumeTiming (t0), release, wait
  // for the last consumer. The timer then runs on into the next turn's PauseTiming (t1), or
  // into the loop's end, which pauses it the same way: a few ns of loop bookkeeping are all
  // it adds.
  template <class Between>
  bool round(benchmark::State& state, Between&& between) {
    state.PauseTiming();
    ready_.await(n_);
    if (!between()) return false;  // counts left as they are: the destructor finds all in
    ready_.reset();
    done_.reset();
    state.ResumeTiming();
    release();
    done_.await(reporters_);
    return true;
  }

 private:
  // A count of members that reached a point (back at the gate; done with the last message)
  // that the coordinator waits on. Value and flag share a line: they are touched together.
  class alignas(64) Arrivals {
   public:
    void reset() noexcept { value_.store(0, std::memory_order_relaxed); }
    // A member arrives; the one that makes the count `target` wakes a parked coordinator.
    // seq_cst on both sides (the count here, parked_ in await) so that either the
    // coordinator sees the count or this sees the flag: no lost wake-up.
    void arrive(std::uint32_t target) noexcept {
      if (value_.fetch_add(1, std::memory_order_seq_cst) + 1 == target &&
          parked_.load(std::memory_order_seq_cst)) {
        futex_wake(value_, 1);
      }
    }
    // The coordinator waits until `target` members have arrived: polls, yields, then parks.
    void await(std::uint32_t target) noexcept {
      for (int i = 0; i < spin_polls; ++i) {
        if (value_.load(std::memory_order_acquire) >= target) return;
        threadbench::detail::cpu_relax();
      }
      for (int i = 0; i < yield_polls; ++i) {
        if (value_.load(std::memory_order_acquire) >= target) return;
        sched_yield();
      }
      parked_.store(true, std::memory_order_seq_cst);
      for (std::uint32_t v; (v = value_.load(std::memory_order_seq_cst)) < target;) {
        futex_wait(value_, v);  // returns at once if the count moved since it was read
      }
      parked_.store(false, std::memory_order_relaxed);
    }

   private:
    std::atomic<std::uint32_t> value_{0};
    std::atomic<bool> parked_{false};  // the coordinator sleeps (or is about to) on value_
  };

  void member(int i) {
    // With THREADBENCH_PIN (--pin), member i (producers first, then consumers) takes CPU
    // list[i % n] before it first reaches the gate: a thread's placement is baked into every
    // repetition, and per-thread pins put a row's threads on the same cores every process.
    pin_this_thread(static_cast<std::size_t>(i));
    const bool reports = static_cast<std::uint32_t>(i) >= n_ - reporters_;
    std::uint32_t seen = 0;
    for (;;) {
      ready_.arrive(n_);
      while (generation_.load(std::memory_order_acquire) == seen) futex_wait(generation_, seen);
      ++seen;
      if (quit_.load(std::memory_order_relaxed)) return;
      role_(i);
      if (reports) done_.arrive(reporters_);
    }
  }

  // Every member is counted in at the gate (parked, or about to): one store and one wake.
  void release() noexcept {
    generation_.fetch_add(1, std::memory_order_release);
    futex_wake(generation_, INT_MAX);
  }

  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                    std::atomic<std::uint32_t>::is_always_lock_free,
                "a futex word must be a plain 32-bit atomic");
  static void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t seen) noexcept {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, seen, nullptr,
            nullptr, 0);
  }
  static void futex_wake(std::atomic<std::uint32_t>& word, int count) noexcept {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, count, nullptr,
            nullptr, 0);
  }

  std::function<void(int)> role_;
  const std::uint32_t n_;          // members
  const std::uint32_t reporters_;  // the last members, whose return ends a round
  alignas(64) std::atomic<std::uint32_t> generation_{0};  // the gate: +1 releases a round
  Arrivals ready_;                 // members parked at the gate
  Arrivals done_;                  // reporters finished with this round
  std::atomic<bool> quit_{false};  // set before the last release: members leave
  std::vector<std::thread> threads_;
};

}  // namespace bench
