// stress/litmus_stress.cpp: jcstress-style litmus tests of the channel's memory ordering.
//
// Each case has a small State, two actors that race on it and an arbiter that reads the
// outcome once both are done. Rounds run in batches (like jcstress's strides): both actors
// leave a spin barrier together, each runs its half over the batch's fresh States, and the
// arbiter tallies the outcomes. Every case prints its outcome table (outcome, count,
// verdict) and the harness fails on any forbidden outcome and on any outcome the case
// does not list (unknown). At the CI size a case stops after 8 s (at least 2,048 rounds)
// and says so: on a busy machine its rounds are slow (see litmus()).
//
// Verdicts: acceptable; interesting = allowed by the C++ memory model, listed to show what
// weaker orderings permit (the contrast cases); forbidden = a bug.
//
// Cases:
//   mp_channel/<flavour>   data written before send is seen after recv (message passing)
//   mp_try_recv/<flavour>  same through try_recv: "empty" or the data, never stale data
//   rendezvous_taken       a rendezvous send returns only after the receiver took it: what
//                          the receiver wrote before recv is visible once send returned
//   disconnect_after_drain send then drop the last Sender: recv gets the value, then
//                          disconnected (never disconnected first: nothing is lost)
//   mp_relaxed             contrast: the same message passing with relaxed atomics allows
//                          (flag=1, data=0) - what the channel's release/acquire rules out
//   mp_release_acquire     with release/acquire the stale read is forbidden
//   sb_release_acquire     store buffering (Dekker): (0, 0) is allowed even with
//                          release/acquire and x86 shows it - why the channel's sleep/wake
//                          protocol (EventCount) needs full fences, not just acq/rel
//   sb_seq_cst             with seq_cst (0, 0) is forbidden
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "harness.hpp"
#include "threadbench/channel.hpp"

namespace {

using tbstress::Suite;

tbstress::Counter rounds_counter("rounds");

enum class Verdict { acceptable, interesting, forbidden };

struct Expect {
  std::string outcome;
  Verdict verdict;
  const char* meaning;
};

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::acceptable: return "acceptable";
    case Verdict::interesting: return "acceptable (interesting)";
    case Verdict::forbidden: return "FORBIDDEN";
  }
  return "?";
}

// Runs `rounds` rounds of a case and prints its table. State is default-constructed fresh
// for every round; actor1/actor2 take State&; arbiter returns the outcome string. Batch:
// how many rounds the actors run per barrier. Cheap cases need large batches for the two
// actors to overlap at all (the barrier's release skew is far longer than one round).
// A case's time box at the CI size (see litmus()): 13 cases stay within about 2 minutes
// however slow the machine, each with at least min_rounds rounds.
constexpr double case_seconds = 8;
constexpr std::uint64_t min_rounds = 2048;

