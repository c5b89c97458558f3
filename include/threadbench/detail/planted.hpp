// threadbench/detail/planted.hpp: the catalogue of bugs a test-only build can plant.
//
// A stress suite is worth only the bugs it has been shown to catch. Each entry below is one
// realistic channel bug, compiled in when THREADBENCH_PLANT_BUG is defined to its number
// (CMake: -DTHREADBENCH_PLANT_BUG=<number>); the code under test asks plant(Bug::x) at the
// one place the bug lives, so a normal build (THREADBENCH_PLANT_BUG undefined, planted ==
// none) compiles exactly the correct code and pays nothing. Never report numbers from a build
// with a planted bug.
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
};

#if defined(THREADBENCH_PLANT_BUG)
inline constexpr Bug planted = static_cast<Bug>(THREADBENCH_PLANT_BUG);
#else
inline constexpr Bug planted = Bug::none;
#endif

constexpr bool plant(Bug b) noexcept { return planted == b; }

}  // namespace threadbench::detail
