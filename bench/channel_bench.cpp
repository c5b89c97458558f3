// bench/channel_bench.cpp: family `channel` — what moving a message costs, per queue.
//
// Names: channel/<scenario>/impl:<impl>/cap:<0|1|1024|unbounded>/producers:<P>/
//        consumers:<C>/payload:<8|64|1024|boxed>   (keys that do not apply are left out;
//        Google Benchmark appends /real_time, which says how it was timed, not what ran)
//
// The scenarios are crossbeam's (seq, spsc, mpsc, mpmc) plus a round-trip latency
// (ping_pong) against a raw-atomic floor, the CPU an idle receiver burns (idle_recv), and
// the harness's own floor under spsc/mpsc/mpmc (crew).
// Each scenario is written once, as a template over the contender seam
// (threadbench/contenders/contender.hpp): the built-in adapters of
// threadbench/contenders/builtin.hpp, then each user contender of the build
// (THREADBENCH_CONTENDERS), registered the same way. A contender runs a scenario only when
// it can honestly: supports(cap) for the capacity, max_producers / max_consumers for the
// thread counts, a payload type its adapter compiles for (a queue of copyable values skips
// payload:boxed), and per-producer FIFO where the end-of-stream protocol needs it (below).
//
// Method, common to the throughput scenarios:
//  * Threads are created before timing starts and parked at a start gate (bench::Crew in
//    kit.hpp, the protocol the Rust and Go peers share). Only the messages are timed: the
//    clock starts when the coordinator releases the crew and stops when it sees the last
//    consumer report, right after that consumer's last message. The crew's return to the
//    gate, the checks and the resets fall between timed intervals. What remains of the
//    harness inside the interval (one wake-up of the parked crew, the coordinator noticing
//    the last consumer) is measured alone by the crew rows,
//    channel/crew/impl:std_thread/producers:P/consumers:C: the same round with nothing to
//    send (scripts/threadbench_results/floor.py sets it beside each flow row).
//  * Producers send keys 1..N (disjoint ranges per producer), then one end marker each;
//    consumers keep count and sum. The consumer that takes the last marker sends one stop
//    message per other consumer. Markers rely only on per-producer FIFO order, which every
//    built-in contender has (moodycamel has nothing stronger), so the same protocol serves
//    all. A contender that does not claim it (fifo_per_producer) runs the single-consumer
//    scenarios only, where the consumer ends once it holds every marker and N messages; the
//    stop messages also make one more sender than there are producers, so P x C with C > 1
//    needs max_producers > P.
//  * Every iteration checks count == N and sum == N(N+1)/2 (exactly once, nothing lost,
//    nothing duplicated) and calls SkipWithError otherwise. Checks are on in Release.
//  * Throughput is items_per_second = messages per second of timed wall time (UseRealTime
//    with the untimed parts paused: real_time is the mean timed interval per iteration).
//
// The grid (registered in register_all; its size follows the thread axis and the contenders'
// capabilities: --benchmark_list_tests prints it) covers each axis once rather than the
// cross product (scripts/bench.sh says how long a run takes):
//   cap axis      spsc and ping_pong: 0, 1, 1024, unbounded (payload 8)
//   payload axis  spsc at cap 1024 and unbounded: 8, 64, 1024, boxed
//   thread axis   mpsc (P x 1) and mpmc (P x P), P = 1, 2, 4, ... up to max(8, 2 x cores)
//                 (bench/thread_axis.hpp), at cap 1024 and unbounded
//   crew          channel/crew/impl:std_thread/producers:P/consumers:C for each P x 1 and
//                 P x P above: the flow round with nothing to send (the harness floor)
// Extra flag: --idle_ms=<ms> (default 1000): how long idle_recv's receiver waits.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <semaphore>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <sys/resource.h>

#include "kit.hpp"
#include "thread_axis.hpp"
#include "threadbench/contenders/builtin.hpp"
#include "threadbench_user_contenders.hpp"  // generated: THREADBENCH_CONTENDERS (maybe none)

