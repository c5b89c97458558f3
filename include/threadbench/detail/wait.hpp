// threadbench/detail/wait.hpp: how a blocked channel operation waits: wait_until_ready,
// the wait loop every buffered operation blocks in (spin, then yield, then park on an
// EventCount until its condition holds or its deadline passes).
//
// Blocking is spin-then-park: a short, bounded spin first, because when the peer thread is
// running on another core the hand-off arrives within a few hundred nanoseconds and a
// sleep/wake pair costs tens of microseconds; then a few yields, which matter when there
// are more runnable threads than cores; then a real sleep on a Linux futex, so that an
// idle blocked thread costs no CPU at all. While the process is crowded (its threads keep
// being preempted), every 256th wait of a thread (and at most one every 0.25 ms) begins
// with a short nap after its first poll, so that a waiter whose messages keep arriving
// within its spin does not hold a core that the threads it waits for need
// (step_off_if_crowded, spin.hpp).
//
// The parts it is made of, one per file: spin.hpp (how long to poll before parking, and
// the nap), event_count.hpp (parking without lost wake-ups), fence.hpp and futex.hpp (what
// parking is built on), deadline.hpp (when to give up); the Backoff for short waits on
// another thread's next step is in backoff.hpp, cpu_relax and cache_line in cpu.hpp. This
// header includes all of them but backoff.hpp, so code that includes it for any of those
// names keeps compiling.
#pragma once

#include "threadbench/detail/cpu.hpp"
#include "threadbench/detail/deadline.hpp"
#include "threadbench/detail/event_count.hpp"
#include "threadbench/detail/fence.hpp"
#include "threadbench/detail/futex.hpp"
#include "threadbench/detail/planted.hpp"
#include "threadbench/detail/spin.hpp"

namespace threadbench::detail {

// Waits for ready(exact) to become true: spin, yield, then park on ec. Returns false when
// the deadline passed first. While polling, ready(false) may answer "not yet" cheaply
// (a quick probe); before sleeping, and at the deadline, ready(true) must be exact, since
// a wrong "not yet" then means sleeping through a wake-up (see the ring's probes).
template <class Ready>
bool wait_until_ready(EventCount& ec, const Deadline& deadline, Ready&& ready) {
  if (ready(false)) return true;
  // Now and then, while the process's threads keep being preempted, a short nap first
  // (spin.hpp). Not in a timed wait: a nap could outlast its deadline.
  if (deadline == never && step_off_if_crowded() && ready(false)) return true;
  SpinPolls polls(ec.budget.polls());
  while (polls.next()) {  // spin, then yield
    if (ready(false)) {
      ec.budget.ended(polls);
      return true;
    }
    if (expired(deadline)) return ready(true);
  }
  for (;;) {  // park
    const auto token = ec.prepare();
    if (!plant(Bug::park_without_recheck) && ready(true)) {
      ec.cancel();
      ec.pass_on();
      return true;
    }
    ec.sleep(token, deadline);
    if (ready(false) || (expired(deadline) && ready(true))) {
      ec.pass_on();
      return true;
    }
    if (expired(deadline)) return false;
  }
}

}  // namespace threadbench::detail
