// stress/channel_lifetime_stress.cpp: the last handles of a channel dropped at the same
// moment on different threads, thousands of times; and the Receiver dropped while senders
// race their sends, with every payload object counted.
//
// Why it exists: everywhere else a test joins the other handle's thread before the last
// handle drops, so the join orders that thread's last writes before the destruction of
// the shared state, whatever the channel's reference count does. Here nothing but the
// channel orders them: a reference-count decrement without acquire lets the thread that
// destroys the state miss the other handle's last writes, which TSan reports as a data
// race (and which is a use-after-free on weakly ordered hardware); a double or missing
// destruction shows in the object counts (and under ASan).
//
// Scenarios, for each flavour (unbounded, cap0 = rendezvous, cap1, cap4):
//   last_drop/<flavour>/sender_vs_receiver  one thread holds the only Sender, another the
//        Receiver; both start together, do a few try_send / try_recv, and drop their
//        handle at once. After each round every payload object is gone (live == 0).
//   last_drop/<flavour>/clones_vs_receiver  three threads each hold a Sender clone, one the
//        Receiver; the same, four drops racing.
//   drop_receiver/<flavour>  three senders send (blocking) while the receiving thread takes
//        a random number of messages and drops the Receiver. Each message has an id; its
//        end is counted exactly once: received, given back by a failed send, or destroyed
//        undelivered (counted in the payload's destructor). A send begun after the drop
//        returned must fail disconnected and give back its own value; after one failed
//        send, no later send of that sender succeeds; on a rendezvous, a send that returned
//        ok was received (nothing it sent is destroyed undelivered). As in Rust, the drop destroys every
//        buffered message at once: once the Receiver is gone and every sender's last send
//        has returned, no message is left alive although the Senders still are.
//        Constructions and destructions of the payload type balance after every round.
//
// Threads are a fixed crew per scenario that meets at a start barrier each round (the
// handles are handed over before it) and at an end barrier after its drops: between the
// two, only the channel orders anything.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "channel_flavour.hpp"
#include "harness.hpp"
#include "threadbench/channel.hpp"

namespace {

using tbstress::Flavour;
using tbstress::open;
using tbstress::Rng;
using tbstress::Suite;
using threadbench::Receiver;
using threadbench::Sender;

tbstress::Counter rounds_counter("rounds");
tbstress::Counter sent_counter("sent");
tbstress::Counter received_counter("received");

constexpr Flavour flavours[] = {{"unbounded", std::nullopt}, {"cap0", 0}, {"cap1", 1}, {"cap4", 4}};

// Counts every object: constructions (all constructors) and destructions. Relaxed RMWs:
// counting must not order anything between the threads under test.
std::atomic<std::int64_t> constructed{0};
std::atomic<std::int64_t> destroyed{0};

// A payload that counts itself. `ends`, when set, is where an "armed" object (the one
// that carries message `id`, not a moved-from husk) records its destruction.
struct Payload {
  std::uint64_t id = 0;
  std::atomic<std::uint8_t>* ends = nullptr;  // ends[id] += 1 when destroyed armed

  Payload(std::uint64_t i, std::atomic<std::uint8_t>* e) : id(i), ends(e) { count_one(); }
  Payload(Payload&& o) noexcept : id(o.id), ends(std::exchange(o.ends, nullptr)) { count_one(); }
  Payload& operator=(Payload&& o) noexcept {
    if (this != &o) {
      end_here();
      id = o.id;
      ends = std::exchange(o.ends, nullptr);
    }
    return *this;
  }
  ~Payload() {
    end_here();
    destroyed.fetch_add(1, std::memory_order_relaxed);
  }
  bool armed() const { return ends != nullptr; }
  // The holder takes over the message's end (received, or given back): not a destruction.
  void disarm() { ends = nullptr; }