namespace {

using bench::Cap;
using bench::Crew;
using bench::Name;
using bench::OwnLines;
using bench::RttRecorder;
using bench::Tally;

// ---- payloads -----------------------------------------------------------------------------
// Each payload carries a 64-bit key (what the checks add up). Keys 1..N are data; the two
// largest values are the in-band end-of-stream messages.
constexpr std::uint64_t marker_key = ~std::uint64_t{0};      // "this producer is done"
constexpr std::uint64_t stop_key = ~std::uint64_t{0} - 1;    // "consumer: leave now"

struct Word {  // payload:8, a machine word: the queue's own cost, nothing else
  using type = std::uint64_t;
  static constexpr std::string_view label = "8";
  static type make(std::uint64_t k) noexcept { return k; }
  static std::uint64_t key(const type& v) noexcept { return v; }
};

template <std::size_t Bytes>
struct Blob {  // payload:64 / payload:1024, trivially copyable messages moved by value
  struct type {
    std::uint64_t key;
    unsigned char pad[Bytes - sizeof(std::uint64_t)];
  };
  static_assert(sizeof(type) == Bytes);
  static constexpr std::string_view label = Bytes == 64 ? "64" : "1024";
  static type make(std::uint64_t k) noexcept {
    type v;
    v.key = k;
    std::memset(v.pad, static_cast<int>(k & 0xff), sizeof v.pad);  // a producer writes it all
    return v;
  }
  static std::uint64_t key(const type& v) noexcept { return v.key; }
};

struct Boxed {  // payload:boxed, std::unique_ptr: one allocation per message, freed by the consumer
  using type = std::unique_ptr<std::uint64_t>;
  static constexpr std::string_view label = "boxed";
  static type make(std::uint64_t k) { return std::make_unique<std::uint64_t>(k); }
  static std::uint64_t key(const type& v) noexcept { return *v; }
};

// ---- scenarios ----------------------------------------------------------------------------

// Messages moved by one iteration of spsc/mpsc/mpmc: 65536 = 2^16 divides evenly among
// any power-of-two number of producers (the thread axis), is 64 laps of a 1024-slot ring
// (so a bounded run really exercises "full"), and keeps an iteration, from the fastest
// queue to the slowest, long enough to amortise the crew's release and wake-up (the crew
// rows: under 2% of every flow row, the report's "Harness floor") and short enough for
// several iterations per repetition. With 2^14 the floor was about 3% of the 4x4 rows on
// the 2-vCPU VM. Unbounded queues may hold the whole batch: 64 MiB at payload 1024.
constexpr std::uint64_t flow_messages = 65536;

// seq: one thread sends seq_messages, then receives them all; no other thread exists. The
// number is the queue's single-threaded fast path (no contention, no blocking, the buffer
// warm in L1/L2). 1000 messages fit in cap 1024, so the sender never blocks; caps below
// that would deadlock and are not registered (as in crossbeam).
constexpr std::uint64_t seq_messages = 1000;

template <template <class> class Q, class P>
void bm_channel_seq(benchmark::State& state, Cap cap) {
  using T = typename P::type;
  Q<T> q(cap);
  T v{};
  for (auto _ : state) {
    for (std::uint64_t k = 1; k <= seq_messages; ++k) q.send(P::make(k));
    Tally got;
    for (std::uint64_t i = 0; i < seq_messages; ++i) {
      q.recv(v);
      got.add(P::key(v));
    }
    if (!bench::holds_each_of(got, seq_messages)) {
      state.SkipWithError("seq: received keys do not add up to the sent ones");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(seq_messages));
}

// Context switches of the whole process (every thread, voluntary and involuntary: a park, a
// yield that ran another thread, a preemption; getrusage) since construction, per 1000
// things: per1k(n). Read outside the timed loop; it covers every iteration, timed parts and
// untimed ones alike.
class Switches {
 public:
  double per1k(double things) const {
    return things > 0 ? 1000.0 * static_cast<double>(now() - before_) / things : 0.0;
  }

 private:
  static long now() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_nvcsw + ru.ru_nivcsw;
  }
  long before_ = now();
};

// spsc / mpsc / mpmc: P producers and C consumers move flow_messages per iteration (see the
// method notes at the top of the file). The registration paragraphs say what each reads as.
template <template <class> class Q, class P>
void bm_channel_flow(benchmark::State& state, Cap cap, int producers, int consumers) {
  using T = typename P::type;
  // Registered with consumers > 1 only when true (see add_flow).
  constexpr bool in_order = bench::fifo_per_producer<Q<T>>();
  const std::uint64_t per_producer = flow_messages / static_cast<std::uint64_t>(producers);
  const std::uint64_t total = per_producer * static_cast<std::uint64_t>(producers);

  OwnLines<Q<T>> q(cap);  // every member calls it; alone on its lines (bench::OwnLines)
  std::atomic<int> markers{0};
  std::vector<Tally> tallies(static_cast<std::size_t>(consumers));
  // Members 0..P-1 produce, P..P+C-1 consume; the consumers' return ends a timed round.
  Crew crew(producers + consumers, consumers, [&](int i) {
    if (i < producers) {
      const std::uint64_t first = static_cast<std::uint64_t>(i) * per_producer + 1;
      for (std::uint64_t k = first; k < first + per_producer; ++k) q->send(P::make(k));
      q->send(P::make(marker_key));
      return;
    }
    Tally t;
    T v{};
    bool all_markers = false;
    for (;;) {
      q->recv(v);
      const std::uint64_t k = P::key(v);
      if (k == stop_key) break;
      if (k == marker_key) {
        all_markers = markers.fetch_add(1, std::memory_order_acq_rel) + 1 == producers;
        // Per-producer FIFO: once all P markers are taken, every data message has been
        // taken too, so the other consumers may be told to stop.
        if (in_order && all_markers) {
          for (int c = 1; c < consumers; ++c) q->send(P::make(stop_key));
          break;
        }
      } else {
        t.add(k);
      }
      // Without that order (one consumer only): done once it holds every marker and as
      // many messages as were sent.
      if (!in_order && all_markers && t.count == total) break;
    }
    tallies[static_cast<std::size_t>(i - producers)] = t;
  });

  // Checked between rounds (untimed): the round before, then the last one after the loop.
  const auto all_there = [&] { return bench::holds_each_of(bench::total(tallies), total); };
  constexpr const char* lost = "flow: messages lost or duplicated (count/sum mismatch)";
  bool ran = false;
  const Switches switches;
  for (auto _ : state) {
    const bool go_on = crew.round(state, [&] {
      if (ran && !all_there()) return false;
      markers.store(0, std::memory_order_relaxed);  // published by the gate's release
      ran = true;
      return true;
    });
    if (!go_on) {
      state.SkipWithError(lost);
      break;
    }
  }
  if (ran && !state.error_occurred() && !all_there()) state.SkipWithError(lost);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(total));
  // switches_per_1k_msgs: context switches of the whole process (every thread, voluntary
  // and not: a park, a yield that ran another thread, a preemption) per 1000 messages moved.
  // It tells a row that is bound by sleeping and waking (high) from one bound by cache-line
  // traffic (near the floor the crew gives: each member parks once per round at the gate
  // and the coordinator at most twice, about (threads + 2) / 64 per 1000 messages). Over
  // all iterations, timed parts and untimed ones alike.
  const double moved = static_cast<double>(state.iterations()) * static_cast<double>(total);
  state.counters["switches_per_1k_msgs"] = switches.per1k(moved);
}

