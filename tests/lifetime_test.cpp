// lifetime_test: what join() guarantees and what process exit does not (the Rust book's
// "Waiting for All Threads to Finish Using join Handles", in C++).
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;

// join() returns only after the thread's body has finished: all 9 of its iterations are
// recorded by then (each sleeps, so an early return would see fewer), and join's
// happens-before makes reading the vector afterwards race-free.
TEST(Lifetime, JoinWaitsForEveryIteration) {
  std::vector<int> done;
  std::thread t([&done] {
    for (int i = 1; i <= 9; ++i) {
      std::this_thread::sleep_for(1ms);
      done.push_back(i);
    }
  });
  t.join();
  ASSERT_EQ(done.size(), 9u);
  for (int i = 1; i <= 9; ++i) EXPECT_EQ(done[i - 1], i);
}

struct ChildOutput {
  int main_lines = 0;
  int thread_lines = 0;
  int other_lines = 0;
  int exit_status = -1;  // the child's exit code, or -1 if it did not exit normally
};

// Runs `path` through the shell (quoted) and sorts its output lines by who printed them.
ChildOutput run_child(const std::string& path) {
  ChildOutput out;
  FILE* pipe = ::popen(("'" + path + "'").c_str(), "r");
  if (pipe == nullptr) return out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, pipe) != nullptr) {
    const std::string_view line(buf);
    if (line.starts_with("main ")) {
      ++out.main_lines;
    } else if (line.starts_with("thread ")) {
      ++out.thread_lines;
    } else {
      ++out.other_lines;
    }
  }
  const int status = ::pclose(pipe);
  if (status != -1 && WIFEXITED(status)) out.exit_status = WEXITSTATUS(status);
  return out;
}

// Without join, returning from main ends the process and the detached thread with it.
// detached_child's thread would print 100 lines over about 3 s, but main returns after
// about 10 ms, so far fewer thread lines arrive (about 1; about 34 under ThreadSanitizer,
// which sleeps 1 s at exit); main's own 4 always do. The margin keeps this robust on a
// loaded machine: only a ~3 s stall of main alone could let the thread finish.
TEST(Lifetime, ProcessExitDoesNotWaitForDetachedThread) {
  const ChildOutput out = run_child(THREADBENCH_DETACHED_CHILD);
  EXPECT_EQ(out.exit_status, 0);
  EXPECT_EQ(out.main_lines, 4);
  EXPECT_EQ(out.other_lines, 0);
  EXPECT_LT(out.thread_lines, 100);
}

}  // namespace
