// stress/channel_liveness.cpp: deterministic reproducers of two lost-wake-up (liveness)
// bugs that the bounded channel had with several consumers sharing the Receiver; now
// regression tests of their fix (the exact probes, Probe in detail/flavour.hpp).
//
// Random stress rarely hits them: they need a thread to stop for longer than the
// channel's spin phase between claiming a ring slot (CAS on tail/head) and publishing it
// (the slot's sequence store). Here a payload whose (noexcept) move constructor blocks on
// a gate holds exactly that window open, the way a preemption would:
//
//   stranded_message  2 consumers blocked in recv(). Producer A claims slot 0 and stalls
//                     mid-write; producer B publishes slot 1 and wakes consumer X, which
//                     finds slot 0 unpublished, reports "empty" and parks again. A then
//                     publishes and wakes ONE consumer, which takes slot 0 and leaves. The
//                     other stays asleep with B's message in the buffer (until the next
//                     send or a disconnect): recv() blocks although a message is there.
//   stuck_sender      a full cap-2 channel, 2 senders blocked in send(). Consumer A claims
//                     slot 0 and stalls mid-take; consumer B frees slot 1 and wakes sender
//                     X, which tries slot 0 (still held), finds "full" and parks again. A
//                     frees slot 0 and wakes ONE sender. The other stays asleep with a free
//                     slot: send() blocks although the channel holds 1 of 2 messages.
//
// Root cause (both, before the fix): Ring::try_pop / try_push reported empty / full when the next slot is
// merely mid-write / mid-take by another thread, and the waker that finishes that slot
// wakes only one sleeper, which may not be the one whose wake-up was spent on the false
// empty / full. Rust's crossbeam avoids it by spinning while head != tail (not empty, just
// not yet published) instead of parking.
//
// Exit 0 when both cases complete (no bug), 1 when one stays blocked longer than its
// grace, grace_seconds (bug reproduced):
// build/<preset>/stress/channel_liveness [--only stuck_sender].
// The gate finds "the move into / out of the ring" as the move whose destination / source
// is not on the current thread's stack, so it needs real stacks: not built under ASan
// (detect_stack_use_after_return moves locals to heap "fake stacks").
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include <pthread.h>

#include "harness.hpp"
#include "threadbench/channel.hpp"

