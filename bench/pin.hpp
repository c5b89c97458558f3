// bench/pin.hpp: per-thread pinning from THREADBENCH_PIN (scripts/bench.sh --pin).
//
//   pin_cpus()            the CPUs of THREADBENCH_PIN, in the order given ("0,2,4" or "0-3");
//                         empty when it is unset or empty (no per-thread pinning)
//   pin_context()         "per-thread:<list>" or "off", for the `pin_threads` context key
//   pin_this_thread(k)    pins the calling thread to pin_cpus()[k % n]; nothing when empty
//
// Why per thread: --pin already confines the whole process (taskset), but inside that set the
// scheduler places each thread where it likes, and a thread's placement is baked into every
// repetition it runs (two threads sharing a core, or two SMT siblings, give a different row
// than two separate cores). Pinning crew member k (producers first, then consumers) and the
// ping-pong partner to a core of their own makes a row's threads land on the same cores in
// every process. The Rust (bench/rust/src/sys.rs) and Go (bench/go/crew.go) peers read the
// same variable and pin the same members the same way. A malformed list stops the program
// with a one-line error (exit 2) before anything runs: a row measured unpinned by mistake
// would look like a pinned one.
#pragma once

#include <sched.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

namespace pin_detail {

[[noreturn]] inline void bad_list(std::string_view list, const char* why) {
  std::fprintf(stderr, "error: THREADBENCH_PIN='%.*s': %s\n", static_cast<int>(list.size()),
               list.data(), why);
  std::exit(2);
}

// A CPU number: decimal digits only, below CPU_SETSIZE.
inline int cpu_number(std::string_view list, std::string_view s) {
  if (s.empty()) bad_list(list, "expected CPUs and ranges a-b, separated by commas");
  long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') bad_list(list, "expected CPUs and ranges a-b, separated by commas");
    v = v * 10 + (c - '0');
    if (v >= CPU_SETSIZE) bad_list(list, "CPU number too large");
  }
  return static_cast<int>(v);
}

}  // namespace pin_detail

// Parses a CPU list: comma-separated CPUs and ranges a-b (a <= b), as taskset -c takes it.
// Empty = no CPUs. Anything else stops the program (one line on stderr, exit 2).
inline std::vector<int> parse_cpu_list(std::string_view list) {
  std::vector<int> cpus;
  if (list.empty()) return cpus;
  std::size_t at = 0;
  for (;;) {
    const std::size_t comma = list.find(',', at);
    const std::string_view item =
        list.substr(at, comma == std::string_view::npos ? std::string_view::npos : comma - at);
    const std::size_t dash = item.find('-');
    if (dash == std::string_view::npos) {
      cpus.push_back(pin_detail::cpu_number(list, item));
    } else {
      const int a = pin_detail::cpu_number(list, item.substr(0, dash));
      const int b = pin_detail::cpu_number(list, item.substr(dash + 1));
      if (a > b) pin_detail::bad_list(list, "a range a-b needs a <= b");
      for (int c = a; c <= b; ++c) cpus.push_back(c);
    }
    if (comma == std::string_view::npos) break;
    at = comma + 1;
  }
  return cpus;
}

// THREADBENCH_PIN, read and checked once (the first call: main calls pin_context() before any
// benchmark runs, so a bad list stops the program there).
inline const std::vector<int>& pin_cpus() {
  static const std::vector<int> cpus = [] {
    const char* env = std::getenv("THREADBENCH_PIN");
    return parse_cpu_list(env ? std::string_view(env) : std::string_view());
  }();
  return cpus;
}

// The `pin_threads` context value: "per-thread:<list as given>" or "off".
inline std::string pin_context() {
  if (pin_cpus().empty()) return "off";
  return "per-thread:" + std::string(std::getenv("THREADBENCH_PIN"));
}

// Pins the calling thread to pin_cpus()[index % n]; does nothing when the list is empty. Call
// it from inside the thread, before it reaches the start gate. A CPU the process may not use
// (outside taskset's set, offline) is an error: the row would silently run unpinned.
inline void pin_this_thread(std::size_t index) {
  const std::vector<int>& cpus = pin_cpus();
  if (cpus.empty()) return;
  const int cpu = cpus[index % cpus.size()];
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) {  // 0 = the calling thread
    std::fprintf(stderr, "error: THREADBENCH_PIN: cannot pin a thread to CPU %d\n", cpu);
    std::exit(2);
  }
}

}  // namespace bench