// crew: the floor under every spsc/mpsc/mpmc row of the same P x C, and of no queue: the
// flow's round (bench::Crew: release the parked crew, wait until the C consumers report)
// with roles that return at once. real_time is ns per round: the release store and the
// futex wake of P + C parked threads, their getting a CPU, the last consumer's report and
// the coordinator noticing it (a wake-up of its own when it had parked). A flow row's time
// per iteration minus this is what its messages cost; floor.py reports the ratio.
void bm_channel_crew(benchmark::State& state, int producers, int consumers) {
  Crew crew(producers + consumers, consumers, [](int) {});
  for (auto _ : state) crew.round(state, [] { return true; });
}

// ping_pong: the caller sends a word on one queue, a responder thread (started before timing)
// echoes it +1 on a second queue, round_count times per iteration. items_per_second is round
// trips per second; p50_ns / p99_ns / p999_ns are percentiles of the per-round round-trip
// time (TSC stamps, one read per round included). This is latency, not throughput:
// each message waits for the previous one, so the waiting strategy (spin, yield, park) is
// what is measured. 1000 rounds per iteration keeps gbench's loop overhead out of the
// percentiles and an iteration short against a repetition. Each reply is checked (== sent + 1).
constexpr int round_count = 1000;

template <template <class> class Q>
void bm_channel_ping_pong(benchmark::State& state, Cap cap) {
  // Each queue on lines of its own, away from the stamps and counters this thread writes
  // every round (bench::OwnLines says why and what it changed).
  OwnLines<Q<std::uint64_t>> there(cap);
  OwnLines<Q<std::uint64_t>> back(cap);
  std::thread responder([&] {
    // With THREADBENCH_PIN (--pin) the responder takes the list's first CPU before its first
    // message, as crew member 0 would: its placement is baked into every repetition, so a
    // per-thread pin keeps it on the same core every process.
    bench::pin_this_thread(0);
    std::uint64_t v = 0;
    for (;;) {
      there->recv(v);
      if (v == stop_key) return;
      back->send(v + 1);
    }
  });
  RttRecorder rtt;
  std::uint64_t next = 1;
  std::uint64_t v = 0;
  bool ok = true;
  for (int i = 0; i < round_count; ++i, next += 2) {  // warm-up: responder running, caches hot
    there->send(std::uint64_t{next});
    back->recv(v);
  }
  const Switches switches;
  for (auto _ : state) {
    rtt.start();
    for (int i = 0; i < round_count; ++i, next += 2) {
      there->send(std::uint64_t{next});
      back->recv(v);
      ok &= (v == next + 1);
      rtt.lap();
    }
    if (!ok) {
      state.SkipWithError("ping_pong: reply is not request + 1");
      break;
    }
  }
  const double per1k = switches.per1k(static_cast<double>(state.iterations()) * round_count);
  there->send(std::uint64_t{stop_key});
  responder.join();
  rtt.report(state);
  // switches_per_1k_rtt: context switches of the process (both threads, voluntary and not)
  // per 1000 timed round trips. Near 0 when both sides catch each hand-off in their spin;
  // about 2000 when each hand-off is a switch: both sides park every round trip, or the two
  // threads share one core and hand over by yielding. Measured (2-vCPU AMD EPYC VM, 50
  // quiet processes): 0-32 at cap 1, 1024 and unbounded (mostly 0-1), 0-90 at cap 0; with a CPU
  // burner pinned to the other vCPU, 2000 at every capacity, p50 4-6 us, every wait ending
  // in a yield.
  state.counters["switches_per_1k_rtt"] = per1k;
  state.SetItemsProcessed(state.iterations() * round_count);
}