namespace {

using namespace std::chrono_literals;
using tbstress::Suite;

std::atomic<bool> gate_closed{false};
std::atomic<bool> someone_in_gate{false};
thread_local bool gated_thread = false;
enum class GateOn { destination, source };
std::atomic<GateOn> gate_on{GateOn::destination};

bool on_this_threads_stack(const void* p) {
  static thread_local std::uintptr_t lo = 0, hi = 0;
  if (hi == 0) {
    pthread_attr_t attr;
    pthread_getattr_np(pthread_self(), &attr);
    void* base = nullptr;
    std::size_t size = 0;
    pthread_attr_getstack(&attr, &base, &size);
    pthread_attr_destroy(&attr);
    lo = reinterpret_cast<std::uintptr_t>(base);
    hi = lo + size;
  }
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  return a >= lo && a < hi;
}

// A message whose move into (or out of) the ring blocks while the gate is closed, on the
// one thread marked gated_thread.
struct Gated {
  int id;
  explicit Gated(int i) : id(i) {}
  Gated(Gated&& o) noexcept : id(o.id) {
    if (!gated_thread) return;
    const void* p = gate_on.load() == GateOn::destination ? static_cast<const void*>(this)
                                                           : static_cast<const void*>(&o);
    if (on_this_threads_stack(p)) return;
    someone_in_gate.store(true);
    while (gate_closed.load()) std::this_thread::sleep_for(1ms);
  }
  Gated& operator=(Gated&& o) noexcept {
    id = o.id;
    return *this;
  }
};

// Waits until n reaches want; false when n has not moved for `seconds` (a blocked call
// that no longer returns), however long the calls take while they keep returning.
bool wait_for(const std::atomic<int>& n, int want, double seconds) {
  return threadbench::kit::wait_while_moving([&] { return n.load() >= want; },
                                             [&] { return n.load(); }, seconds, 1ms);
}

void stranded_message(Suite& suite, double grace) {
  auto sc = suite.scenario("stranded_message");
  if (!sc) return;
  gate_on = GateOn::destination;
  someone_in_gate = false;
  auto [tx, rx] = threadbench::sync_channel<Gated>(4);
  std::atomic<int> returned{0};
  auto consumer = [&, &rx = rx] {
    auto r = rx.recv();
    (void)r;
    returned.fetch_add(1);
  };
  std::thread c1(consumer), c2(consumer);
  std::this_thread::sleep_for(100ms);  // both consumers park in recv()
  gate_closed = true;
  std::thread a([s = tx]() mutable {
    gated_thread = true;
    (void)s.send(Gated(0));
  });
  while (!someone_in_gate.load()) std::this_thread::sleep_for(1ms);  // A holds slot 0
  std::thread b([s = tx]() mutable { (void)s.send(Gated(1)); });     // B publishes slot 1
  b.join();
  std::this_thread::sleep_for(100ms);  // the consumer B woke sees slot 0 unpublished, parks
  gate_closed = false;                 // A publishes slot 0 and wakes one consumer
  a.join();
  const bool ok = wait_for(returned, 2, grace);
  TB_CHECK(ok, "stranded_message: 2 messages sent to 2 consumers blocked in recv(), but only %d "
               "recv() returned within %.1f s: a message sits in the buffer while a receiver sleeps",
           returned.load(), grace);
  sc.done_as("of 2 recv() returned", static_cast<std::uint64_t>(returned.load()),
             ok ? ": ok" : ": BUG REPRODUCED");
  { auto drop = std::move(tx); }  // disconnection wakes the stranded consumer (it drains first)
  c1.join();
  c2.join();
}

void stuck_sender(Suite& suite, double grace) {
  auto sc = suite.scenario("stuck_sender");
  if (!sc) return;
  gate_on = GateOn::source;
  someone_in_gate = false;
  auto [tx, rx] = threadbench::sync_channel<Gated>(2);
  (void)tx.send(Gated(0));
  (void)tx.send(Gated(1));  // full
  std::atomic<int> returned{0};
  auto sender = [&, s = tx](int id) mutable {
    (void)s.send(Gated(id));
    returned.fetch_add(1);
  };
  std::thread s1(sender, 2), s2(sender, 3);
  std::this_thread::sleep_for(100ms);  // both senders park on "full"
  gate_closed = true;
  std::thread a([&, &rx = rx] {
    gated_thread = true;
    (void)rx.recv();
  });
  while (!someone_in_gate.load()) std::this_thread::sleep_for(1ms);  // A holds slot 0
  std::thread b([&, &rx = rx] { (void)rx.recv(); });                 // B frees slot 1
  b.join();
  std::this_thread::sleep_for(100ms);  // the sender B woke finds slot 0 busy, parks again
  gate_closed = false;                 // A frees slot 0 and wakes one sender
  a.join();
  const bool ok = wait_for(returned, 2, grace);
  TB_CHECK(ok, "stuck_sender: 2 slots freed for 2 blocked senders, but only %d send() returned "
               "within %.1f s: a sender sleeps on 'full' while the channel holds 1 of 2",
           returned.load(), grace);
  sc.done_as("of 2 send() returned", static_cast<std::uint64_t>(returned.load()),
             ok ? ": ok" : ": BUG REPRODUCED");
  while (returned.load() < 2) {  // unblock the stuck sender: take what is there
    if (!rx.try_recv().ok()) std::this_thread::sleep_for(1ms);
  }
  s1.join();
  s2.join();
}

// A case fails if its blocked calls make no progress (none returns) for this long, times
// THREADBENCH_TIME_SCALE (and 4 under a sanitizer): threadbench/kit/watchdog.hpp.
constexpr double grace_seconds = 2.0;

constexpr tbstress::Harness harness{
    .program = "channel_liveness",
    .about =
        "Deterministic reproducers of two lost wake-ups with several consumers (see the\n"
        "header comment). Case names: stranded_message stuck_sender. --scale is accepted\n"
        "but unused; --seconds repeats the cases; a case fails if its blocked calls make no\n"
        "progress for 2 s (times THREADBENCH_TIME_SCALE, and 4 under a sanitizer).",
    .unit = "blocked calls returned"};

void run_all(Suite& suite) {
  stranded_message(suite, threadbench::kit::scaled(grace_seconds));
  stuck_sender(suite, threadbench::kit::scaled(grace_seconds));
}

}  // namespace

int main(int argc, char** argv) { return tbstress::harness_main(argc, argv, harness, run_all); }
