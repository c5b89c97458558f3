// stress/contender_stress.cpp: every contender of threadbench/contenders/contender.hpp's
// seam under many threads: threadbench's own (threadbench/contenders/builtin.hpp) and each user contender filed with
// THREADBENCH_CONTENDER (cmake -DTHREADBENCH_CONTENDERS=...), written once against the
// concept and its traits. A capability a contender lacks leaves out the checks that need it.
//
// Messages are 64-bit words: producer, sequence number and a tag derived from both, so a
// torn, stale or invented value shows up as a bad tag. Every message a producer sends is
// counted where it arrives (an atomic count per message), which proves per run:
//
//   contender/exactly_once/impl:<name>/cap:<c>/producers:<p>/consumers:<c>
//        send + recv: every message received exactly once (none lost, none duplicated,
//        none invented), and in send order per producer when fifo_per_producer claims it.
//        Without close() the consumers know when to stop by claiming one ticket per
//        message before each recv.
//   contender/drain/...             (CanClose) the consumers loop on recv_or_closed; close()
//        comes after every send returned. Each consumer must end (false) and only once
//        everything was drained: exactly once as above, and try_recv (if any) then finds
//        the queue empty.
//   contender/drain_backlog/...     (CanClose; unbounded) the same, but the consumers start
//        only after close(), so everything sent is still buffered when the queue closes.
//   contender/try_send/...          (CanTrySend) producers retry try_send until it takes the
//        message (a refusal must leave the value as it was); exactly once as above.
//   contender/try_recv/...          (CanTryRecv; not rendezvous) consumers retry try_recv.
//   contender/try_capacity/impl:<name>/cap:<c>   one thread, no consumer: try_recv on an
//        empty queue says empty; exactly n try_sends fit into an empty queue of capacity n
//        (none into a rendezvous, as many as offered into an unbounded one), the next is
//        refused; try_recv then returns exactly what went in, and then says empty.
//
// Capacities: rendezvous (0), 1, a small bound (4) and unbounded, each where supports()
// accepts it. Topologies: 1x1, 4x1 and 4x4 producers x consumers, clamped to
// max_producers / max_consumers.
//
// A run that hangs fails with a clear message: while its threads have not all returned,
// messages must keep moving (sent or received); if none moves for half the stall limit
// (--stall; 10 s with the stall detector off), the harness reports which side is blocked
// and what never arrived, and ends the run (exit 1); anything else that hangs meets the
// stall detector or the watchdog (exit 3) with the scenario and step as its phase.
//
// THREADBENCH_STRESS_PLANTED: the target contender_stress_planted is this file with the
// broken contenders of planted_contenders.hpp in place of the real ones; its tests pass
// only if the harness fails on each, with the expected exit status and check.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "harness.hpp"
#include "threadbench/contenders/builtin.hpp"
#include "threadbench/contenders/contender.hpp"
#include "threadbench/kit/ledger.hpp"
#if defined(THREADBENCH_STRESS_PLANTED)
#include "planted_contenders.hpp"
#else
#include "threadbench_user_contenders.hpp"
#endif

namespace {

using bench::Cap;
using tbstress::Rng;
using tbstress::Run;
using tbstress::Scenario;
using tbstress::Suite;
using Word = std::uint64_t;

tbstress::Counter sent_counter("sent");
tbstress::Counter received_counter("received");

// ---- messages ---------------------------------------------------------------------------
// bits 63..48 tag (never 0, so a default-constructed word is never a message), 47..40
// producer, 39..0 sequence number.
constexpr unsigned producer_cap = 256;

constexpr Word tag_of(std::uint64_t producer, std::uint64_t seq) {
  const std::uint64_t h = (seq * 0x9E3779B97F4A7C15ULL) ^ (producer * 0xC2B2AE3D27D4EB4FULL);
  return ((h >> 48) | 0x8000) & 0xFFFF;
}
constexpr Word word(std::uint64_t producer, std::uint64_t seq) {
  return tag_of(producer, seq) << 48 | producer << 40 | seq;
}
constexpr std::uint64_t producer_of(Word w) { return (w >> 40) & 0xFF; }
constexpr std::uint64_t seq_of(Word w) { return w & ((Word{1} << 40) - 1); }
constexpr bool intact(Word w) { return w >> 48 == tag_of(producer_of(w), seq_of(w)); }

// ---- the ledger: every message counted where it arrived ---------------------------------
// The exactly-once ledger (threadbench/kit/ledger.hpp) over message words, with the
// per-producer order check and this harness's reports. The ledger's counts and received_
// are relaxed atomics: consumers count concurrently and the main thread may read them while
// consumers are blocked (a hang); they order nothing between the threads under test. A
// consumer's own order state (next) is its own.
class WordLedger {
 public:
  WordLedger(const Scenario& sc, unsigned producers, std::uint64_t per_producer, bool fifo)
      : sc_(sc), producers_(producers), fifo_(fifo), ledger_(producers, per_producer) {}