// ping_pong/impl:atomic_spin: the physical floor for a round trip between two cores. Two
// threads hand a counter back and forth through one cache line (odd = ping, even = pong),
// each spinning on plain loads with no pause, no queue, no wake-up. Same rounds, same
// clock and same counters as bm_channel_ping_pong; a queue's p50 divided by this p50 is the price
// of its protocol. Needs two free cores: with one, p50 becomes a scheduler time slice.
void bm_channel_ping_pong_atomic_spin(benchmark::State& state) {
  alignas(64) std::atomic<std::uint64_t> flag{0};
  std::thread responder([&] {
    bench::pin_this_thread(0);  // THREADBENCH_PIN: the list's first CPU (see bm_channel_ping_pong)
    std::uint64_t want = 1;
    for (;;) {
      std::uint64_t v;
      while ((v = flag.load(std::memory_order_acquire)) != want) {
        if (v == stop_key) return;
      }
      flag.store(want + 1, std::memory_order_release);
      want += 2;
    }
  });
  RttRecorder rtt;
  std::uint64_t cur = 0;
  auto round = [&] {
    flag.store(cur + 1, std::memory_order_release);
    while (flag.load(std::memory_order_acquire) != cur + 2) {
    }
    cur += 2;
  };
  for (int i = 0; i < round_count; ++i) round();  // warm-up
  const Switches switches;
  for (auto _ : state) {
    rtt.start();
    for (int i = 0; i < round_count; ++i) {
      round();
      rtt.lap();
    }
  }
  const double per1k = switches.per1k(static_cast<double>(state.iterations()) * round_count);
  flag.store(stop_key, std::memory_order_release);
  responder.join();
  rtt.report(state);
  state.counters["switches_per_1k_rtt"] = per1k;
  state.SetItemsProcessed(state.iterations() * round_count);
}

