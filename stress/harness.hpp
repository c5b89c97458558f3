// stress/harness.hpp: what every stress harness shares.
//
//  * Options: sizes come from flags (or THREADBENCH_STRESS_* environment variables), so a
//    TSan run in CI stays short and a soak run lasts as long as asked. Unknown flags and
//    bad numbers print one line and exit 2.
//  * TB_CHECK(cond, fmt, ...): an invariant check that stays on in every build type (no
//    assert()); a failed check prints where and why, and the harness exits 1 at the end.
//  * Watchdog: a stall detector (threadbench/kit/watchdog.hpp, the one the unit tests use):
//    no progress (no counter moved, no new phase) for the stall limit (--stall S, or the
//    harness's default, 30 s unless it says otherwise) prints "STALL" with the phase and the
//    stuck counters and exits 3, so a lost wake-up fails in seconds and never hangs CI, while
//    a run that is merely slow (a busy machine, a sanitizer) never fails on time. Every limit
//    is multiplied by THREADBENCH_TIME_SCALE (times 4 under a sanitizer). --timeout S adds a
//    total deadline for runs outside ctest (whose TIMEOUT bounds the whole run there).
//  * harness_main(): the one main of every harness: options, watchdog, rounds, totals and
//    the summary line. A harness declares its help text (Harness) and a run_all(Suite&)
//    that lists its scenarios; each scenario opens with Suite::scenario(name) (the --only
//    filter, the watchdog phase, its clock) and ends with Scenario::done (its line).
//  * SpinBarrier, Rng, Stopwatch, cpu_relax: starting threads together, cheap randomness,
//    timing, one CPU pause.
//
// The harness adds no synchronisation between the threads under test beyond what each
// scenario states (start barriers, joins): a missing happens-before in the code under test
// stays visible to TSan.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <condition_variable>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sched.h>

#include "threadbench/detail/wait.hpp"  // cpu_relax
#include "threadbench/kit/short_slices.hpp"
#include "threadbench/kit/watchdog.hpp"

namespace tbstress {

// ---------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------

struct Options {
  const char* program = "stress";
  // Repeat the whole scenario list until this many seconds have passed (0 = run it once,
  // the CI mode).
  double seconds = 0;
  // Multiplies every scenario's size (messages, threads spawned, rounds).
  unsigned scale = 1;
  // Total deadline in seconds (unscaled); 0 = none (ctest's TIMEOUT bounds a CI run).
  double timeout = 0;
  // Stall detector: fail after this many seconds without progress; 0 = off, negative =
  // not given (the harness's default applies, see harness_main). Once the run has started
  // it holds the limit in force, THREADBENCH_TIME_SCALE applied.
  double stall = -1;
  std::uint64_t seed = 0x7462'7374'7265'7373ULL;  // "tbstress"
  // --only: run only the scenarios whose name these regular expressions (POSIX extended,
  // as grep -E and the benchmarks' --benchmark_filter) match from its start, so a plain
  // name is a prefix: "fifo/cap8" selects fifo/cap8/plain and fifo/cap8/boxed.
  std::vector<std::regex> only;
  bool soak = false;
  bool list = false;  // print the names of the scenarios (--only applies) instead of running

  // Should a scenario (or scenario group) with this name run?
  bool wants(std::string_view name) const {
    if (only.empty()) return true;
    const std::string s(name);
    for (const auto& re : only) {
      if (std::regex_search(s, re, std::regex_constants::match_continuous)) return true;
    }
    return false;
  }
  // Scales a CI-mode size.
  std::uint64_t n(std::uint64_t ci_size) const { return ci_size * scale; }
};

[[noreturn]] inline void usage_error(const char* program, const char* fmt, ...) {
  std::fprintf(stderr, "%s: error: ", program);
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fprintf(stderr, " (try --help)\n");
  std::exit(2);
}

inline double parse_number(const char* program, const char* what, const char* text,
                           double lo, double hi) {
  if (text == nullptr || *text == '\0') usage_error(program, "%s needs a number", what);
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text, &end);
  if (errno != 0 || end == text || *end != '\0' || !(v >= lo && v <= hi)) {
    usage_error(program, "bad number '%s' for %s (expected %g..%g)", text, what, lo, hi);
  }
  return v;
}