  // A consumer's per-producer order state: the next sequence number it may see.
  std::vector<std::uint64_t> order() const { return std::vector<std::uint64_t>(producers_, 0); }

  void got(Word w, std::vector<std::uint64_t>& next) {
    received_.fetch_add(1, std::memory_order_relaxed);
    received_counter.add();
    const auto p = producer_of(w), s = seq_of(w);
    if (!TB_CHECK(intact(w), "%s: received a corrupt word %016llx", sc_.name(),
                  static_cast<unsigned long long>(w)) ||
        !TB_CHECK(ledger_.sent(p, s),
                  "%s: received a message nobody sent (producer %llu seq %llu)", sc_.name(),
                  static_cast<unsigned long long>(p), static_cast<unsigned long long>(s))) {
      return;
    }
    const auto before = ledger_.arrived(p, s);
    TB_CHECK(before == 0, "%s: producer %llu seq %llu received twice (duplicate)", sc_.name(),
             static_cast<unsigned long long>(p), static_cast<unsigned long long>(s));
    if (fifo_) {
      TB_CHECK(s >= next[p],
               "%s: per-producer FIFO violated: producer %llu seq %llu after seq %llu",
               sc_.name(), static_cast<unsigned long long>(p), static_cast<unsigned long long>(s),
               static_cast<unsigned long long>(next[p] - 1));
      next[p] = std::max(next[p], s + 1);
    }
  }

  std::uint64_t received() const { return received_.load(std::memory_order_relaxed); }

  // Every message sent was received (duplicates were reported as they came). Returns the
  // number of messages checked.
  std::uint64_t verify() const {
    std::uint64_t reported = 0;  // the first 5 say enough
    const std::uint64_t missing = ledger_.for_each_lost([&](std::uint64_t p, std::uint64_t s) {
      if (++reported <= 5) {
        TB_CHECK(false, "%s: producer %llu seq %llu was never received (lost)", sc_.name(),
                 static_cast<unsigned long long>(p), static_cast<unsigned long long>(s));
      }
    });
    const std::uint64_t total = ledger_.total();
    TB_CHECK(missing == 0, "%s: %llu of %llu messages never received", sc_.name(),
             static_cast<unsigned long long>(missing), static_cast<unsigned long long>(total));
    return total;
  }

 private:
  const Scenario& sc_;
  const unsigned producers_;
  const bool fifo_;
  threadbench::kit::Ledger ledger_;
  std::atomic<std::uint64_t> received_{0};
};

// ---- threads of one run, and how a hang is told apart from slowness ------------------------

// How long no message may move (sent or received) while a run's threads have not all
// returned before the run counts as hung: half the stall limit, so this verdict, which says
// what hangs, comes before the stall detector's.
double hang_grace() {
  const double stall = Run::get().opts().stall;
  return stall > 0 ? stall / 2 : threadbench::kit::scaled(10.0);
}

// The threads of one run, each started once: spawn() starts a thread that waits at one
// start barrier until every party is spawned, runs its body once and counts itself in its
// side; await() waits for a side with the hang check below; the destructor joins. (Not
// bench::Crew of bench/kit.hpp, which keeps its threads and times round after round.)
class OneShotCrew {
 public:
  explicit OneShotCrew(unsigned parties) : start_(parties) {}
  OneShotCrew(const OneShotCrew&) = delete;
  OneShotCrew& operator=(const OneShotCrew&) = delete;
  ~OneShotCrew() {
    for (auto& t : threads_) t.join();
  }