// idle_recv: how much CPU a receiver burns while it waits on an empty queue. The benchmark
// thread blocks in recv() for --idle_ms (default 1000 ms) until a helper thread, which
// sleeps that long, sends one message. cpu_pct = CPU time of the waiting thread itself
// (CLOCK_THREAD_CPUTIME_ID, read inside it, so the helper's CPU does not count) / wall
// time x 100; 100 = it kept a whole core busy. 1 s is the goal's duration and costs only
// seconds per run; one wait outlasts any min_time below it, so a repetition is one wait
// (with a longer min_time, the counter covers all its waits). Unbounded queues, so every
// contender with an unbounded mode runs (one without is left out); the bounded channel
// parks on the same event counts.
int g_idle_ms = 1000;

template <template <class> class Q>
void bm_channel_idle_recv(benchmark::State& state) {
  const auto wait = std::chrono::milliseconds(g_idle_ms);
  Q<std::uint64_t> q(std::nullopt);
  std::binary_semaphore go{0};
  std::atomic<bool> quit{false};
  std::thread helper([&] {
    for (;;) {
      go.acquire();
      if (quit.load(std::memory_order_relaxed)) return;
      std::this_thread::sleep_for(wait);
      q.send(std::uint64_t{42});
    }
  });
  double cpu = 0;
  double wall = 0;
  std::uint64_t v = 0;
  for (auto _ : state) {
    go.release();
    const auto w0 = std::chrono::steady_clock::now();
    const double c0 = bench::thread_cpu_ns();
    q.recv(v);
    const double c1 = bench::thread_cpu_ns();
    const auto w1 = std::chrono::steady_clock::now();
    cpu += c1 - c0;
    wall += std::chrono::duration<double, std::nano>(w1 - w0).count();
    if (v != 42) {
      state.SkipWithError("idle_recv: wrong message");
      break;
    }
  }
  quit.store(true, std::memory_order_relaxed);
  go.release();
  helper.join();
  state.counters["cpu_pct"] = wall > 0 ? 100.0 * cpu / wall : 0.0;
}

// ---- registration -------------------------------------------------------------------------

// Calls f.template operator()<Q>() for every contender: the built-ins of builtin.hpp in
// their order, then the user contenders of the build (the slots of the generated
// threadbench_user_contenders.hpp). Every scenario below walks the same list.
template <class F>
void for_each_contender(F&& f) {
  [&]<template <class> class... Qs>(bench::Contenders<Qs...>) {
    (f.template operator()<Qs>(), ...);
  }(bench::BuiltinContenders{});
  [&]<int... Slot>(std::integer_sequence<int, Slot...>) {
    (f.template operator()<bench::UserContender<Slot>::template type>(), ...);
  }(std::make_integer_sequence<int, THREADBENCH_CONTENDER_COUNT>{});
}

// Does Q's adapter compile for payload P? An adapter that cannot hold a type (say, one that
// copies its messages, against payload:boxed's move-only unique_ptr) says so with a
// constraint on its template, and then simply does not run that payload.
template <template <class> class Q, class P>
concept Carries = requires { typename Q<typename P::type>; } &&
                  bench::Contender<Q<typename P::type>, typename P::type>;