template <class State, class Actor1, class Actor2, class Arbiter>
void litmus(Suite& suite, const char* name, const char* what, const std::vector<Expect>& expect,
            std::uint64_t rounds, Actor1 actor1, Actor2 actor2, Arbiter arbiter,
            std::size_t batch = 64) {
  auto sc = suite.scenario(name);
  if (!sc) return;
  std::map<std::string, std::uint64_t> seen;
  // Two threads: main is actor 1 (it also sets up and arbitrates between batches), one
  // thread is actor 2. A batch starts at a barrier; inside it the actors meet again before
  // every round through a relaxed counter (no happens-before: it must not order what the
  // case tests) and then each waits a random few pauses, so that over many rounds their
  // operations overlap in every way the hardware allows.
  tbstress::SpinBarrier bar(2, 1u << 12);
  std::unique_ptr<State[]> states;                  // written by main between barriers
  std::unique_ptr<std::atomic<unsigned>[]> meet;    // one rendezvous per round
  bool stop = false;
  auto run_batch = [&](auto& body, tbstress::Rng& rng) {
    for (std::size_t i = 0; i < batch; ++i) {
      meet[i].fetch_add(1, std::memory_order_relaxed);
      unsigned spins = 0;
      while (meet[i].load(std::memory_order_relaxed) < 2) {
        if (++spins > 256) std::this_thread::yield();
      }
      for (auto d = rng.below(24); d > 0; --d) tbstress::cpu_relax();
      body(states[i]);
    }
  };
  std::thread a2([&] {
    tbstress::Rng rng(suite.opts().seed + 2);
    for (;;) {
      bar.arrive_and_wait();  // batch ready (or stop)
      if (stop) return;
      run_batch(actor2, rng);
      bar.arrive_and_wait();  // batch done
    }
  });
  tbstress::Rng rng(suite.opts().seed + 1);
  const std::uint64_t batches = (rounds + batch - 1) / batch;
  // The time box, at the CI size only (--scale 1, no --seconds): a case ends at the first
  // batch after case_seconds, with at least min_rounds run, and says so. Every round needs
  // both actors on a CPU at once; beside CPU-bound jobs of the same share that is rare, and
  // a case of 131,072 rounds took 124 s (the CI run that passed ctest's 300 s). The rounds
  // that do run are checked the same; a quiet machine runs them all within the box.
  const bool boxed = suite.opts().scale == 1 && suite.opts().seconds == 0;
  const auto started = std::chrono::steady_clock::now();
  std::uint64_t b = 0;
  for (; b < batches; ++b) {
    if (boxed && b * batch >= min_rounds &&
        std::chrono::steady_clock::now() - started > std::chrono::duration<double>(case_seconds)) {
      break;
    }
    states.reset(new State[batch]);
    meet.reset(new std::atomic<unsigned>[batch]);
    for (std::size_t i = 0; i < batch; ++i) meet[i].store(0, std::memory_order_relaxed);
    bar.arrive_and_wait();
    run_batch(actor1, rng);
    bar.arrive_and_wait();
    for (std::size_t i = 0; i < batch; ++i) ++seen[arbiter(states[i])];
    rounds_counter.add(batch);
  }
  stop = true;
  bar.arrive_and_wait();
  a2.join();
  states.reset();

  const std::uint64_t total = b * batch;
  if (b < batches) {
    sc.done(total, " of %llu: stopped at its %.0f s time box (a slow or busy machine)",
            static_cast<unsigned long long>(batches * batch), case_seconds);
  } else {
    sc.done(total);
  }
  std::printf("    %s\n", what);
  std::printf("    %-26s %10s  %-26s %s\n", "outcome", "count", "verdict", "meaning");
  for (const Expect& e : expect) {
    const auto it = seen.find(e.outcome);
    const std::uint64_t n = it == seen.end() ? 0 : it->second;
    std::printf("    %-26s %10llu  %-26s %s\n", e.outcome.c_str(), static_cast<unsigned long long>(n),
                verdict_name(e.verdict), e.meaning);
    TB_CHECK(n == 0 || e.verdict != Verdict::forbidden, "litmus %s: forbidden outcome '%s' seen %llu times",
             name, e.outcome.c_str(), static_cast<unsigned long long>(n));
  }
  for (const auto& [outcome, n] : seen) {
    bool known = false;
    for (const Expect& e : expect) known = known || e.outcome == outcome;
    if (!known) {
      std::printf("    %-26s %10llu  %-26s %s\n", outcome.c_str(), static_cast<unsigned long long>(n),
                  "UNKNOWN", "not listed by the case: a bug in the channel or the case");
      TB_CHECK(false, "litmus %s: unknown outcome '%s' seen %llu times", name, outcome.c_str(),
               static_cast<unsigned long long>(n));
    }
  }
  std::fflush(stdout);
}

std::string pair_outcome(int a, int b) { return std::to_string(a) + ", " + std::to_string(b); }

template <class T>
std::pair<threadbench::Sender<T>, threadbench::Receiver<T>> open(std::optional<std::size_t> cap) {
  return cap ? threadbench::sync_channel<T>(*cap) : threadbench::channel<T>();
}

struct Flavour {
  const char* name;
  std::optional<std::size_t> cap;
};

// ---- channel cases --------------------------------------------------------------------------

template <std::size_t Cap, bool Unbounded>
struct ChannelState {
  static std::optional<std::size_t> cap() { return Unbounded ? std::nullopt : std::optional<std::size_t>(Cap); }
  std::pair<threadbench::Sender<int>, threadbench::Receiver<int>> ch = open<int>(cap());
  long data = 0;     // plain memory: only the channel orders it
  std::string outcome;
};

