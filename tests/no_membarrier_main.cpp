// main() for the channel conformance suites run without membarrier(2).
//
// The channel's park handshake uses asymmetric fences: a compiler barrier on every send and
// receive, membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) when a thread is about to sleep
// (detail/wait.hpp). Where the kernel refuses membarrier, both sides must fall back to full
// fences, or a wake-up can be lost. Those fallbacks run nowhere else, so this main runs a
// whole conformance suite with membarrier refused by a seccomp filter (ENOSYS, as an old
// kernel or a container's seccomp profile answers), in one of two modes, from the
// environment variable THREADBENCH_MEMBARRIER:
//   refuse-at-start     the filter is installed before the channel's first look, so the
//                       channel uses full fences from the start;
//   refuse-after-start  the channel registers for membarrier first and the filter comes
//                       after, so the first park's membarrier fails at run time and the
//                       channel must switch to full fences then (fences_switched_late()).
// Each mode checks, before and after the tests, that the channel really took the path under
// test (CheckPath).
#include "threadbench/channel.hpp"
#include "threadbench/detail/wait.hpp"
#include "threadbench/kit/thread_state.hpp"
#include "threadbench/kit/watchdog.hpp"

#include <gtest/gtest.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

#if defined(__x86_64__)
constexpr unsigned audit_arch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr unsigned audit_arch = AUDIT_ARCH_AARCH64;
#else
#error "no seccomp architecture constant for this target"
#endif

// Every later membarrier(2) of every thread of this process fails with ENOSYS.
void refuse_membarrier() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, audit_arch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_membarrier, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof(filter) / sizeof(filter[0])), filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0) {
    std::fprintf(stderr, "no_membarrier_main: cannot install the seccomp filter: %s\n",
                 std::strerror(errno));
    std::exit(2);
  }
  if (syscall(SYS_membarrier, 0 /* MEMBARRIER_CMD_QUERY */, 0, 0) != -1 || errno != ENOSYS) {
    std::fprintf(stderr, "no_membarrier_main: the filter did not refuse membarrier\n");
    std::exit(2);
  }
}

// Parks a receiver for real, whatever the machine's load: a thread blocks in recv() on an
// empty channel (no deadline: it spins, yields and then must park), and this thread waits
// until the kernel shows it asleep (threadbench/kit/thread_state.hpp) before it wakes it
// with a message. In refuse-after-start mode the park's fence (heavy_fence: membarrier,
// refused by now) has then run and switched the channel to full fences, which check()
// verifies; a park that skips its fence (planted bug no_park_fence) leaves it unswitched.
// Under the progress watchdog: a receiver that never falls asleep fails in seconds.
void park_one_receiver() {
  namespace kit = threadbench::kit;
  auto [tx, rx] = threadbench::channel<int>();
  std::atomic<pid_t> tid{0};
  std::thread receiver([&tid, &rx = rx] {
    tid.store(kit::this_thread_tid(), std::memory_order_release);
    (void)rx.recv();
  });
  {
    kit::ProgressWatchdog dog({.stall_seconds = 10, .report = [](const kit::Stall& s) {
                                 std::fprintf(stderr, "DEADLINE: no_membarrier_main: a receiver "
                                                      "blocked in recv() was not seen asleep "
                                                      "after %.1f s\n", s.stalled_for);
                               }});
    while (tid.load(std::memory_order_acquire) == 0) std::this_thread::yield();
    kit::wait_until_asleep(tid.load(std::memory_order_acquire));
  }
  EXPECT_TRUE(tx.send(1).ok());
  receiver.join();
}

// Did the channel take the path this mode is about? Checked before the tests and again
// after them. Each ctest test is a process of its own and many never park, so in
// refuse-after-start mode SetUp() first parks a receiver for real (park_one_receiver), which
// must try membarrier, see it fail and switch to full fences.
class CheckPath : public testing::Environment {
 public:
  explicit CheckPath(bool late) : late_(late) {}
  void SetUp() override {
    if (late_) park_one_receiver();
    check("before the tests");
  }
  void TearDown() override { check("after the tests"); }

 private:
  void check(const char* when) const {
    namespace d = threadbench::detail;
    EXPECT_FALSE(d::membarrier_usable()) << when << ": the channel still believes membarrier works";
    EXPECT_EQ(d::fences_switched_late(), late_)
        << when << ": "
        << (late_ ? "membarrier failed at run time, but the channel never switched to fences "
                    "(a receiver parked in recv() without running the park's fence)"
                  : "membarrier was refused from the start, yet a late switch was recorded");
  }
  bool late_;
};

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  // --gtest_list_tests (ctest's discovery) runs no test: nothing to refuse or check then. A
  // death test's child process re-runs this main: it inherited the filter, and its parent
  // does the checking.
  if (testing::GTEST_FLAG(list_tests) || !testing::GTEST_FLAG(internal_run_death_test).empty()) {
    return RUN_ALL_TESTS();
  }
  const char* env = std::getenv("THREADBENCH_MEMBARRIER");
  const std::string mode = env ? env : "";
  bool late = false;
  if (mode == "refuse-at-start") {
    refuse_membarrier();
  } else if (mode == "refuse-after-start") {
    late = true;
    if (!threadbench::detail::membarrier_usable()) {
      std::fprintf(stderr, "no_membarrier_main: this kernel has no membarrier to refuse later; "
                           "the refuse-at-start run covers the fallback\n");
      return 0;
    }
    refuse_membarrier();
  } else {
    std::fprintf(stderr, "no_membarrier_main: set THREADBENCH_MEMBARRIER to refuse-at-start or "
                         "refuse-after-start (got '%s')\n", mode.c_str());
    return 2;
  }
  testing::AddGlobalTestEnvironment(new CheckPath(late));
  return RUN_ALL_TESTS();
}