template <template <class> class Q>
std::string_view impl_name() {
  return Q<std::uint64_t>::name;
}

// channel/<scenario>/impl:<Q's name>/cap:<cap>: how every contender's name starts.
template <template <class> class Q>
Name channel_name(const char* scenario, Cap cap) {
  return std::move(
      Name("channel", scenario).key("impl", impl_name<Q>()).key("cap", bench::cap_label(cap)));
}

// Can Q run P producers and C consumers at capacity cap with payload P, honestly?
template <template <class> class Q, class P>
bool can_run(Cap cap, int producers, int consumers) {
  if constexpr (Carries<Q, P>) {
    using A = Q<typename P::type>;
    return A::supports(cap) && producers <= bench::max_producers<A>() &&
           consumers <= bench::max_consumers<A>();
  } else {
    return false;
  }
}

template <template <class> class Q, class P>
void add_flow(const char* scenario, Cap cap, int producers, int consumers) {
  if constexpr (Carries<Q, P>) {
    // C > 1 consumers end by stop messages (see the top of the file): they need per-producer
    // FIFO, and the consumer that sends them is one sender more than the P producers.
    const bool stops = consumers > 1;
    if (stops && !bench::fifo_per_producer<Q<typename P::type>>()) return;
    if (!can_run<Q, P>(cap, producers + (stops ? 1 : 0), consumers)) return;
    bench::add(channel_name<Q>(scenario, cap)
                   .key("producers", producers)
                   .key("consumers", consumers)
                   .key("payload", P::label),
               [=](benchmark::State& s) { bm_channel_flow<Q, P>(s, cap, producers, consumers); });
  }
}

// Two contenders under one impl name would mix their results: refuse it before anything runs
// (atomic_spin is taken by ping_pong's floor).
void check_impl_names() {
  std::set<std::string_view> seen{"atomic_spin"};
  for_each_contender([&]<template <class> class Q>() {
    if (!seen.insert(impl_name<Q>()).second) {
      std::fprintf(stderr, "error: two contenders are named impl:%.*s (names must differ)\n",
                   static_cast<int>(impl_name<Q>().size()), impl_name<Q>().data());
      std::exit(2);
    }
  });
}