template <std::size_t Cap, bool Unbounded>
void mp_channel(Suite& t, const char* name, std::uint64_t rounds) {
  using S = ChannelState<Cap, Unbounded>;
  litmus<S>(
      t, name, "data = 42; send(1)  ||  v = recv(); read data",
      {{"recv=1 data=42", Verdict::acceptable, "the write before send is seen after recv"},
       {"recv=1 data=0", Verdict::forbidden, "stale data after recv: no happens-before"}},
      rounds,
      [](S& s) {
        s.data = 42;
        (void)s.ch.first.send(1);
      },
      [](S& s) {
        auto r = s.ch.second.recv();
        s.outcome = r.ok() ? "recv=" + std::to_string(*r) + " data=" + std::to_string(s.data)
                           : "recv failed";
      },
      [](S& s) { return s.outcome; });
}

template <std::size_t Cap, bool Unbounded>
void mp_try_recv(Suite& t, const char* name, std::uint64_t rounds) {
  using S = ChannelState<Cap, Unbounded>;
  litmus<S>(
      t, name, "data = 42; send(1)  ||  v = try_recv(); if v: read data",
      {{"empty", Verdict::acceptable, "the receiver looked before the send"},
       {"recv=1 data=42", Verdict::acceptable, "the write before send is seen"},
       {"recv=1 data=0", Verdict::forbidden, "stale data after try_recv"}},
      rounds,
      [](S& s) {
        s.data = 42;
        (void)s.ch.first.send(1);
      },
      [](S& s) {
        auto r = s.ch.second.try_recv();
        if (r.ok()) {
          s.outcome = "recv=" + std::to_string(*r) + " data=" + std::to_string(s.data);
        } else {
          s.outcome = r.empty() ? "empty" : "disconnected";
        }
      },
      [](S& s) { return s.outcome; });
}

struct RendezvousState {
  std::pair<threadbench::Sender<int>, threadbench::Receiver<int>> ch = threadbench::sync_channel<int>(0);
  std::atomic<int> started{0};  // relaxed: only the channel can order it
  int seen = -1;
};

void rendezvous_taken(Suite& t, std::uint64_t rounds) {
  using S = RendezvousState;
  litmus<S>(
      t, "rendezvous_taken", "send(1); r = started  ||  started = 1 (relaxed); recv()",
      {{"r=1", Verdict::acceptable, "send returned after the receiver took the value"},
       {"r=0", Verdict::forbidden, "send returned before the receiver reached recv"}},
      rounds,
      [](S& s) {
        (void)s.ch.first.send(1);
        s.seen = s.started.load(std::memory_order_relaxed);
      },
      [](S& s) {
        s.started.store(1, std::memory_order_relaxed);
        (void)s.ch.second.recv();
      },
      [](S& s) { return "r=" + std::to_string(s.seen); });
}

template <std::size_t Cap, bool Unbounded>
struct DisconnectState {
  std::optional<threadbench::Sender<int>> tx;
  std::optional<threadbench::Receiver<int>> rx;
  std::string outcome;
  DisconnectState() {
    auto [s, r] = open<int>(Unbounded ? std::nullopt : std::optional<std::size_t>(Cap));
    tx.emplace(std::move(s));
    rx.emplace(std::move(r));
  }
};

template <std::size_t Cap, bool Unbounded>
void disconnect_after_drain(Suite& t, const char* name, std::uint64_t rounds) {
  using S = DisconnectState<Cap, Unbounded>;
  auto describe = [](const threadbench::RecvResult<int>& r) -> std::string {
    return r.ok() ? std::to_string(*const_cast<threadbench::RecvResult<int>&>(r))
                  : (r.disconnected() ? "disconnected" : "other");
  };
  litmus<S>(
      t, name, "send(1); drop the last Sender  ||  a = recv(); b = recv()",
      {{"1, disconnected", Verdict::acceptable, "the value, then disconnection after the drain"},
       {"disconnected, disconnected", Verdict::forbidden, "disconnected before the buffer drained: lost"}},
      rounds,
      [](S& s) {
        (void)s.tx->send(1);
        s.tx.reset();
      },
      [describe](S& s) {
        auto a = s.rx->recv();
        auto b = s.rx->recv();
        s.outcome = describe(a) + ", " + describe(b);
      },
      [](S& s) { return s.outcome; });
}

// ---- contrast cases: plain atomics -----------------------------------------------------------

struct Pair {
  std::atomic<int> x{0}, y{0};  // one round's two locations
  int r1 = -1, r2 = -1;
};