inline std::uint64_t parse_integer(const char* program, const char* what, const char* text,
                                   std::uint64_t lo, std::uint64_t hi) {
  if (text == nullptr || *text == '\0') usage_error(program, "%s needs an integer", what);
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text, &end, 0);
  if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || v < lo || v > hi) {
    usage_error(program, "bad integer '%s' for %s (expected %llu..%llu)", text, what,
                static_cast<unsigned long long>(lo), static_cast<unsigned long long>(hi));
  }
  return v;
}

// Parses the flags every harness understands. `about` is the harness's --help text.
inline Options parse_options(int argc, char** argv, const char* program, const char* about,
                             double default_stall) {
  Options o;
  o.program = program;
  bool seconds_given = false, scale_given = false;
  // Environment first; flags override it.
  if (const char* e = std::getenv("THREADBENCH_STRESS_SECONDS"); e && *e) {
    o.seconds = parse_number(program, "THREADBENCH_STRESS_SECONDS", e, 0, 1e7);
    seconds_given = true;
  }
  if (const char* e = std::getenv("THREADBENCH_STRESS_SCALE"); e && *e) {
    o.scale = static_cast<unsigned>(parse_integer(program, "THREADBENCH_STRESS_SCALE", e, 1, 1000000));
    scale_given = true;
  }
  if (const char* e = std::getenv("THREADBENCH_STRESS_STALL"); e && *e) {
    o.stall = parse_number(program, "THREADBENCH_STRESS_STALL", e, 0, 1e7);
  }
  if (const char* e = std::getenv("THREADBENCH_STRESS_SOAK"); e && *e && std::strcmp(e, "0") != 0) {
    o.soak = true;
  }
  for (int i = 1; i < argc; ++i) {
    // --flag=value is --flag value.
    std::string_view a = argv[i];
    const char* inline_value = nullptr;
    if (const auto eq = a.find('='); a.starts_with("--") && eq != std::string_view::npos) {
      inline_value = argv[i] + eq + 1;
      a = a.substr(0, eq);
    }
    auto value = [&](const char* flag) -> const char* {
      if (inline_value) return inline_value;
      if (i + 1 >= argc) usage_error(program, "%s needs a value", flag);
      return argv[++i];
    };
    if (inline_value && (a == "--help" || a == "--soak" || a == "--list")) {
      usage_error(program, "%.*s takes no value", static_cast<int>(a.size()), a.data());
    }
    if (a == "--help" || a == "-h") {
      std::printf(
          "usage: %s [--seconds N] [--soak] [--scale K] [--timeout S] [--stall S] [--seed N]\n"
          "          [--only REGEX]... [--list]\n"
          "%s\n"
          "  --seconds N  repeat every scenario until N seconds have passed (default: once)\n"
          "  --soak       long run: --scale 10 and --seconds 600 unless given\n"
          "  --scale K    multiply every size by K (default 1 = the CI size)\n"
          "  --timeout S  total deadline: fail with the phase reached after S seconds (default:\n"
          "               none; ctest's TIMEOUT bounds a CI run)\n"
          "  --stall S    stall detector: fail with the stuck counters after S seconds without\n"
          "               progress (no counter moved, no new phase); 0 = off; default %g s\n"
          "  --seed N     seed of the random timing jitter\n"
          "  --only REGEX run only the scenarios whose name REGEX (POSIX extended) matches from\n"
          "               its start: a plain name is a prefix (repeatable; see --list)\n"
          "  --list       print the scenario names (those --only selects) and exit\n"
          "environment: THREADBENCH_STRESS_SECONDS, THREADBENCH_STRESS_SCALE,\n"
          "             THREADBENCH_STRESS_STALL, THREADBENCH_STRESS_SOAK=1 (flags win);\n"
          "             THREADBENCH_TIME_SCALE=F multiplies --stall and --timeout (slow machines,\n"
          "             valgrind; a sanitizer build multiplies them by 4 more)\n",
          program, about, default_stall);
      std::exit(0);
    } else if (a == "--seconds") {
      o.seconds = parse_number(program, "--seconds", value("--seconds"), 0, 1e7);
      seconds_given = true;
    } else if (a == "--soak") {
      o.soak = true;
    } else if (a == "--scale") {
      o.scale = static_cast<unsigned>(parse_integer(program, "--scale", value("--scale"), 1, 1000000));
      scale_given = true;
    } else if (a == "--timeout") {
      o.timeout = parse_number(program, "--timeout", value("--timeout"), 1, 1e7);
    } else if (a == "--stall") {
      o.stall = parse_number(program, "--stall", value("--stall"), 0, 1e7);
    } else if (a == "--seed") {
      o.seed = parse_integer(program, "--seed", value("--seed"), 0, UINT64_MAX);
    } else if (a == "--only") {
      const char* pattern = value("--only");
      try {
        o.only.emplace_back(pattern, std::regex::extended | std::regex::nosubs);
      } catch (const std::regex_error& e) {
        usage_error(program, "--only '%s' is not a valid regular expression (%s)", pattern,
                    e.what());
      }
    } else if (a == "--list") {
      o.list = true;
    } else {
      usage_error(program, "unknown flag '%s'", argv[i]);
    }
  }
  if (o.soak) {
    if (!scale_given) o.scale = 10;
    if (!seconds_given) o.seconds = 600;
  }
  return o;
}

