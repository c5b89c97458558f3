// threadbench/detail/planted.hpp: the catalogue of bugs a test-only build can plant.
//
// A stress suite is worth only the bugs it has been shown to catch. Each entry below is one
// realistic channel bug, compiled in when THREADBENCH_PLANT_BUG is defined to its number
// (CMake: -DTHREADBENCH_PLANT_BUG=<number>); the code under test asks plant(Bug::x) at the
// one place the bug lives, so a normal build (THREADBENCH_PLANT_BUG undefined, planted ==
// none) compiles exactly the correct code and pays nothing. The catalogue's own build
// (-DTHREADBENCH_PLANT_BUG=runtime, below) compiles every bug and picks the live one per
// process. Never report numbers from a build with a planted bug.
#pragma once

namespace threadbench::detail {

enum class Bug : int {
  none = 0,
  ring_publish_relaxed = 1,      // bounded: a message published with a relaxed store
  list_publish_relaxed = 2,      // unbounded: a slot's written flag stored relaxed
  ring_consume_relaxed = 3,      // bounded: a consumer reads the slot sequence relaxed
  list_consume_relaxed = 4,      // unbounded: a consumer reads the written flag relaxed
  no_wake_after_send = 5,        // a send that wakes no blocked receiver
  no_wake_after_disconnect = 6,  // the last Sender's drop wakes no blocked receiver
  no_wake_after_pop = 7,         // a pop that frees a slot wakes no blocked sender
  no_park_fence = 8,             // the sleeper's full fence in the park handshake is gone
  park_without_recheck = 9,      // a waiter parks without re-checking after registering
  capacity_off_by_one = 10,      // a bounded channel of capacity n holds n + 1
  clone_not_counted = 11,        // a cloned Sender is not counted: early disconnect
  drop_keeps_sender_value = 12,  // Receiver drop leaves a blocked rendezvous sender's value
  rendezvous_early_return = 13,  // a rendezvous send returns before its value was taken
  timeout_too_early = 14,        // a timed receive gives up before its deadline
  list_unordered_install = 15,   // unbounded: next block linked with a relaxed store
  refcount_release_only = 16,    // last-handle decrement without acquire
  double_destroy = 17,           // teardown destroys an already-received message again
  wake_gate_no_relay = 18,       // a woken waiter does not pass on the wakes it absorbed
  list_peek_unguarded = 19,      // unbounded: a waiter peeks into the head block unguarded
};
inline constexpr Bug last_bug = Bug::list_peek_unguarded;

#if defined(THREADBENCH_PLANT_BUG_AT_RUN_TIME)
// The catalogue's own build (scripts/planted_bugs.sh; CMake -DTHREADBENCH_PLANT_BUG=runtime):
// every bug is compiled in behind a run-time test, and the environment variable
// THREADBENCH_PLANTED_BUG=<number> chooses the one that is live in this process (unset or
// 0: none). One build then serves the whole catalogue and its clean control, instead of a
// build per bug. The memory-order bugs choose their order at run time: ThreadSanitizer
// checks the order an atomic operation was given when it runs, so it sees them as it does
// in a build with the bug compiled in (the uninstrumented code treats a run-time order as
// seq_cst, which is why their catchers run under TSan). Never report numbers from it.
// The choice is read on first use (a function-local static), so it is right whatever the
// order in which static initialisers run; the constants the flavours derive from it (their
// memory orders) are THREADBENCH_PLANTED_CONST: computed once at start-up there, constexpr
// in every other build.
inline Bug planted_from_environment() noexcept;
inline bool plant(Bug b) noexcept {
  static const Bug live = planted_from_environment();
  return live == b;
}
#define THREADBENCH_PLANTED_CONST inline const
#elif defined(THREADBENCH_PLANT_BUG)
inline constexpr Bug planted = static_cast<Bug>(THREADBENCH_PLANT_BUG);
constexpr bool plant(Bug b) noexcept { return planted == b; }
#define THREADBENCH_PLANTED_CONST constexpr
#else
inline constexpr Bug planted = Bug::none;
constexpr bool plant(Bug b) noexcept { return planted == b; }
#define THREADBENCH_PLANTED_CONST constexpr
#endif

}  // namespace threadbench::detail

#if defined(THREADBENCH_PLANT_BUG_AT_RUN_TIME)
#include <cstdio>
#include <cstdlib>

// A number that is not in the catalogue is a usage error (one line, exit 2): a typo must not
// silently run the clean channel and count as "not caught".
inline threadbench::detail::Bug threadbench::detail::planted_from_environment() noexcept {
  const char* e = std::getenv("THREADBENCH_PLANTED_BUG");
  if (e == nullptr || *e == '\0') return Bug::none;
  char* end = nullptr;
  const long n = std::strtol(e, &end, 10);
  if (end == e || *end != '\0' || n < 0 || n > static_cast<long>(last_bug)) {
    std::fprintf(stderr, "error: THREADBENCH_PLANTED_BUG='%s' is not a bug of the catalogue "
                         "(0..%d, include/threadbench/detail/planted.hpp)\n",
                 e, static_cast<int>(last_bug));
    std::exit(2);
  }
  if (n != 0) std::fprintf(stderr, "planted bug %ld is live in this process (test-only build)\n", n);
  return static_cast<Bug>(n);
}
#endif
