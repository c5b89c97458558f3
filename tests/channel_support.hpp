// tests/channel_support.hpp: what the channel's GoogleTest suites share: a flavour as a
// capacity (and its test-name suffix), a payload that counts its live instances, and
// within(what, step), the per-step progress watchdog that makes a hang fail in seconds,
// saying what it was waiting for and how far it got.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "threadbench/channel.hpp"
#include "threadbench/kit/short_slices.hpp"
#include "threadbench/kit/thread_state.hpp"
#include "threadbench/kit/watchdog.hpp"

namespace tbtest {

// Short scheduler slices for every thread of a test binary (kit/short_slices.hpp: on a busy
// machine a woken thread then runs at once instead of after a CPU-bound neighbour's slice).
// Asked for while the binary starts, before main and before any thread, so every thread a
// test starts inherits them.
inline const std::uint64_t short_slices = threadbench::kit::ask_for_short_slices();

using namespace std::chrono_literals;
using threadbench::channel;
using threadbench::Receiver;
using threadbench::Sender;
using threadbench::sync_channel;

// A flavour is a capacity: nullopt = channel(), n = sync_channel(n), 0 = rendezvous.
using Cap = std::optional<std::size_t>;

template <class T>
std::pair<Sender<T>, Receiver<T>> make(Cap cap) {
  return cap ? sync_channel<T>(*cap) : channel<T>();
}

std::string cap_name(const testing::TestParamInfo<Cap>& info) {
  return info.param ? "cap" + std::to_string(*info.param) : std::string("unbounded");
}

// Every blocking step of the channel tests (a recv, a send that may block, joining a thread that
// blocks) runs through within(what, step), under the one progress watchdog of
// threadbench/kit/watchdog.hpp: the step fails when NOTHING HAS MOVED for default_stall (times
// THREADBENCH_TIME_SCALE, times 4 under a sanitizer), never because it is slow. Steps that
// move many messages report each one with moved() (the receive loops, the producers of the
// bulk tests), so 80,000 rendezvous hand-offs on a machine busy with other work keep the
// watchdog quiet for as long as they keep going, while a lost wake-up fails in seconds. On a
// stall it prints "DEADLINE: <test>: no progress for X s ... while waiting for <what>" with
// the progress so far, and ends the process (exit 1): a blocked thread cannot be cancelled.
// Each TEST is its own ctest process (gtest_discover_tests), so only the test that hung
// fails; the total time of a test stays with ctest's TIMEOUT.
constexpr std::chrono::milliseconds default_stall = 10s;
// What a test that must let a step time out (recv_for, the late message of a racing send)
// may wait at most: the same scaled limit.
inline std::chrono::milliseconds step_limit() {
  return std::chrono::milliseconds(
      static_cast<long long>(threadbench::kit::scaled(static_cast<double>(default_stall.count()))));
}

// One step of a test made progress (a message received or sent, a hand-off done).
inline void moved(std::uint64_t n = 1) noexcept { threadbench::kit::progressed(n); }

// Runs step() on this thread (so gtest assertions inside it work as usual) and returns what
// it returns; fails the test as described above if the step makes no progress for `stall`.
template <class Step>
decltype(auto) within(const char* what, Step&& step,
                      std::chrono::milliseconds stall = default_stall) {
  const std::uint64_t before = threadbench::kit::progress();
  threadbench::kit::ProgressWatchdog dog({
      .stall_seconds = std::chrono::duration<double>(stall).count(),
      .report =
          [what, before](const threadbench::kit::Stall& s) {
            const auto* test = testing::UnitTest::GetInstance()->current_test_info();
            std::fprintf(stderr,
                         "DEADLINE: %s%s%s: no progress for %.1f s (stall limit %.1f s) while "
                         "waiting for %s; progress in this step: %llu (%.1f s into it)\n",
                         test ? test->test_suite_name() : "", test ? "." : "",
                         test ? test->name() : "", s.stalled_for, s.stall_limit, what,
                         static_cast<unsigned long long>(s.progress - before), s.running_for);
          },
      .exit_code = 1,
  });
  return std::forward<Step>(step)();
}

// A thread that a test expects to block in a channel call: it records its kernel id first
// (blocked.enter()), and blocked.left() once the call returned. wait_parked_or_returned()
// waits until the kernel shows the thread asleep (parked in the call) or the call has
// returned, whichever comes first, under the progress watchdog. A test that then expects
// "still blocked" is deterministic on a busy machine: a wrong early return is seen however
// late the thread ran, and a correct call is seen parked, not merely not yet scheduled
// (what "sleep 50 ms and look" could not tell apart).
struct Blocked {
  std::atomic<pid_t> tid{0};
  std::atomic<bool> returned{false};
  void enter() noexcept { tid.store(threadbench::kit::this_thread_tid(), std::memory_order_release); }
  void left() noexcept { returned.store(true, std::memory_order_release); }
  bool has_returned() const noexcept { return returned.load(std::memory_order_acquire); }
};

inline void wait_parked_or_returned(const char* what, const Blocked& b) {
  within(what, [&] {
    int asleep = 0;
    while (!b.has_returned() && asleep < 3) {
      const pid_t tid = b.tid.load(std::memory_order_acquire);
      asleep = tid != 0 && threadbench::kit::asleep(tid) ? asleep + 1 : 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
}

// Counts live instances, so leaks and double destruction show up as a wrong count.
struct Counted {
  static inline std::atomic<int> live{0};
  int v;
  explicit Counted(int x) : v(x) { ++live; }
  Counted(const Counted& o) : v(o.v) { ++live; }
  Counted(Counted&& o) noexcept : v(o.v) { ++live; }
  ~Counted() { --live; }
};

}  // namespace tbtest