// ---------------------------------------------------------------------------------------
// Checks and progress
// ---------------------------------------------------------------------------------------

// Progress counters the watchdog prints. Define them at namespace scope (they register
// themselves during static initialisation, before any thread exists) and bump them with
// relaxed RMWs: they order nothing, so they cannot hide a missing happens-before from TSan.
class Counter;
inline std::vector<Counter*>& counter_registry() {
  static std::vector<Counter*> all;
  return all;
}

class Counter {
 public:
  explicit Counter(const char* name) : name_(name) { counter_registry().push_back(this); }
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;
  void add(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }
  const char* name() const noexcept { return name_; }

 private:
  const char* name_;
  std::atomic<std::uint64_t> value_{0};
};

class Run {
 public:
  static Run& get() {
    static Run r;
    return r;
  }

  void start(const Options& o) {
    opts_ = o;
    t0_ = std::chrono::steady_clock::now();
  }
  const Options& opts() const { return opts_; }
  const char* program() const { return opts_.program; }

  // The phase the watchdog reports. Set by the main thread only.
  void phase(const char* fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    std::lock_guard lock(mu_);
    phase_ = buf;
    phases_.fetch_add(1, std::memory_order_relaxed);
  }
  std::string phase() {
    std::lock_guard lock(mu_);
    return phase_;
  }

  // What the stall detector watches: it moves whenever a counter moves or a phase begins.
  // Relaxed loads only: reading it orders nothing between the threads under test.
  std::uint64_t progress() const {
    std::uint64_t sum = phases_.load(std::memory_order_relaxed);
    for (const Counter* c : counter_registry()) sum += c->get();
    return sum;
  }

  void dump_counters(std::FILE* f) {
    for (const Counter* c : counter_registry()) {
      std::fprintf(f, " %s=%llu", c->name(), static_cast<unsigned long long>(c->get()));
    }
  }

  void fail(const char* file, int line, const char* fmt, va_list ap) {
    const unsigned n = failures_.fetch_add(1, std::memory_order_relaxed);
    if (n >= 20) return;  // the first 20 say enough
    char buf[512];
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    std::fprintf(stderr, "%s: CHECK FAILED at %s:%d: %s\n", program(), file, line, buf);
  }
  unsigned failures() const { return failures_.load(std::memory_order_relaxed); }
  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }
  // Another round of the scenario list? The first always runs; in --seconds mode the list
  // repeats until the time is up.
  bool another_round(unsigned done) const {
    if (done == 0) return true;
    return failures() == 0 && elapsed() < opts_.seconds;
  }

 private:
  Options opts_;
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
  std::mutex mu_;
  std::string phase_ = "start";
  std::atomic<std::uint64_t> phases_{0};
  std::atomic<unsigned> failures_{0};
};

// Check(cond, "fmt", ...): stays on in Release. Returns cond so callers can stop early.
#define TB_CHECK(cond, ...) ::tbstress::check_at((cond), __FILE__, __LINE__, __VA_ARGS__)

[[gnu::format(printf, 4, 5)]] inline bool check_at(bool ok, const char* file, int line,
                                                   const char* fmt, ...) {
  if (ok) return true;
  va_list ap;
  va_start(ap, fmt);
  Run::get().fail(file, line, fmt, ap);
  va_end(ap);
  return false;
}

