// tests/channel_support.hpp: what the channel's GoogleTest suites share: a flavour as a
// capacity (and its test-name suffix), a payload that counts its live instances, and
// within(what, step), the per-step deadline that makes a hang fail in seconds, saying what
// it was waiting for.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "threadbench/channel.hpp"

namespace tbtest {

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
// blocks) runs through within(what, step): the step gets a deadline of its own, and if it
// has not returned by then the test fails at once, printing what it was waiting for,
// instead of hanging until ctest's 120 s timeout. A blocked thread cannot be cancelled, so
// the watchdog ends the process (exit 1) after printing; each TEST is its own ctest process
// (gtest_discover_tests), so only the test that hung fails. kDeadline is far above what any
// step needs (the bulk tests take well under a second, even under ASan on 2 cores).
constexpr std::chrono::milliseconds kDeadline = 5s;

class StepWatchdog {
 public:
  StepWatchdog(const char* what, std::chrono::milliseconds limit) {
    thread_ = std::thread([this, what, limit] {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, limit, [this] { return done_; })) return;
      const auto* test = testing::UnitTest::GetInstance()->current_test_info();
      std::fprintf(stderr, "DEADLINE: %s%s%s: still waiting after %.1f s for %s\n",
                   test ? test->test_suite_name() : "", test ? "." : "", test ? test->name() : "",
                   std::chrono::duration<double>(limit).count(), what);
      std::fflush(stderr);
      std::_Exit(1);
    });
  }
  StepWatchdog(const StepWatchdog&) = delete;
  StepWatchdog& operator=(const StepWatchdog&) = delete;
  ~StepWatchdog() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// Runs step() on this thread (so gtest assertions inside it work as usual) and returns what
// it returns; fails the test as described above if it takes longer than `limit`.
template <class Step>
decltype(auto) within(const char* what, Step&& step, std::chrono::milliseconds limit = kDeadline) {
  StepWatchdog dog(what, limit);
  return std::forward<Step>(step)();
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