 private:
  static void count_one() { constructed.fetch_add(1, std::memory_order_relaxed); }
  void end_here() {
    if (ends) ends[id].fetch_add(1, std::memory_order_relaxed);
    ends = nullptr;
  }
};

std::int64_t live() {
  return constructed.load(std::memory_order_relaxed) - destroyed.load(std::memory_order_relaxed);
}

// A fixed crew of threads that runs `body(member, round)` once per round, between a start
// and an end barrier that the main thread joins too (the rounds go in lockstep with main):
// main prepares a round before the start barrier and checks it after the end barrier. (Not
// bench::Crew of bench/kit.hpp: that one parks its members on a futex gate and times each
// round; this one spins on tbstress::SpinBarrier, times nothing, and main takes part.)
class LockstepCrew {
 public:
  LockstepCrew(unsigned n, std::function<void(unsigned, unsigned)> body)
      : start_(n + 1), end_(n + 1), body_(std::move(body)) {
    for (unsigned i = 0; i < n; ++i) {
      threads_.emplace_back([this, i] {
        for (unsigned round = 0;; ++round) {
          start_.arrive_and_wait();
          if (stop_.load(std::memory_order_relaxed)) return;
          body_(i, round);
          end_.arrive_and_wait();
        }
      });
    }
  }
  LockstepCrew(const LockstepCrew&) = delete;
  LockstepCrew& operator=(const LockstepCrew&) = delete;
  // Runs one round: returns once every member finished it.
  void round() {
    start_.arrive_and_wait();
    end_.arrive_and_wait();
  }
  ~LockstepCrew() {
    stop_.store(true, std::memory_order_relaxed);  // published by the barrier's RMW
    start_.arrive_and_wait();
    for (auto& t : threads_) t.join();
  }