[[gnu::format(printf, 1, 2)]] inline void note(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  std::printf("%s: %s\n", Run::get().program(), buf);
  std::fflush(stdout);
}

// ---------------------------------------------------------------------------------------
// Watchdog
// ---------------------------------------------------------------------------------------

// The run's watchdog: threadbench/kit/watchdog.hpp's ProgressWatchdog (the one the unit
// tests use too) over Run::progress(). It fails the run (exit 3) when progress has not moved
// for the stall limit, printing "STALL:" with the phase and every counter reached; with
// --timeout it also fails at that total deadline ("WATCHDOG:"). Both limits are multiplied
// by THREADBENCH_TIME_SCALE (times 4 in a sanitizer build). A slow run never fails here,
// only a run that stopped moving; the total wall time is left to ctest's TIMEOUT.
class Watchdog {
 public:
  Watchdog(double timeout, double stall)
      : dog_({.stall_seconds = stall,
              .deadline_seconds = timeout,
              .progress = [] { return Run::get().progress(); },
              .report = [](const threadbench::kit::Stall& s) { report(s); },
              .exit_code = 3}) {}

 private:
  static void report(const threadbench::kit::Stall& s) {
    Run& r = Run::get();
    char what[160];
    if (s.deadline) {
      std::snprintf(what, sizeof what, "WATCHDOG: not finished after %.0f s (--timeout)",
                    s.running_for);
    } else {
      std::snprintf(what, sizeof what, "STALL: no progress for %.1f s (stall limit %.1f s)",
                    s.stalled_for, s.stall_limit);
    }
    std::fprintf(stderr, "%s: %s after %.1f s of run; phase '%s'; counters:", r.program(), what,
                 r.elapsed(), r.phase().c_str());
    r.dump_counters(stderr);
    std::fprintf(stderr, "\n");
  }

  threadbench::kit::ProgressWatchdog dog_;
};

// Prints the verdict and returns main's exit code.
inline int finish(const char* summary) {
  Run& r = Run::get();
  if (r.failures() != 0) {
    std::printf("%s: FAIL: %u check(s) failed (%s) after %.1f s\n", r.program(), r.failures(),
                summary, r.elapsed());
    std::fflush(stdout);
    return 1;
  }
  std::printf("%s: PASS: %s in %.1f s\n", r.program(), summary, r.elapsed());
  std::fflush(stdout);
  return 0;
}

// Ends a run that cannot go on because threads under test are blocked for good: they can
// be neither joined nor have the objects they use destroyed. The caller has reported what
// hangs (a failed check); this prints the verdict as finish() would and exits 1 at once.
[[noreturn]] inline void abandon(const char* why) {
  Run& r = Run::get();
  std::fflush(stderr);
  std::printf("%s: FAIL: %u check(s) failed; %s; run abandoned after %.1f s\n", r.program(),
              r.failures(), why, r.elapsed());
  std::fflush(stdout);
  std::_Exit(1);
}

// ---------------------------------------------------------------------------------------
// Suite and Scenario: what a harness declares; harness_main: the one main of a harness
// ---------------------------------------------------------------------------------------

class Stopwatch {
 public:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }

 private:
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
};

class Suite;

// One run of one scenario, opened by Suite::scenario(name). Opening it decides whether
// --only selects it, sets the watchdog's phase to its name and starts its clock; done()
// prints its one summary line (name, items its checks covered, anything else it measured,
// time) and adds it to the suite's totals. A scenario that was not selected is false and
// does nothing:
//
//   void my_case(Suite& suite, ...) {
//     auto sc = suite.scenario("my_case/" + variant);
//     if (!sc) return;
//     ... TB_CHECK(ok, "%s: what went wrong", sc.name()); ...
//     sc.done(items_checked);
//   }
class Scenario {
 public:
  Scenario(Suite* suite, std::string name) : suite_(suite), name_(std::move(name)) {}
  Scenario(Scenario&&) = default;
  Scenario(const Scenario&) = delete;
  Scenario& operator=(const Scenario&) = delete;

  explicit operator bool() const noexcept { return suite_ != nullptr; }
  const char* name() const noexcept { return name_.c_str(); }
  double seconds() const { return clock_.seconds(); }