void register_all() {
  check_impl_names();
  const Cap caps[] = {Cap(0), Cap(1), Cap(1024), Cap()};
  const Cap buffered[] = {Cap(1024), Cap()};

  // seq at cap 1024 and unbounded, word payload (see bm_channel_seq): one thread is both ends.
  for_each_contender([&]<template <class> class Q>() {
    for (Cap cap : buffered) {
      if (!can_run<Q, Word>(cap, 1, 1)) continue;
      bench::add(channel_name<Q>("seq", cap).key("payload", Word::label),
                 [=](benchmark::State& s) { bm_channel_seq<Q, Word>(s, cap); });
    }
  });

  // spsc, cap axis (payload 8): one producer, one consumer, on the two cores. cap:0 and
  // cap:1 make every message a hand-off between running threads (a rendezvous waits for
  // the taker; cap 1 alternates full/empty), so they measure wake-up and waiting cost;
  // cap:1024 and unbounded let the two sides run apart, so they measure the steady-state
  // cost of a slot (and the cache-line traffic between the two cores).
  for_each_contender([&]<template <class> class Q>() {
    for (Cap cap : caps) add_flow<Q, Word>("spsc", cap, 1, 1);
  });

  // spsc, payload axis at cap 1024 and unbounded: 64 B (one cache line), 1 KiB (memcpy
  // dominates: the queue's own cost fades) and boxed (a unique_ptr: the queue moves 8 bytes
  // but each message costs an allocation in the producer and a free in the consumer).
  for_each_contender([&]<template <class> class Q>() {
    for (Cap cap : buffered) {
      add_flow<Q, Blob<64>>("spsc", cap, 1, 1);
      add_flow<Q, Blob<1024>>("spsc", cap, 1, 1);
      add_flow<Q, Boxed>("spsc", cap, 1, 1);
    }
  });

  // mpsc, thread axis (thread_axis.hpp: 1, 2, 4, ... up to max(8, 2 x cores)) producers
  // into one consumer, cap 1024 and unbounded. P = 1 is the spsc case again (kept so each
  // line starts at the same point). Once P + 1 exceeds the cores, the run is oversubscribed:
  // producers contend on the tail and the consumer must get CPU time among them, so waiting
  // strategy matters as much as the fast path. Below that, on a many-core machine, the
  // producers really run at once and the tail's cache line is the contended resource.
  const std::vector<int> axis = bench::thread_axis();
  for_each_contender([&]<template <class> class Q>() {
    for (int p : axis) {
      for (Cap cap : buffered) add_flow<Q, Word>("mpsc", cap, p, 1);
    }
  });

  // mpmc, thread axis: P producers and P consumers (P on the same axis, so up to 4x the
  // cores in threads), cap 1024 and unbounded. Both ends contend; once 2P exceeds the cores
  // most threads are descheduled at any instant, so a queue that spins without yielding or
  // parking collapses, and one that parks pays a wake-up per hand-off.
  for_each_contender([&]<template <class> class Q>() {
    for (int p : axis) {
      for (Cap cap : buffered) add_flow<Q, Word>("mpmc", cap, p, p);
    }
  });

  // crew: one floor row per crew shape the flows above use, P x 1 and P x P on the thread
  // axis (1 x 1 is spsc's), named after the threads it runs on (impl:std_thread): the
  // crew is the same for every contender.
  std::set<std::pair<int, int>> shapes;
  for (int p : axis) {
    shapes.emplace(p, 1);
    shapes.emplace(p, p);
  }
  for (const auto& [p, c] : shapes) {
    bench::add(Name("channel", "crew").key("impl", "std_thread").key("producers", p).key(
                   "consumers", c),
               [p, c](benchmark::State& s) { bm_channel_crew(s, p, c); });
  }

  // ping_pong across the cap axis (see bm_channel_ping_pong), then the atomic floor. Each of
  // the two queues has one sending and one receiving thread.
  for_each_contender([&]<template <class> class Q>() {
    for (Cap cap : caps) {
      if (!can_run<Q, Word>(cap, 1, 1)) continue;
      bench::add(channel_name<Q>("ping_pong", cap).key("payload", Word::label),
                 [=](benchmark::State& s) { bm_channel_ping_pong<Q>(s, cap); });
    }
  });
  bench::add(Name("channel", "ping_pong").key("impl", "atomic_spin"),
             bm_channel_ping_pong_atomic_spin);

  // idle_recv for every contender with an unbounded mode (see bm_channel_idle_recv). One iteration
  // (--idle_ms) already exceeds any min_time up to --idle_ms, so each repetition is a
  // single wait.
  for_each_contender([&]<template <class> class Q>() {
    if (!can_run<Q, Word>(Cap(), 1, 1)) return;
    bench::add(Name("channel", "idle_recv").key("impl", impl_name<Q>()), bm_channel_idle_recv<Q>);
  });
}

// Removes --idle_ms=<n> from argv (Google Benchmark rejects flags it does not know).
void take_own_flags(int& argc, char** argv) {
  constexpr std::string_view flag = "--idle_ms=";
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a.substr(0, flag.size()) == flag) {
      g_idle_ms = std::max(1, std::atoi(argv[i] + flag.size()));
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
}

}  // namespace

int main(int argc, char** argv) {
  take_own_flags(argc, argv);
  return bench::run(argc, argv, [] {
    bench::calibrate_ticks();  // the TSC, before anything is timed
    benchmark::AddCustomContext("idle_ms", std::to_string(g_idle_ms));
    // pin_threads: "per-thread:<THREADBENCH_PIN>" when crew members and ping-pong partners
    // run pinned one CPU each (bench/pin.hpp), "off" otherwise. Reading it here also checks
    // the list before any benchmark runs (a malformed one: one line, exit 2).
    benchmark::AddCustomContext("pin_threads", bench::pin_context());
    register_all();
  });
}
