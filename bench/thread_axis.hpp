// bench/thread_axis.hpp: the thread counts a benchmark sweeps, derived from the machine.
//
// 1, 2, 4, ... up to max(8, 2 x cores): past the core count, so that oversubscription (more
// runnable threads than cores) is a scenario on every machine, and never below 8, so that
// the headline rows (mpsc 8 producers, mpmc 8 x 8, pools of 8) exist on every machine and
// runs from different machines line up row by row. On 2 cores that is 1, 2, 4, 8; on 16
// cores 1 ... 32. THREADBENCH_MAX_THREADS=<n> replaces the upper bound (a short smoke run,
// or a sweep past the default); an unusable value is an error, not a silent default.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace bench {

inline std::vector<int> thread_axis() {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  long top = std::max(8L, 2L * static_cast<long>(cores));
  if (const char* env = std::getenv("THREADBENCH_MAX_THREADS"); env && *env) {
    char* end = nullptr;
    const long v = std::strtol(env, &end, 10);
    if (*end != '\0' || v < 1 || v > 4096) {
      std::fprintf(stderr, "error: THREADBENCH_MAX_THREADS must be an integer in 1..4096, got '%s'\n",
                   env);
      std::exit(2);
    }
    top = v;
  }
  std::vector<int> axis;
  for (long t = 1; t <= top; t *= 2) axis.push_back(static_cast<int>(t));
  return axis;
}

}  // namespace bench