  // A seed for one of the scenario's threads (`who`): derived from --seed and the
  // scenario's name, so each scenario and thread draws its own reproducible sequence.
  std::uint64_t seed(std::uint64_t who) const {
    std::uint64_t h = Run::get().opts().seed;
    for (char c : name_) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001B3ULL;
    return h + 0x9E3779B97F4A7C15ULL * (who + 1);
  }
  // A new watchdog phase inside the scenario: "<name> round <r>".
  void round(std::uint64_t r) const {
    Run::get().phase("%s round %llu", name(), static_cast<unsigned long long>(r));
  }
  // The scenario's line, counted in the suite's unit; what `extra` formats (printf) follows
  // the count.
  void done(std::uint64_t checked) { done(checked, "%s", ""); }
  [[gnu::format(printf, 3, 4)]] void done(std::uint64_t checked, const char* extra, ...);
  // The same, for a scenario whose items are not the suite's unit.
  void done_as(const char* unit, std::uint64_t checked) { done_as(unit, checked, "%s", ""); }
  [[gnu::format(printf, 4, 5)]] void done_as(const char* unit, std::uint64_t checked,
                                             const char* extra, ...);

 private:
  void close(const char* unit, std::uint64_t checked, const char* extra, va_list ap);

  Suite* suite_;
  std::string name_;
  Stopwatch clock_;
};

// A harness's scenario list, run once per round by harness_main; it adds up the totals of
// the summary line (scenario runs and the items their checks covered).
class Suite {
 public:
  Suite(const Options& o, const char* unit) : opts_(o), unit_(unit) {}
  Suite(const Suite&) = delete;
  Suite& operator=(const Suite&) = delete;

  const Options& opts() const noexcept { return opts_; }
  // A CI-mode size, times --scale.
  std::uint64_t n(std::uint64_t ci_size) const { return opts_.n(ci_size); }

  Scenario scenario(std::string name) {
    if (!opts_.wants(name)) return Scenario(nullptr, std::move(name));
    if (opts_.list) {  // --list: name it, run nothing
      std::printf("%s\n", name.c_str());
      ++scenarios_;
      return Scenario(nullptr, std::move(name));
    }
    Run::get().phase("%s", name.c_str());
    return Scenario(this, std::move(name));
  }

  std::uint64_t scenarios() const noexcept { return scenarios_; }
  std::uint64_t checked() const noexcept { return checked_; }
  const char* unit() const noexcept { return unit_; }

 private:
  friend class Scenario;
  void add(const Scenario& sc, const char* unit, std::uint64_t checked, const char* extra) {
    ++scenarios_;
    checked_ += checked;
    note("%-34s %8llu %s%s (%.2f s)", sc.name(), static_cast<unsigned long long>(checked), unit,
         extra, sc.seconds());
  }

  const Options& opts_;
  const char* unit_;
  std::uint64_t scenarios_ = 0;
  std::uint64_t checked_ = 0;
};

inline void Scenario::done(std::uint64_t checked, const char* extra, ...) {
  va_list ap;
  va_start(ap, extra);
  close(suite_->unit(), checked, extra, ap);
  va_end(ap);
}
inline void Scenario::done_as(const char* unit, std::uint64_t checked, const char* extra, ...) {
  va_list ap;
  va_start(ap, extra);
  close(unit, checked, extra, ap);
  va_end(ap);
}
inline void Scenario::close(const char* unit, std::uint64_t checked, const char* extra,
                            va_list ap) {
  char buf[256];
  std::vsnprintf(buf, sizeof buf, extra, ap);
  suite_->add(*this, unit, checked, buf);
}

// What a harness declares about itself.
struct Harness {
  const char* program;
  const char* about;          // --help text: what it checks, its scenario names
  const char* unit;           // what the summary counts ("messages checked")
  double default_stall = 30;  // stall limit in seconds when --stall is not given (0 = off)
  const char* banner = nullptr;  // printed first when set (e.g. "planted bug: must FAIL")
};

