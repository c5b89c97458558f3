// threadbench/kit/thread_state.hpp: is a thread asleep? For checks that must reach a park.
//
// A test of a wake-up is only a test if the waiter really sleeps first: "sleep 50 ms, by
// then it is parked" holds on a quiet machine and fails on a busy one, where the waiter may
// still be spinning or yielding when the test goes on, and then the wake path under test is
// never taken. These helpers let a test wait until the kernel itself says that a thread is
// asleep (state S in /proc/self/task/<tid>/stat: blocked in a syscall such as futex_wait;
// a spinning or yielding thread is R), instead of guessing. Linux only.
#pragma once

#include <sched.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

namespace threadbench::kit {

// The kernel's id of the calling thread (what /proc/self/task lists).
inline pid_t this_thread_tid() noexcept { return static_cast<pid_t>(::syscall(SYS_gettid)); }

// The scheduler state of thread `tid` of this process: 'R' running or runnable, 'S' asleep
// (interruptible), 'D' uninterruptible, ...; '?' when it cannot be read (the thread is gone).
inline char thread_state(pid_t tid) noexcept {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/task/%d/stat", static_cast<int>(tid));
  std::FILE* f = std::fopen(path, "r");
  if (f == nullptr) return '?';
  char buf[512];
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // "tid (comm) S ...": comm may hold spaces and parentheses, so the state is the first
  // non-space after the LAST ')'.
  const char* close = nullptr;
  for (const char* p = buf; *p != '\0'; ++p) {
    if (*p == ')') close = p;
  }
  if (close == nullptr) return '?';
  const char* p = close + 1;
  while (*p == ' ') ++p;
  return *p != '\0' ? *p : '?';
}

inline bool asleep(pid_t tid) noexcept { return thread_state(tid) == 'S'; }

// Waits until thread `tid` is asleep and stays asleep over `confirmations` looks 1 ms apart
// (a thread between two short sleeps is not parked). Polls without a limit of its own: run
// it under a ProgressWatchdog, which turns "never falls asleep" into a failure.
inline void wait_until_asleep(pid_t tid, int confirmations = 3) {
  int seen = 0;
  while (seen < confirmations) {
    seen = asleep(tid) ? seen + 1 : 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// Pins the calling thread to one CPU for the lifetime of the object, then gives it back the
// CPUs it had. cpu < 0, or a CPU it may not use, leaves it unpinned (pinned() is false).
// Used to keep a waker and the waiters it wakes on different CPUs, so that a woken waiter
// cannot preempt its waker halfway through a burst (a kernel may run a freshly woken
// thread at once on the waker's CPU, which turns a burst into a sequence of single wakes).
class PinThisThread {
 public:
  explicit PinThisThread(int cpu) noexcept {
    if (cpu < 0 || sched_getaffinity(0, sizeof before_, &before_) != 0) return;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    pinned_ = sched_setaffinity(0, sizeof one, &one) == 0;
  }
  PinThisThread(const PinThisThread&) = delete;
  PinThisThread& operator=(const PinThisThread&) = delete;
  ~PinThisThread() {
    if (pinned_) sched_setaffinity(0, sizeof before_, &before_);
  }
  bool pinned() const noexcept { return pinned_; }

 private:
  cpu_set_t before_{};
  bool pinned_ = false;
};

// The n-th CPU (0-based) this thread may run on, or -1 when it may use fewer than n + 1.
inline int allowed_cpu(int n) noexcept {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set) && n-- == 0) return cpu;
  }
  return -1;
}

}  // namespace threadbench::kit