 private:
  tbstress::SpinBarrier start_, end_;
  std::function<void(unsigned, unsigned)> body_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

// ---- last_drop: the last handles drop at the same moment on different threads ------------

void last_drop(Suite& suite, const Flavour& f, unsigned senders, unsigned rounds) {
  auto sc = suite.scenario(std::string("last_drop/") + f.name +
                           (senders == 1 ? "/sender_vs_receiver" : "/clones_vs_receiver"));
  if (!sc) return;
  std::vector<std::optional<Sender<Payload>>> tx_slot(senders);
  std::optional<Receiver<Payload>> rx_slot;
  std::vector<std::uint64_t> sent(senders, 0);
  std::uint64_t received_n = 0;
  std::uint64_t last_by_receiver = 0;
  std::atomic<unsigned> drops{0};  // which drop came last (relaxed: orders nothing)
  std::atomic<unsigned> receiver_drop_rank{0};
  {
    LockstepCrew crew(senders + 1, [&](unsigned who, unsigned round) {
      Rng rng(sc.seed(who * 100000 + round));
      if (who < senders) {
        Sender<Payload> tx = std::move(*tx_slot[who]);
        tx_slot[who].reset();
        const auto k = rng.below(4);
        for (std::uint64_t i = 0; i < k; ++i) {
          auto r = tx.try_send(Payload(i, nullptr));
          TB_CHECK(r.ok() || r.full() || r.disconnected(), "%s: try_send: no status", sc.name());
          if (r.ok()) {
            ++sent[who];
            sent_counter.add();
          }
        }
        if (rng.one_in(2)) tbstress::jitter(rng);
        drops.fetch_add(1, std::memory_order_relaxed);
        // tx drops here: the Sender's last write to the shared state
      } else {
        Receiver<Payload> rx = std::move(*rx_slot);
        rx_slot.reset();
        const auto k = rng.below(3);
        for (std::uint64_t i = 0; i < k; ++i) {
          if (rx.try_recv().ok()) {
            ++received_n;
            received_counter.add();
          }
        }
        if (rng.one_in(2)) tbstress::jitter(rng);
        receiver_drop_rank.store(drops.fetch_add(1, std::memory_order_relaxed) + 1,
                                 std::memory_order_relaxed);
        // rx drops here
      }
    });
    for (unsigned round = 0; round < rounds; ++round) {
      auto [tx, rx] = open<Payload>(f);
      for (unsigned s = 0; s < senders; ++s) tx_slot[s].emplace(tx);
      rx_slot.emplace(std::move(rx));
      { Sender<Payload> drop = std::move(tx); }  // the crew holds the only handles now
      drops.store(0, std::memory_order_relaxed);
      crew.round();
      if (receiver_drop_rank.load(std::memory_order_relaxed) == senders + 1) ++last_by_receiver;
      rounds_counter.add();
      // Every handle is gone, so the shared state and whatever it buffered are destroyed.
      TB_CHECK(live() == 0, "%s round %u: %lld payload objects alive after the last handle "
                            "dropped", sc.name(), round, static_cast<long long>(live()));
      if (live() != 0) break;
    }
  }
  std::uint64_t total_sent = 0;
  for (auto n : sent) total_sent += n;
  sc.done_as("rounds checked", rounds,
             " (%llu sent, %llu received; the Receiver's thread reached its drop last in %llu "
             "rounds)",
             static_cast<unsigned long long>(total_sent),
             static_cast<unsigned long long>(received_n),
             static_cast<unsigned long long>(last_by_receiver));
}

// ---- drop_receiver: the Receiver drops while senders race their sends ----------------------

void drop_receiver(Suite& suite, const Flavour& f, unsigned senders, std::uint64_t per_sender,
                   unsigned rounds) {
  auto sc = suite.scenario(std::string("drop_receiver/") + f.name);
  if (!sc) return;
  const std::uint64_t ids = senders * per_sender;
  // Per message id: how its life ended. Relaxed atomics (the counts order nothing).
  std::unique_ptr<std::atomic<std::uint8_t>[]> ends(new std::atomic<std::uint8_t>[ids]);
  std::unique_ptr<std::atomic<std::uint8_t>[]> got(new std::atomic<std::uint8_t>[ids]);
  std::unique_ptr<std::atomic<std::uint8_t>[]> back(new std::atomic<std::uint8_t>[ids]);
  std::vector<std::optional<Sender<Payload>>> tx_slot(senders);
  std::optional<Receiver<Payload>> rx_slot;
  std::atomic<bool> receiver_dropped{false};
  tbstress::SpinBarrier all_sent(senders + 1), all_checked(senders + 1);
  std::uint64_t budget = 0;
  std::uint64_t sum_ok = 0, sum_back = 0, sum_got = 0, sum_destroyed = 0, sum_after_drop = 0;
  std::vector<std::uint64_t> ok(senders, 0), after_drop(senders, 0);
  {
    LockstepCrew crew(senders + 1, [&](unsigned who, unsigned round) {
      Rng rng(sc.seed(who * 100000 + round));
      if (who < senders) {
        Sender<Payload> tx = std::move(*tx_slot[who]);
        tx_slot[who].reset();
        bool failed_before = false;
        for (std::uint64_t s = 0; s < per_sender; ++s) {
          const std::uint64_t id = who * per_sender + s;
          // Seen before the send begins: the Receiver was already gone (acquire pairs with
          // the receiving thread's release store after its drop returned).
          const bool known_dropped = receiver_dropped.load(std::memory_order_acquire);
          auto r = tx.send(Payload(id, ends.get()));
          if (r.ok()) {
            TB_CHECK(!known_dropped, "%s: send succeeded after the Receiver was dropped", sc.name());
            TB_CHECK(!failed_before, "%s: sender %u: send ok after a send had failed", sc.name(), who);
            ++ok[who];
            sent_counter.add();
          } else {
            TB_CHECK(r.disconnected(), "%s: send failed without disconnection", sc.name());
            Payload& v = r.value();
            TB_CHECK(v.armed() && v.id == id,
                     "%s: sender %u: a failed send gave back id %llu%s, not its own %llu", sc.name(), who,
                     static_cast<unsigned long long>(v.id), v.armed() ? "" : " (a husk)",
                     static_cast<unsigned long long>(id));
            v.disarm();
            back[id].fetch_add(1, std::memory_order_relaxed);
            failed_before = true;
            if (known_dropped) ++after_drop[who];
          }
          if (rng.one_in(8)) tbstress::jitter(rng);
        }
        // Still holding this Sender: the Receiver is gone and this sender's last send
        // failed, so by now every message of this round has ended (checked below).
        all_sent.arrive_and_wait();
        all_checked.arrive_and_wait();
      } else {
        Receiver<Payload> rx = std::move(*rx_slot);
        rx_slot.reset();
        for (std::uint64_t i = 0; i < budget; ++i) {
          auto r = rx.recv();
          if (!TB_CHECK(r.ok(), "%s: recv failed with senders alive", sc.name())) break;
          TB_CHECK(r->armed(), "%s: received a husk", sc.name());
          r->disarm();
          got[r->id].fetch_add(1, std::memory_order_relaxed);
          received_counter.add();
          if (rng.one_in(16)) tbstress::jitter(rng);
        }
        if (rng.one_in(2)) tbstress::jitter(rng);
        { Receiver<Payload> gone = std::move(rx); }
        receiver_dropped.store(true, std::memory_order_release);
        // Rust's semantics: dropping the Receiver destroys every buffered message at once,
        // including one whose send raced with the drop, while Senders are still alive.
        all_sent.arrive_and_wait();
        std::uint64_t pending = 0, first = 0;
        for (std::uint64_t i = 0; i < ids; ++i) {
          if (ends[i].load(std::memory_order_relaxed) + got[i].load(std::memory_order_relaxed) +
                  back[i].load(std::memory_order_relaxed) == 0 && pending++ == 0) {
            first = i;
          }
        }
        TB_CHECK(pending == 0, "%s round %u: the Receiver was dropped and every send has "
                               "returned, yet %llu messages (the first: id %llu) are still alive "
                               "in the channel while Senders remain", sc.name(), round,
                 static_cast<unsigned long long>(pending), static_cast<unsigned long long>(first));
        all_checked.arrive_and_wait();
      }
    });
    Rng main_rng(sc.seed(999));
    for (unsigned round = 0; round < rounds; ++round) {
      for (std::uint64_t i = 0; i < ids; ++i) {
        ends[i].store(0, std::memory_order_relaxed);
        got[i].store(0, std::memory_order_relaxed);
        back[i].store(0, std::memory_order_relaxed);
      }
      std::fill(ok.begin(), ok.end(), 0);
      std::fill(after_drop.begin(), after_drop.end(), 0);
      receiver_dropped.store(false, std::memory_order_relaxed);
      budget = main_rng.below(ids / 2 + 1);
      {
        auto [tx, rx] = open<Payload>(f);
        for (unsigned s = 0; s < senders; ++s) tx_slot[s].emplace(tx);
        rx_slot.emplace(std::move(rx));
      }
      crew.round();
      rounds_counter.add();
      // Every handle is gone: each message ended exactly once.
      std::uint64_t n_ok = 0, n_got = 0, n_back = 0, n_destroyed = 0, bad = 0;
      for (auto n : ok) n_ok += n;
      for (std::uint64_t i = 0; i < ids; ++i) {
        const unsigned g = got[i].load(std::memory_order_relaxed);
        const unsigned b = back[i].load(std::memory_order_relaxed);
        const unsigned d = ends[i].load(std::memory_order_relaxed);
        n_got += g;
        n_back += b;
        n_destroyed += d;
        if (g + b + d != 1 && ++bad <= 5) {
          TB_CHECK(false, "%s round %u: message %llu ended %u times (received %u, given back %u, "
                          "destroyed undelivered %u)", sc.name(), round,
                   static_cast<unsigned long long>(i), g + b + d, g, b, d);
        }
      }
      TB_CHECK(n_got + n_destroyed == n_ok,
               "%s round %u: received %llu + destroyed undelivered %llu != sent ok %llu", sc.name(),
               round, static_cast<unsigned long long>(n_got),
               static_cast<unsigned long long>(n_destroyed), static_cast<unsigned long long>(n_ok));
      if (f.cap && *f.cap == 0) {
        // A rendezvous send returns ok only once the receiver took its value.
        TB_CHECK(n_destroyed == 0, "%s round %u: %llu rendezvous sends returned ok but their "
                                   "values were destroyed undelivered", sc.name(), round,
                 static_cast<unsigned long long>(n_destroyed));
      }
      TB_CHECK(live() == 0, "%s round %u: constructions - destructions = %lld, not 0", sc.name(), round,
               static_cast<long long>(live()));
      sum_ok += n_ok;
      sum_got += n_got;
      sum_back += n_back;
      sum_destroyed += n_destroyed;
      for (auto n : after_drop) sum_after_drop += n;
      if (bad != 0 || live() != 0) break;
    }
  }
  sc.done_as("messages checked", rounds * ids,
             " (%u rounds: ok %llu = received %llu + destroyed %llu; given back %llu, %llu of "
             "them sent after the drop)",
             rounds, static_cast<unsigned long long>(sum_ok),
             static_cast<unsigned long long>(sum_got),
             static_cast<unsigned long long>(sum_destroyed),
             static_cast<unsigned long long>(sum_back),
             static_cast<unsigned long long>(sum_after_drop));
}

constexpr tbstress::Harness harness{
    .program = "channel_lifetime_stress",
    .about =
        "The last handles of a channel dropped at the same moment on different threads\n"
        "(Sender vs Receiver, Sender clones vs Receiver), and the Receiver dropped while\n"
        "senders race their sends, with every payload object counted. Scenario names:\n"
        "last_drop/<flavour>/sender_vs_receiver, last_drop/<flavour>/clones_vs_receiver,\n"
        "drop_receiver/<flavour>; flavours: unbounded cap0 cap1 cap4.",
    .unit = "items checked",
    .default_stall = 30};

void run_all(Suite& suite) {
  // CI-mode sizes (times --scale).
  const auto r = static_cast<unsigned>(suite.n(2000));
  for (const Flavour& f : flavours) {
    last_drop(suite, f, 1, r);
    last_drop(suite, f, 3, r / 2);
    drop_receiver(suite, f, 3, 200, r / 20);
  }
}

}  // namespace

int main(int argc, char** argv) { return tbstress::harness_main(argc, argv, harness, run_all); }
