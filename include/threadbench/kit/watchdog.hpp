// threadbench/kit/watchdog.hpp: the one progress watchdog of threadbench's tests and stress
// harnesses (not part of the channel: nothing in include/threadbench/channel.hpp uses it).
//
// A check must fail on a hang, never on slowness. So a watchdog here does not time the work:
// it watches a progress value (messages received, hand-offs done, scenarios begun) and fails
// only when that value has not moved for a whole stall limit. A step that moves slowly on a
// busy machine keeps moving and never fails; a lost wake-up stops it, and the report says
// what it was waiting for and how far it got. The total wall time of a run is left to the
// test runner (ctest's TIMEOUT).
//
// Every limit is multiplied by time_scale(): THREADBENCH_TIME_SCALE (a positive number,
// default 1) for slow machines, valgrind and the like, times 4 in a sanitizer build (TSan
// and ASan run the same code 3-15x slower).
//
//   ProgressWatchdog dog({.stall_seconds = 10,            // scaled
//                         .progress = [] { return kit::progress(); },
//                         .report = [](const Stall& s) { std::fprintf(stderr, ...); },
//                         .exit_code = 1});
//
// On a stall the report runs on the watchdog's thread and the process ends with _Exit: a
// thread blocked for good can be neither joined nor cancelled.
#pragma once

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

namespace threadbench::kit {

// How much slower than a quiet machine this build and machine may be: THREADBENCH_TIME_SCALE
// times the sanitizer factor. A value that is not a positive number is a usage error: one
// line, exit 2 (a typo must not silently become "1").
inline double time_scale() {
  static const double scale = [] {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
    double s = 4;  // the sanitizers run the same code 3-15x slower
#else
    double s = 1;
#endif
    if (const char* e = std::getenv("THREADBENCH_TIME_SCALE"); e != nullptr && *e != '\0') {
      char* end = nullptr;
      errno = 0;
      const double v = std::strtod(e, &end);
      if (errno != 0 || end == e || *end != '\0' || !(v > 0 && v <= 1e6)) {
        std::fprintf(stderr, "error: THREADBENCH_TIME_SCALE='%s' is not a positive number\n", e);
        std::exit(2);
      }
      s *= v;
    }
    return s;
  }();
  return scale;
}

// A limit in seconds, scaled.
inline double scaled(double seconds) { return seconds * time_scale(); }

// The process-wide progress count that tests bump as their steps move (one per message
// received, per hand-off, per thread joined). Relaxed RMWs: it orders nothing, so it cannot
// hide a missing happens-before from ThreadSanitizer.
inline std::atomic<std::uint64_t>& progress_count() noexcept {
  static std::atomic<std::uint64_t> count{0};
  return count;
}
inline void progressed(std::uint64_t n = 1) noexcept {
  progress_count().fetch_add(n, std::memory_order_relaxed);
}
inline std::uint64_t progress() noexcept {
  return progress_count().load(std::memory_order_relaxed);
}

// What a watchdog knows when it fires.
struct Stall {
  bool deadline;           // false: no progress for stall_limit; true: the optional total deadline
  double stalled_for;      // seconds since progress last moved
  double stall_limit;      // the scaled limit
  double running_for;      // seconds since the watchdog was armed
  std::uint64_t progress;  // the progress value it saw last
};

class ProgressWatchdog {
 public:
  struct Config {
    double stall_seconds = 10;   // unscaled; <= 0: no stall detection
    double deadline_seconds = 0; // unscaled total deadline; <= 0: none (ctest's TIMEOUT)
    std::function<std::uint64_t()> progress = [] { return kit::progress(); };
    std::function<void(const Stall&)> report;
    int exit_code = 1;
  };

  explicit ProgressWatchdog(Config c) : c_(std::move(c)) {
    stall_ = c_.stall_seconds > 0 ? scaled(c_.stall_seconds) : 0;
    deadline_ = c_.deadline_seconds > 0 ? scaled(c_.deadline_seconds) : 0;
    if (stall_ > 0 || deadline_ > 0) thread_ = std::thread([this] { watch(); });
  }
  ProgressWatchdog(const ProgressWatchdog&) = delete;
  ProgressWatchdog& operator=(const ProgressWatchdog&) = delete;
  ~ProgressWatchdog() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  double stall_limit() const noexcept { return stall_; }

 private:
  using clock = std::chrono::steady_clock;
  static clock::duration secs(double s) {
    return std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(s));
  }
  static double since(clock::time_point t) {
    return std::chrono::duration<double>(clock::now() - t).count();
  }

  // Looks every stall/8 seconds (at most 0.25 s apart), so a stall is reported within an
  // eighth of the limit after it is reached; without a stall limit it only sleeps until the
  // deadline.
  void watch() {
    std::unique_lock lock(mu_);
    const auto start = clock::now();
    const auto deadline = deadline_ > 0 ? start + secs(deadline_) : clock::time_point::max();
    const auto tick = secs(stall_ > 0 ? std::min(stall_ / 8, 0.25) : deadline_);
    std::uint64_t last = c_.progress();
    auto last_move = start;
    for (;;) {
      const auto wake = std::min(deadline, clock::now() + tick);
      if (cv_.wait_until(lock, wake, [this] { return done_; })) return;
      const auto now = clock::now();
      const std::uint64_t p = c_.progress();
      if (p != last) {
        last = p;
        last_move = now;
      }
      const bool past_deadline = now >= deadline;
      if (past_deadline || (stall_ > 0 && now - last_move >= secs(stall_))) {
        fire(Stall{past_deadline, since(last_move), stall_, since(start), p});
      }
    }
  }

  [[noreturn]] void fire(const Stall& s) {
    std::fflush(stdout);
    if (c_.report) c_.report(s);
    std::fflush(stderr);
    std::_Exit(c_.exit_code);
  }

  Config c_;
  double stall_ = 0;
  double deadline_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// The same rule for a wait inside a check (a harness that wants to say *what* hangs before
// the watchdog fires): polls done() every `poll` until it is true (returns true), or until
// progress() has not moved for stall_seconds (already scaled by the caller; returns false).
template <class Done, class Progress>
bool wait_while_moving(Done done, Progress progress, double stall_seconds,
                       std::chrono::microseconds poll = std::chrono::microseconds(200)) {
  using clock = std::chrono::steady_clock;
  const auto grace = std::chrono::duration<double>(stall_seconds);
  auto last = progress();
  auto last_move = clock::now();
  while (!done()) {
    std::this_thread::sleep_for(poll);
    if (const auto now = progress(); now != last) {
      last = now;
      last_move = clock::now();
    } else if (clock::now() - last_move > grace) {
      return false;
    }
  }
  return true;
}

}  // namespace threadbench::kit
