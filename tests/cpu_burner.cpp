// cpu_burner: keeps the CPUs busy beside a test stage, so that the stage shows it holds on a
// busy machine (scripts/test.sh busy). Not a test: a load generator that stops by itself.
//
//   cpu_burner [--threads N] [--seconds S] [--parent PID]
//
//   --threads N   busy threads (default: 2 per CPU this process may use: more runnable
//                 threads than cores, as on a shared CI runner or a laptop building
//                 something else)
//   --seconds S   stop after S seconds (default 1800); it also stops on SIGTERM/SIGINT and
//                 when its parent dies (PR_SET_PDEATHSIG), so it never outlives its stage
//   --parent PID  the process whose death ends it (scripts/test.sh passes $$): if its parent
//                 is already another process when it starts, it stops at once
//
// Each thread alternates integer work with a write to a buffer of its own (the caches and the
// memory bus are busy too, not only the ALUs), at normal priority: the scheduler shares the
// CPUs between it and the tests as it would with any other job. Prints one line when it
// starts and one when it stops (threads, seconds, work done); exit 2 on bad arguments.
#include <sched.h>
#include <csignal>
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>
#include <vector>

namespace {

std::atomic<bool> stop{false};

extern "C" void on_signal(int) { stop.store(true, std::memory_order_relaxed); }

[[noreturn]] void usage(const char* why, const char* arg) {
  std::fprintf(stderr,
               "cpu_burner: error: %s '%s' (usage: cpu_burner [--threads N] [--seconds S] [--parent PID])\n",
               why, arg);
  std::exit(2);
}

double number(const char* flag, const char* text, double lo, double hi) {
  if (text == nullptr) usage("missing value for", flag);
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text, &end);
  if (errno != 0 || end == text || *end != '\0' || !(v >= lo && v <= hi)) {
    usage("bad number for", flag);
  }
  return v;
}

// Busy work the compiler cannot drop: an LCG over a 256 KiB buffer of the thread's own.
std::uint64_t burn() {
  std::vector<std::uint64_t> buf(32 * 1024, 1);
  std::uint64_t x = 0x9E3779B97F4A7C15ULL, rounds = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    for (std::size_t i = 0; i < buf.size(); i += 8) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      buf[i] ^= x;
    }
    ++rounds;
  }
  return rounds + (buf[0] & 1);
}

}  // namespace

int main(int argc, char** argv) {
  cpu_set_t set;
  const unsigned cpus =
      sched_getaffinity(0, sizeof set, &set) == 0 ? static_cast<unsigned>(CPU_COUNT(&set)) : 1;
  unsigned threads = 2 * cpus;
  double seconds = 1800;
  long parent = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (a == "--threads") {
      threads = static_cast<unsigned>(number("--threads", v, 1, 4096));
      ++i;
    } else if (a == "--seconds") {
      seconds = number("--seconds", v, 0.001, 1e6);
      ++i;
    } else if (a == "--parent") {
      parent = static_cast<long>(number("--parent", v, 1, 4194304));
      ++i;
    } else if (a == "-h" || a == "--help") {
      std::printf("usage: cpu_burner [--threads N] [--seconds S] [--parent PID]  (default: 2 threads per "
                  "CPU, 1800 s)\n");
      return 0;
    } else {
      usage("unknown argument", argv[i]);
    }
  }
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  // The death signal covers a parent that dies from now on; one that died before is seen
  // here (we were re-parented).
  if (parent != 0 && getppid() != parent) {
    std::fprintf(stderr, "cpu_burner: parent %ld is gone; not starting\n", parent);
    return 1;
  }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);

  std::printf("cpu_burner: %u busy threads on %u CPU(s), for at most %.0f s\n", threads, cpus,
              seconds);
  std::fflush(stdout);
  const auto t0 = std::chrono::steady_clock::now();
  std::atomic<std::uint64_t> work{0};
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&work] { work.fetch_add(burn(), std::memory_order_relaxed); });
  }
  const auto until = t0 + std::chrono::duration<double>(seconds);
  while (!stop.load(std::memory_order_relaxed) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop.store(true, std::memory_order_relaxed);
  for (auto& t : pool) t.join();
  const double ran = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // work: passes over each thread's 256 KiB buffer, summed over the threads.
  std::printf("cpu_burner: stopped after %.0f s (%llu buffer passes over %u threads)\n", ran,
              static_cast<unsigned long long>(work.load()), threads);
  return 0;
}