// The main of every harness: parses the options, arms the watchdog (and stall detector),
// runs run_all(suite) once, or in rounds until --seconds have passed, prints the summary
// and returns main's exit code. A run in which no scenario matched --only fails.
template <class RunAll>
int harness_main(int argc, char** argv, const Harness& h, RunAll&& run_all) {
  Options o = parse_options(argc, argv, h.program, h.about, h.default_stall);
  if (o.list) {
    Suite names(o, h.unit);
    run_all(names);
    if (names.scenarios() > 0) return 0;
    std::fprintf(stderr, "%s: no scenario matched --only (the names: %s --list)\n", h.program,
                 h.program);
    return 1;
  }
  if (o.stall < 0) o.stall = h.default_stall;
  // Before any thread starts (the watchdog's is next), so all of them inherit it.
  const std::uint64_t slice = threadbench::kit::ask_for_short_slices();
  const double stall = o.stall;  // as given; the Watchdog scales it (and --timeout)
  o.stall = threadbench::kit::scaled(stall);  // what scenarios read: the limit in force
  Run::get().start(o);
  Watchdog watchdog(o.timeout, stall);
  if (h.banner) note("%s", h.banner);
  // Said only when it matters: a kernel that grants short slices (it reports one) did not
  // grant ours, so on a busy machine every hand-off may wait a neighbour's whole slice.
  if (const std::uint64_t kernel_slice = threadbench::kit::slice_in_force_ns();
      slice == 0 && kernel_slice != 0 && !threadbench::kit::short_slices_turned_off()) {
    note("short scheduler slices were not granted (kit/short_slices.hpp): the kernel's slice of %.2f ms is in force",
         static_cast<double>(kernel_slice) / 1e6);
  }
  Suite suite(o, h.unit);
  unsigned round = 0;
  while (Run::get().another_round(round)) {
    run_all(suite);
    ++round;
  }
  char summary[160];
  std::snprintf(summary, sizeof summary, "%llu scenario runs, %llu %s, %u round(s)",
                static_cast<unsigned long long>(suite.scenarios()),
                static_cast<unsigned long long>(suite.checked()), h.unit, round);
  TB_CHECK(suite.scenarios() > 0, "no scenario matched --only (the names: --list)");
  return finish(summary);
}

// ---------------------------------------------------------------------------------------
// Small tools
// ---------------------------------------------------------------------------------------

// splitmix64: a fast, good-enough generator for timing jitter and operation choice.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n).
  std::uint64_t below(std::uint64_t n) noexcept { return n ? next() % n : 0; }
  bool one_in(std::uint64_t n) noexcept { return below(n) == 0; }

 private:
  std::uint64_t s_;
};

// One CPU pause (x86 PAUSE, AArch64 YIELD): threadbench::detail::cpu_relax of
// threadbench/detail/wait.hpp, the same one the channel, bench::Crew and the built-in
// contenders use.
using threadbench::detail::cpu_relax;

// A few pauses or a yield: perturbs interleavings without sleeping.
inline void jitter(Rng& rng) {
  const auto r = rng.below(16);
  if (r == 0) {
    std::this_thread::yield();
  } else if (r < 4) {
    for (unsigned i = 0; i < 32 * r; ++i) std::atomic_signal_fence(std::memory_order_seq_cst);
  }
}

// A reusable barrier that spins, then yields (so it also works with more threads than
// cores): releases all parties of a round as close together as possible. Its acq_rel RMW
// and release/acquire generation order the rounds (what a litmus batch reset needs).
class SpinBarrier {
 public:
  explicit SpinBarrier(unsigned parties, unsigned spins_before_yield = 64)
      : parties_(parties), spins_before_yield_(spins_before_yield) {}
  void arrive_and_wait() noexcept {
    const unsigned gen = gen_.load(std::memory_order_acquire);
    if (count_.fetch_add(1, std::memory_order_acq_rel) + 1 == parties_) {
      count_.store(0, std::memory_order_relaxed);
      gen_.store(gen + 1, std::memory_order_release);
      return;
    }
    unsigned spins = 0;
    while (gen_.load(std::memory_order_acquire) == gen) {
      if (++spins > spins_before_yield_) {
        std::this_thread::yield();
      } else {
        cpu_relax();
      }
    }
  }

 private:
  const unsigned parties_;
  const unsigned spins_before_yield_;
  std::atomic<unsigned> count_{0};
  std::atomic<unsigned> gen_{0};
};

}  // namespace tbstress