  // Runs body() on a new thread once every party has been spawned (one start barrier).
  // `side` counts the threads of that side that have returned.
  template <class Body>
  void spawn(std::atomic<unsigned>& side, Body body) {
    threads_.emplace_back([this, &side, body = std::move(body)]() mutable {
      start_.arrive_and_wait();
      body();
      side.fetch_add(1, std::memory_order_release);
    });
  }

  // Waits until `want` threads of a side have returned. If meanwhile no message moves for
  // hang_grace() seconds, reports `what` (and whatever check report() adds) and abandons
  // the run: the blocked threads can be neither joined nor stopped.
  template <class Report>
  static void await(const Scenario& sc, const std::atomic<unsigned>& side, unsigned want,
                    const char* what, Report report) {
    const double grace = hang_grace();
    const bool returned = threadbench::kit::wait_while_moving(
        [&] { return side.load(std::memory_order_acquire) >= want; },
        [] { return sent_counter.get() + received_counter.get(); }, grace);
    if (!returned) {
      report();
      TB_CHECK(false, "%s: %s: no message moved for %.1f s (%u of %u returned)", sc.name(), what,
               grace, side.load(std::memory_order_acquire), want);
      tbstress::abandon("threads blocked for good");
    }
  }

 private:
  tbstress::SpinBarrier start_;
  std::vector<std::thread> threads_;
};

// ---- one run: P producers, C consumers, one queue ------------------------------------------

enum class Check { exactly_once, drain, drain_backlog, try_send, try_recv };

constexpr const char* check_name(Check c) {
  switch (c) {
    case Check::exactly_once: return "exactly_once";
    case Check::drain: return "drain";
    case Check::drain_backlog: return "drain_backlog";
    case Check::try_send: return "try_send";
    case Check::try_recv: return "try_recv";
  }
  return "?";
}

template <template <class> class QT>
std::string scenario_name(const char* check, Cap cap) {
  return std::string("contender/") + check + "/impl:" + std::string(QT<Word>::name) +
         "/cap:" + bench::cap_label(cap);
}

// Producers send per_producer messages each (send, or try_send retried); consumers take them
// (recv on claimed tickets, try_recv retried, or recv_or_closed until closed), from the
// same start barrier, or for drain_backlog from a second one after close(). Then the checks
// of `check` (see the header).
template <template <class> class QT>
void run(Suite& suite, Check check, Cap cap, unsigned producers, unsigned consumers) {
  using Q = QT<Word>;
  auto sc = suite.scenario(scenario_name<QT>(check_name(check), cap) + "/producers:" +
                           std::to_string(producers) + "/consumers:" +
                           std::to_string(consumers));
  if (!sc) return;
  const std::uint64_t per_producer = std::max<std::uint64_t>(1, suite.n(2000) / producers);
  const std::uint64_t total = producers * per_producer;
  WordLedger ledger(sc, producers, per_producer, bench::fifo_per_producer<Q>());
  Q q(cap);
  std::atomic<std::uint64_t> tickets{0};  // exactly_once / try_*: messages claimed by consumers
  std::atomic<unsigned> producers_done{0}, consumers_done{0};
  const bool closing = check == Check::drain || check == Check::drain_backlog;
  const bool backlog = check == Check::drain_backlog;
  auto spawn_consumers = [&](OneShotCrew& crew) {
    for (unsigned c = 0; c < consumers; ++c) {
      crew.spawn(consumers_done, [&] {
        auto next = ledger.order();
        Word out = 0;
        if constexpr (bench::CanClose<Q, Word>) {
          if (closing) {
            while (q.recv_or_closed(out)) ledger.got(out, next);
            return;
          }
        }
        while (tickets.fetch_add(1, std::memory_order_relaxed) < total) {
          if constexpr (bench::CanTryRecv<Q, Word>) {
            if (check == Check::try_recv) {
              while (!q.try_recv(out)) std::this_thread::yield();
              ledger.got(out, next);
              continue;
            }
          }
          q.recv(out);
          ledger.got(out, next);
        }
      });
    }
  };
  {
    OneShotCrew crew(producers + (backlog ? 0 : consumers));
    for (unsigned p = 0; p < producers; ++p) {
      crew.spawn(producers_done, [&, p] {
        Rng rng(sc.seed(p));
        for (std::uint64_t s = 0; s < per_producer; ++s) {
          if constexpr (bench::CanTrySend<Q, Word>) {
            if (check == Check::try_send) {
              Word v = word(p, s);
              while (!q.try_send(v)) {
                TB_CHECK(v == word(p, s), "%s: a refused try_send changed the value", sc.name());
                v = word(p, s);
                std::this_thread::yield();
              }
              sent_counter.add();
              continue;
            }
          }
          q.send(word(p, s));
          sent_counter.add();
          if (rng.one_in(64)) tbstress::jitter(rng);
        }
      });
    }
    if (!backlog) spawn_consumers(crew);
    Run::get().phase("%s: producers sending", sc.name());
    OneShotCrew::await(sc, producers_done, producers, "producers blocked in send or try_send",
                       [] {});
    if constexpr (bench::CanClose<Q, Word>) {
      if (closing) {
        Run::get().phase("%s: close() with every send returned", sc.name());
        q.close();
      }
    }
    std::optional<OneShotCrew> late;  // drain_backlog: the consumers, after close()
    if (backlog) spawn_consumers(late.emplace(consumers));
    Run::get().phase("%s: consumers receiving", sc.name());
    OneShotCrew::await(sc, consumers_done, consumers,
                       closing ? "consumers blocked in recv_or_closed after close()"
                               : "consumers blocked in recv with everything sent",
                       [&] { ledger.verify(); });
  }
  const std::uint64_t checked = ledger.verify();
  if constexpr (bench::CanTryRecv<Q, Word>) {
    Word out = 0;
    TB_CHECK(!q.try_recv(out), "%s: every message was taken, yet try_recv still found %016llx",
             sc.name(), static_cast<unsigned long long>(out));
  }
  sc.done(checked, ", %llu received", static_cast<unsigned long long>(ledger.received()));
}

// ---- try_capacity: one thread, no consumer -------------------------------------------------

template <template <class> class QT>
void try_capacity(Suite& suite, Cap cap) {
  using Q = QT<Word>;
  constexpr bool can_try_send = bench::CanTrySend<Q, Word>;
  constexpr bool can_try_recv = bench::CanTryRecv<Q, Word>;
  auto sc = suite.scenario(scenario_name<QT>("try_capacity", cap));
  if (!sc) return;
  // What an empty queue of this capacity takes without a consumer: n, none for a
  // rendezvous, and for an unbounded queue as many as offered.
  const std::uint64_t fits = cap ? *cap : 64;
  Q q(cap);
  Word out = 0;
  if constexpr (can_try_recv) {
    Run::get().phase("%s: try_recv on an empty queue", sc.name());
    TB_CHECK(!q.try_recv(out), "%s: try_recv on an empty queue returned %016llx", sc.name(),
             static_cast<unsigned long long>(out));
  }
  std::uint64_t in = 0;
  if constexpr (can_try_send) {
    Run::get().phase("%s: try_send until refused, no consumer", sc.name());
    const std::uint64_t offered = cap ? *cap + 1 : fits;
    for (std::uint64_t i = 0; i < offered; ++i) {
      Word v = word(0, i);
      if (!q.try_send(v)) {
        TB_CHECK(v == word(0, i), "%s: a refused try_send changed the value", sc.name());
        break;
      }
      ++in;
      sent_counter.add();
    }
    TB_CHECK(in == fits,
             "%s: %llu try_sends succeeded into an empty queue of capacity %s with no "
             "consumer (expected %llu)",
             sc.name(), static_cast<unsigned long long>(in), bench::cap_label(cap).c_str(),
             static_cast<unsigned long long>(fits));
  } else {
    Run::get().phase("%s: send what fits, no consumer", sc.name());
    for (; in < fits; ++in) {
      q.send(word(0, in));
      sent_counter.add();
    }
  }
  if constexpr (can_try_recv) {
    Run::get().phase("%s: try_recv what went in", sc.name());
    std::vector<std::uint64_t> next(1, 0);
    WordLedger ledger(sc, 1, std::max<std::uint64_t>(in, 1), bench::fifo_per_producer<Q>());
    std::uint64_t got = 0;
    while (got < in && TB_CHECK(q.try_recv(out), "%s: try_recv said empty after %llu of %llu",
                                sc.name(), static_cast<unsigned long long>(got),
                                static_cast<unsigned long long>(in))) {
      ledger.got(out, next);
      ++got;
    }
    TB_CHECK(!q.try_recv(out), "%s: try_recv returned %016llx from a drained queue", sc.name(),
             static_cast<unsigned long long>(out));
  } else {
    for (std::uint64_t i = 0; i < in; ++i) q.recv(out);
  }
  sc.done(in);
}

// ---- every check for one contender -----------------------------------------------------------

template <template <class> class QT>
void stress(Suite& suite) {
  using Q = QT<Word>;
  constexpr unsigned max_p = static_cast<unsigned>(
      std::min<long long>(bench::max_producers<Q>(), producer_cap));
  constexpr unsigned max_c =
      static_cast<unsigned>(std::min<long long>(bench::max_consumers<Q>(), 1 << 16));
  static_assert(max_p >= 1 && max_c >= 1, "a contender takes at least one producer and consumer");
  const Cap caps[] = {Cap{0}, Cap{1}, Cap{4}, std::nullopt};
  // 1x1, 4x1, 4x4, clamped to what the contender takes, without repeats.
  std::vector<std::pair<unsigned, unsigned>> shapes;
  for (auto [p, c] : {std::pair{1u, 1u}, std::pair{4u, 1u}, std::pair{4u, 4u}}) {
    const std::pair shape{std::min(p, max_p), std::min(c, max_c)};
    if (std::find(shapes.begin(), shapes.end(), shape) == shapes.end()) shapes.push_back(shape);
  }
  const auto [wide_p, wide_c] = shapes.back();
  for (const Cap cap : caps) {
    if (!Q::supports(cap)) continue;
    for (auto [p, c] : shapes) run<QT>(suite, Check::exactly_once, cap, p, c);
    if constexpr (bench::CanClose<Q, Word>) {
      for (auto [p, c] : shapes) run<QT>(suite, Check::drain, cap, p, c);
      if (!cap) run<QT>(suite, Check::drain_backlog, cap, wide_p, wide_c);
    }
    if constexpr (bench::CanTrySend<Q, Word>) run<QT>(suite, Check::try_send, cap, wide_p, wide_c);
    if constexpr (bench::CanTryRecv<Q, Word>) {
      if (!cap || *cap > 0) run<QT>(suite, Check::try_recv, cap, wide_p, wide_c);
    }
    if constexpr (bench::CanTrySend<Q, Word> || bench::CanTryRecv<Q, Word>) {
      try_capacity<QT>(suite, cap);
    }
  }
}

template <template <class> class... QTs>
void stress_each(Suite& suite, bench::Contenders<QTs...>) {
  (stress<QTs>(suite), ...);
}

#if defined(THREADBENCH_STRESS_PLANTED)
using Stressed = tbstress::PlantedContenders;
constexpr int user_contenders = 0;
constexpr const char* banner_text =
    "built with THREADBENCH_STRESS_PLANTED: every contender is broken; every run must FAIL";
#else
using Stressed = bench::BuiltinContenders;
constexpr int user_contenders = THREADBENCH_CONTENDER_COUNT;
constexpr const char* banner_text = nullptr;
#endif

template <int... Slot>
void stress_users(Suite& suite, std::integer_sequence<int, Slot...>) {
  (stress<bench::UserContender<Slot>::template type>(suite), ...);
}

constexpr tbstress::Harness harness{
    .program = "contender_stress",
    .about =
        "Every contender (threadbench's own and those filed with THREADBENCH_CONTENDER) under\n"
        "P producers x C consumers: exactly once, per-producer FIFO where claimed, drain after\n"
        "close() where it has one, try_send/try_recv under load and against the capacity.\n"
        "Scenario names: contender/<check>/impl:<name>/cap:<0|1|4|unbounded>[/producers:P/\n"
        "consumers:C]; checks: exactly_once drain drain_backlog try_send try_recv\n"
        "try_capacity.",
    .unit = "messages checked",
    .default_stall = 10,
    .banner = banner_text};

void run_all(Suite& suite) {
  stress_each(suite, Stressed{});
  stress_users(suite, std::make_integer_sequence<int, user_contenders>{});
}

}  // namespace

int main(int argc, char** argv) { return tbstress::harness_main(argc, argv, harness, run_all); }