template <std::memory_order Store, std::memory_order Load>
void message_passing(Suite& t, const char* name, bool stale_allowed, std::uint64_t rounds) {
  litmus<Pair>(
      t, name, "x = 1; y = 1  ||  r1 = y; r2 = x   (outcome r1, r2)",
      {{"0, 0", Verdict::acceptable, "reader ran first"},
       {"0, 1", Verdict::acceptable, "reader in between"},
       {"1, 1", Verdict::acceptable, "reader ran last"},
       {"1, 0", stale_allowed ? Verdict::interesting : Verdict::forbidden,
        stale_allowed ? "flag seen, data not: allowed for relaxed (x86 TSO never shows it)"
                      : "flag seen, data not: release/acquire forbids it"}},
      rounds,
      [](Pair& p) {
        p.x.store(1, std::memory_order_relaxed);
        p.y.store(1, Store);
      },
      [](Pair& p) {
        p.r1 = p.y.load(Load);
        p.r2 = p.x.load(std::memory_order_relaxed);
      },
      [](Pair& p) { return pair_outcome(p.r1, p.r2); });
}

template <std::memory_order Store, std::memory_order Load>
void store_buffering(Suite& t, const char* name, bool both_zero_allowed, std::uint64_t rounds) {
  litmus<Pair>(
      t, name, "x = 1; r1 = y  ||  y = 1; r2 = x   (outcome r1, r2)",
      {{"0, 1", Verdict::acceptable, "actor 1 first"},
       {"1, 0", Verdict::acceptable, "actor 2 first"},
       {"1, 1", Verdict::acceptable, "interleaved"},
       {"0, 0", both_zero_allowed ? Verdict::interesting : Verdict::forbidden,
        both_zero_allowed ? "both loads passed their stores (store buffer): allowed"
                          : "seq_cst forbids it: the Dekker pair holds"}},
      rounds,
      [](Pair& p) {
        p.x.store(1, Store);
        p.r1 = p.y.load(Load);
      },
      [](Pair& p) {
        p.y.store(1, Store);
        p.r2 = p.x.load(Load);
      },
      [](Pair& p) { return pair_outcome(p.r1, p.r2); });
}

constexpr tbstress::Harness harness{
    .program = "litmus_stress",
    .about =
        "jcstress-style litmus cases for the channel (and plain-atomic contrasts), each run\n"
        "many rounds from a start barrier; prints outcome tables; fails on forbidden/unknown.\n"
        "Case names: mp_channel/<unbounded|cap1|cap0> mp_try_recv/<unbounded|cap1>\n"
        "rendezvous_taken disconnect_after_drain/<unbounded|cap1|cap0> mp_relaxed\n"
        "mp_release_acquire sb_release_acquire sb_seq_cst.",
    .unit = "litmus rounds"};

void run_all(Suite& suite) {
  const std::uint64_t rounds = suite.n(32768);  // CI mode, times --scale
  mp_channel<0, true>(suite, "mp_channel/unbounded", rounds);
  mp_channel<1, false>(suite, "mp_channel/cap1", rounds);
  mp_channel<0, false>(suite, "mp_channel/cap0", rounds);
  mp_try_recv<0, true>(suite, "mp_try_recv/unbounded", rounds);
  mp_try_recv<1, false>(suite, "mp_try_recv/cap1", rounds);
  rendezvous_taken(suite, rounds);
  disconnect_after_drain<0, true>(suite, "disconnect_after_drain/unbounded", rounds);
  disconnect_after_drain<1, false>(suite, "disconnect_after_drain/cap1", rounds);
  disconnect_after_drain<0, false>(suite, "disconnect_after_drain/cap0", rounds);
  message_passing<std::memory_order_relaxed, std::memory_order_relaxed>(suite, "mp_relaxed", true, 4 * rounds);
  message_passing<std::memory_order_release, std::memory_order_acquire>(suite, "mp_release_acquire", false, 4 * rounds);
  store_buffering<std::memory_order_release, std::memory_order_acquire>(suite, "sb_release_acquire", true, 4 * rounds);
  store_buffering<std::memory_order_seq_cst, std::memory_order_seq_cst>(suite, "sb_seq_cst", false, 4 * rounds);
}

}  // namespace

int main(int argc, char** argv) { return tbstress::harness_main(argc, argv, harness, run_all); }
