// stress/channel_stress.cpp: the channel under many threads, with every message accounted.
//
// Every message carries (producer id, sequence number, a tag derived from both), so a torn
// or stale read shows up as a bad tag and the checker can prove, per scenario:
//   * exactly once: each (producer, seq) a producer sent is received once, and nothing else;
//   * per-producer FIFO: each consumer sees any one producer's sequence numbers increase;
//   * on disconnection, nothing is lost or duplicated: a send either succeeds or gives its
//     value back, and what succeeded was received or destroyed with the channel.
// Consumers share one Receiver by reference (the channel's multi-consumer use).
//
// Scenarios (each over the flavours unbounded, cap0 = rendezvous, cap1, cap5, cap8):
//   fifo/<flavour>/<payload>/P<p>xC<c>  P producers x C consumers; producers mix send and
//        try_send (a refused value must come back intact), consumers mix range-for, recv,
//        try_recv, recv_for and recv_until; payloads: plain struct, unique_ptr (move-only),
//        and a type with a throwing move (the channel boxes it).
//   drop_receiver/<flavour>   consumers take a random share, then the Receiver is destroyed
//        while senders are blocked: sent-ok + returned == attempted per producer, received +
//        destroyed-undelivered == sent-ok, every value is in exactly one of those sets, and
//        after one send failed no later send of that producer succeeds. Rendezvous: a send
//        that returned ok was received (nothing may be destroyed in the channel).
//   drop_sender/<flavour>     consumers block in recv on an empty channel while the last
//        Sender is dropped: every consumer must wake with disconnected, after everything.
//   recv_for/<flavour>        recv_for / recv_until with tiny timeouts racing sends: a
//        timeout never returns before its deadline and never loses a message.
//   sender_storm/<flavour>    threads copy, move, assign and drop Senders and pass them to
//        each other through a second channel (channel<Sender<Msg>>); the consumer must see
//        everything, in order per thread, and disconnection only after the last Sender.
//   bursts/<flavour>/P<p>xC<c>  producers send bursts of 100 with pauses between them, so
//        the consumers wait, then drain each burst together; exactly once and FIFO.
//   capacity/<flavour>        bounded flavours: P producers count completed sends, one
//        slow consumer checks completed - received <= n after every receive (0 for the
//        rendezvous), and that the channel was seen full at least once.
//
// THREADBENCH_PLANT_BUG: the targets channel_stress_planted_ring / _list are this file
// compiled with a planted bug of detail/planted.hpp (a ring / list slot published with a
// relaxed store); their ctests pass only if this harness fails (TSan report, failed check,
// watchdog or stall detector).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "channel_flavour.hpp"
#include "harness.hpp"
#include "threadbench/channel.hpp"
#include "threadbench/kit/ledger.hpp"

namespace {

using namespace std::chrono_literals;
using tbstress::Flavour;
using tbstress::open;
using tbstress::Rng;
using tbstress::Scenario;
using threadbench::Receiver;
using threadbench::Sender;

tbstress::Counter sent_counter("sent");
tbstress::Counter received_counter("received");
tbstress::Counter returned_counter("returned");

// ---- messages ---------------------------------------------------------------------------

constexpr std::uint32_t tag_of(std::uint32_t producer, std::uint64_t seq) {
  return static_cast<std::uint32_t>((seq * 0x9E3779B97F4A7C15ULL) >> 32) ^
         (producer * 0x85EBCA6BU) ^ 0xA5A5A5A5U;
}

struct Msg {
  std::uint32_t producer = 0;
  std::uint32_t tag = 0;
  std::uint64_t seq = 0;
  static Msg make(std::uint32_t p, std::uint64_t s) { return Msg{p, tag_of(p, s), s}; }
  bool intact() const { return tag == tag_of(producer, seq); }
  bool operator==(const Msg&) const = default;
};

// A type whose move constructor may throw: the channel keeps it boxed on the heap.
struct Fragile {
  Msg m;
  explicit Fragile(Msg v) : m(v) {}
  Fragile(Fragile&& o) noexcept(false) : m(o.m) {}
  Fragile& operator=(Fragile&& o) noexcept(false) {
    m = o.m;
    return *this;
  }
};

// How a scenario makes and reads each payload type.
template <class T>
struct Payload;
template <>
struct Payload<Msg> {
  static constexpr const char* name = "plain";
  static Msg make(std::uint32_t p, std::uint64_t s) { return Msg::make(p, s); }
  static const Msg* view(const Msg& m) { return &m; }
};
template <>
struct Payload<std::unique_ptr<Msg>> {
  static constexpr const char* name = "boxed";
  static std::unique_ptr<Msg> make(std::uint32_t p, std::uint64_t s) {
    return std::make_unique<Msg>(Msg::make(p, s));
  }
  static const Msg* view(const std::unique_ptr<Msg>& m) { return m.get(); }
};
template <>
struct Payload<Fragile> {
  static constexpr const char* name = "throwing-move";
  static Fragile make(std::uint32_t p, std::uint64_t s) { return Fragile(Msg::make(p, s)); }
  static const Msg* view(const Fragile& f) { return &f.m; }
};

// Undelivered messages destroyed with the channel are logged here (drop_receiver).
struct DropLog {
  std::mutex mu;
  std::vector<Msg> dropped;
};

// A message that logs itself if it is destroyed while still "armed": whoever legitimately
// ends up with it (a consumer, or the producer that got it back) disarms it first.
struct Tracked {
  Msg m;
  DropLog* log = nullptr;
  Tracked(Msg v, DropLog* l) : m(v), log(l) {}
  Tracked(Tracked&& o) noexcept : m(o.m), log(std::exchange(o.log, nullptr)) {}
  Tracked& operator=(Tracked&& o) noexcept {
    if (this != &o) {
      disarm_into_log();
      m = o.m;
      log = std::exchange(o.log, nullptr);
    }
    return *this;
  }
  ~Tracked() { disarm_into_log(); }
  bool armed() const { return log != nullptr; }
  void disarm() { log = nullptr; }

 private:
  void disarm_into_log() {
    if (log) {
      std::lock_guard lock(log->mu);
      log->dropped.push_back(m);
      log = nullptr;
    }
  }
};

// ---- flavours ---------------------------------------------------------------------------

constexpr Flavour flavours[] = {
    {"unbounded", std::nullopt}, {"cap0", 0}, {"cap1", 1}, {"cap5", 5}, {"cap8", 8}};

// ---- the checker ------------------------------------------------------------------------

// The exactly-once ledger (threadbench/kit/ledger.hpp) over Msg, with this harness's
// checks and reports: counts, for every (producer, seq) a producer attempted, how often it
// turned up in the sets a scenario collects (received, returned to the sender, destroyed in
// the channel).
class MsgLedger {
 public:
  MsgLedger(const char* scenario, std::vector<std::uint64_t> attempted)
      : scenario_(scenario), ledger_(std::move(attempted)) {}

  void add(const Msg& m, const char* where) {
    if (!TB_CHECK(m.intact(), "%s: %s a corrupt message (producer %u seq %llu tag %08x)",
                  scenario_, where, m.producer, static_cast<unsigned long long>(m.seq), m.tag)) {
      return;
    }
    if (!TB_CHECK(ledger_.sent(m.producer, m.seq),
                  "%s: %s a message nobody sent (producer %u seq %llu)", scenario_, where,
                  m.producer, static_cast<unsigned long long>(m.seq))) {
      return;
    }
    TB_CHECK(ledger_.arrived(m.producer, m.seq) == 0,
             "%s: %s producer %u seq %llu a second time (duplicate)", scenario_, where,
             m.producer, static_cast<unsigned long long>(m.seq));
  }

  // Every attempted message was seen exactly once. Returns the number checked.
  std::uint64_t verify() {
    std::uint64_t reported = 0;  // the first 5 say enough
    const std::uint64_t missing = ledger_.for_each_lost([&](std::uint64_t p, std::uint64_t s) {
      if (++reported <= 5) {
        TB_CHECK(false, "%s: producer %zu seq %llu was lost", scenario_,
                 static_cast<std::size_t>(p), static_cast<unsigned long long>(s));
      }
    });
    TB_CHECK(missing == 0, "%s: %llu of %llu messages lost", scenario_,
             static_cast<unsigned long long>(missing),
             static_cast<unsigned long long>(ledger_.total()));
    return ledger_.total();
  }

 private:
  const char* scenario_;
  threadbench::kit::Ledger ledger_;
};

// One consumer's view: what it received, checking per-producer order as it goes.
class ConsumerLog {
 public:
  ConsumerLog(const char* scenario, std::size_t producers)
      : scenario_(scenario), next_(producers, 0) {}
  void got(const Msg* m) {
    received_counter.add();
    if (!TB_CHECK(m != nullptr, "%s: received an empty payload", scenario_)) return;
    log_.push_back(*m);
    if (m->producer < next_.size() && m->intact()) {
      TB_CHECK(m->seq >= next_[m->producer],
               "%s: FIFO violated: producer %u seq %llu after seq %llu", scenario_, m->producer,
               static_cast<unsigned long long>(m->seq),
               static_cast<unsigned long long>(next_[m->producer] - 1));
      next_[m->producer] = m->seq + 1;
    }
  }
  const std::vector<Msg>& log() const { return log_; }

 private:
  const char* scenario_;
  std::vector<std::uint64_t> next_;
  std::vector<Msg> log_;
};

using tbstress::Suite;
constexpr const char* unit_name = "messages checked";

// Sends v: first up to `attempts` try_sends (with timing jitter between them), then a
// blocking send. Every refusal must say Full (the receiver is alive) and give back the
// very value sent, which is_original recognises. Returns the number of refusals.
template <class T, class IsOriginal>
std::uint64_t send_trying_first(threadbench::Sender<T>& tx, T v, unsigned attempts, Rng& rng,
                                const char* sc, IsOriginal is_original) {
  std::uint64_t refused = 0;
  for (unsigned i = 0; i < attempts; ++i) {
    auto r = tx.try_send(std::move(v));
    if (r.ok()) return refused;
    TB_CHECK(r.full(), "%s: try_send failed with the receiver alive", sc);
    TB_CHECK(is_original(r.value()), "%s: try_send refused but gave back a different value", sc);
    v = std::move(r).value();
    ++refused;
    tbstress::jitter(rng);
  }
  auto r = tx.send(std::move(v));
  TB_CHECK(r.ok(), "%s: send failed with the receiver alive", sc);
  return refused;
}

// ---- the shape of fifo and recv_for: P producers x C consumers on one channel ---------------

// Exactly once over what the consumers received; attempted[p] = messages producer p sent.
// Returns the number checked.
std::uint64_t verify_received(const Scenario& sc, const std::vector<ConsumerLog>& logs,
                              std::vector<std::uint64_t> attempted) {
  MsgLedger ledger(sc.name(), std::move(attempted));
  for (const auto& l : logs) {
    for (const Msg& m : l.log()) ledger.add(m, "received");
  }
  return ledger.verify();
}

// Opens a channel of flavour f and runs `producers` threads, producer(p, tx, rng), each on
// its own Sender clone and meant to send per_producer messages, and one consumer thread per
// log, consumer(c, rx, rng), logging into logs[c] and sharing the Receiver by reference;
// all leave one start barrier together. The main thread drops its Sender first, so the
// channel disconnects when the last producer returns, and every consumer must then end.
// Once all are joined, checks exactly once over the logs; returns the number checked.
template <class T, class Producer, class Consumer>
std::uint64_t run_producers_consumers(const Scenario& sc, const Flavour& f, unsigned producers,
                                      std::uint64_t per_producer,
                                      const std::vector<ConsumerLog>& logs, Producer producer,
                                      Consumer consumer) {
  const auto consumers = static_cast<unsigned>(logs.size());
  auto [tx, rx] = open<T>(f);
  tbstress::SpinBarrier start(producers + consumers);
  std::vector<std::thread> threads;
  for (unsigned p = 0; p < producers; ++p) {
    threads.emplace_back([&, p, tx = tx]() mutable {
      Rng rng(sc.seed(p));
      start.arrive_and_wait();
      producer(p, tx, rng);
    });
  }
  for (unsigned c = 0; c < consumers; ++c) {
    threads.emplace_back([&, c, &rx = rx] {
      Rng rng(sc.seed(1000 + c));
      start.arrive_and_wait();
      consumer(c, rx, rng);
    });
  }
  {
    Sender<T> drop = std::move(tx);  // the producers' copies are the only Senders left
  }
  for (auto& t : threads) t.join();
  return verify_received(sc, logs, std::vector<std::uint64_t>(producers, per_producer));
}

std::uint64_t sum(const std::vector<std::uint64_t>& v) {
  return std::accumulate(v.begin(), v.end(), std::uint64_t{0});
}

// A consumer that blocks until disconnection: Rust's `for v in rx.iter()` (iterate = true),
// or recv() until it says disconnected; logs everything it received.
template <class T>
void receive_until_disconnected(Receiver<T>& rx, ConsumerLog& log, bool iterate,
                                const char* sc) {
  using P = Payload<T>;
  if (iterate) {
    for (auto& v : rx) log.got(P::view(v));
    return;
  }
  for (;;) {
    auto r = rx.recv();
    if (!r.ok()) {
      TB_CHECK(r.disconnected(), "%s: recv returned neither a value nor disconnected", sc);
      return;
    }
    log.got(P::view(*r));
  }
}

// ---- fifo: P producers x C consumers ------------------------------------------------------

template <class T>
void fifo(Suite& suite, const Flavour& f, unsigned producers, unsigned consumers,
          std::uint64_t per_producer) {
  using P = Payload<T>;
  auto sc = suite.scenario(std::string("fifo/") + f.name + "/" + P::name + "/P" +
                           std::to_string(producers) + "xC" + std::to_string(consumers));
  if (!sc) return;

  std::vector<ConsumerLog> logs(consumers, ConsumerLog(sc.name(), producers));
  std::vector<std::uint64_t> refused(producers, 0);
  auto producer = [&](unsigned p, Sender<T>& tx, Rng& rng) {
    for (std::uint64_t s = 0; s < per_producer; ++s) {
      const Msg m = Msg::make(p, s);
      auto is_m = [&m](const T& back) {
        const Msg* b = P::view(back);
        return b && *b == m;
      };
      refused[p] += send_trying_first(tx, P::make(p, s), rng.below(4) == 0 ? 16 : 0, rng,
                                      sc.name(), is_m);
      sent_counter.add();
      if (rng.one_in(64)) tbstress::jitter(rng);
    }
  };
  auto consumer = [&](unsigned c, Receiver<T>& rx, Rng& rng) {
    ConsumerLog& log = logs[c];
    switch (c % 3) {
      case 0:
      case 1: receive_until_disconnected(rx, log, c % 3 == 0, sc.name()); break;
      default:  // try_recv / recv_for / recv_until, all mixed
        for (;;) {
          const auto pick = rng.below(4);
          auto r = pick == 0   ? rx.try_recv()
                   : pick == 1 ? rx.recv_for(std::chrono::microseconds(rng.below(50)))
                   : pick == 2 ? rx.recv_until(std::chrono::steady_clock::now() + 20us)
                               : rx.recv_until(std::chrono::system_clock::now() + 20us);
          if (r.ok()) {
            log.got(P::view(*r));
          } else if (r.disconnected()) {
            break;
          } else if (r.empty()) {
            std::this_thread::yield();
          }
        }
        break;
    }
  };
  const std::uint64_t checked =
      run_producers_consumers<T>(sc, f, producers, per_producer, logs, producer, consumer);
  sc.done(checked, ", %llu try_send refusals", static_cast<unsigned long long>(sum(refused)));
}

// ---- bursts: consumers that wait, then drain a burst together -------------------------------

// P producers send bursts of `burst` messages back to back and pause ~200 us after each, so
// the C consumers (range-for and recv, all blocking) catch up and wait between bursts: a
// burst then lands on waiting consumers, whose polls look at the head slot itself (on the
// unbounded flavour, list.hpp's guarded peek()) while the other consumers drain it past
// blocks that get freed. Checks exactly once and per-producer FIFO, as fifo does. Under
// TSan it is the catcher of the catalogue's bug 19 (a peek without the guard that keeps
// its block from being freed): the fifo scenarios' consumers never catch up there, so
// they never peek.
void bursts(Suite& suite, const Flavour& f, unsigned producers, unsigned consumers,
            std::uint64_t per_producer, std::uint64_t burst) {
  auto sc = suite.scenario(std::string("bursts/") + f.name + "/P" + std::to_string(producers) +
                           "xC" + std::to_string(consumers));
  if (!sc) return;

  std::vector<ConsumerLog> logs(consumers, ConsumerLog(sc.name(), producers));
  auto producer = [&](unsigned p, Sender<Msg>& tx, Rng&) {
    for (std::uint64_t s = 0; s < per_producer; ++s) {
      TB_CHECK(tx.send(Msg::make(p, s)).ok(), "%s: send failed with the receiver alive",
               sc.name());
      sent_counter.add();
      if ((s + 1) % burst == 0) std::this_thread::sleep_for(200us);
    }
  };
  auto consumer = [&](unsigned c, Receiver<Msg>& rx, Rng&) {
    receive_until_disconnected(rx, logs[c], c % 2 == 0, sc.name());
  };
  sc.done(run_producers_consumers<Msg>(sc, f, producers, per_producer, logs, producer, consumer));
}

// ---- drop_receiver: the Receiver goes away while senders are blocked ----------------------

void drop_receiver(Suite& suite, const Flavour& f, unsigned producers, unsigned consumers,
                   std::uint64_t per_producer, unsigned rounds) {
  auto sc = suite.scenario(std::string("drop_receiver/") + f.name);
  if (!sc) return;
  Rng main_rng(sc.seed(999));
  std::uint64_t checked = 0, sum_ok = 0, sum_returned = 0, sum_received = 0, sum_dropped = 0;

  for (unsigned round = 0; round < rounds; ++round) {
    sc.round(round);
    DropLog drops;
    std::vector<ConsumerLog> logs(consumers, ConsumerLog(sc.name(), producers));
    std::vector<std::vector<Msg>> returned(producers);
    std::vector<std::uint64_t> ok(producers, 0);
    {
      auto [tx, rx0] = open<Tracked>(f);
      std::optional<Receiver<Tracked>> rx(std::move(rx0));
      // Consumers take this many messages in all, then stop; the rest are sent into a
      // full channel, handed back, or destroyed with it.
      const std::uint64_t budget = main_rng.below(producers * per_producer / 2 + 1);
      std::atomic<std::uint64_t> claimed{0};
      tbstress::SpinBarrier start(producers + consumers + 1);
      std::vector<std::thread> producer_threads, consumer_threads;
      for (unsigned p = 0; p < producers; ++p) {
        producer_threads.emplace_back([&, p, tx = tx]() mutable {
          Rng rng(sc.seed(p + 10 * round));
          bool failed_before = false;
          start.arrive_and_wait();
          for (std::uint64_t s = 0; s < per_producer; ++s) {
            Tracked v(Msg::make(p, s), &drops);
            auto r = tx.send(std::move(v));
            TB_CHECK(!v.armed(), "%s: send left its argument armed", sc.name());
            if (r.ok()) {
              TB_CHECK(!failed_before, "%s: producer %u: send ok after a send had failed", sc.name(), p);
              ++ok[p];
              sent_counter.add();
            } else {
              TB_CHECK(r.disconnected(), "%s: send failed without disconnection", sc.name());
              Tracked& back = r.value();
              TB_CHECK(back.armed() && back.m == Msg::make(p, s),
                       "%s: producer %u seq %llu: the value given back is not the one sent", sc.name(),
                       p, static_cast<unsigned long long>(s));
              back.disarm();
              returned[p].push_back(back.m);
              failed_before = true;
              returned_counter.add();
            }
            if (rng.one_in(16)) tbstress::jitter(rng);
          }
        });
      }
      for (unsigned c = 0; c < consumers; ++c) {
        consumer_threads.emplace_back([&, c] {
          start.arrive_and_wait();
          while (claimed.fetch_add(1, std::memory_order_relaxed) < budget) {
            auto r = rx->recv();
            if (!TB_CHECK(r.ok(), "%s: recv failed with senders alive", sc.name())) break;
            TB_CHECK(r->armed(), "%s: received a disarmed message", sc.name());
            r->disarm();
            logs[c].got(&r->m);
          }
        });
      }
      start.arrive_and_wait();
      for (auto& t : consumer_threads) t.join();
      // Let the producers fill the channel and block (sometimes), then drop the Receiver.
      switch (main_rng.below(3)) {
        case 0: break;
        case 1: std::this_thread::yield(); break;
        default: std::this_thread::sleep_for(std::chrono::microseconds(main_rng.below(2000))); break;
      }
      rx.reset();
      for (auto& t : producer_threads) t.join();
    }  // the last handle is gone: undelivered messages were destroyed, into `drops`

    std::uint64_t n_ok = 0, n_returned = 0, n_received = 0;
    for (unsigned p = 0; p < producers; ++p) {
      TB_CHECK(ok[p] + returned[p].size() == per_producer,
               "%s: producer %u: sent-ok %llu + returned %zu != attempted %llu", sc.name(), p,
               static_cast<unsigned long long>(ok[p]), returned[p].size(),
               static_cast<unsigned long long>(per_producer));
      n_ok += ok[p];
      n_returned += returned[p].size();
    }
    for (const auto& l : logs) n_received += l.log().size();
    const std::uint64_t n_dropped = drops.dropped.size();
    TB_CHECK(n_received + n_dropped == n_ok,
             "%s round %u: received %llu + destroyed undelivered %llu != sent-ok %llu", sc.name(), round,
             static_cast<unsigned long long>(n_received), static_cast<unsigned long long>(n_dropped),
             static_cast<unsigned long long>(n_ok));
    if (f.rendezvous()) {
      TB_CHECK(n_dropped == 0,
               "%s round %u: %llu rendezvous sends returned ok but were never received", sc.name(),
               round, static_cast<unsigned long long>(n_dropped));
    }
    MsgLedger ledger(sc.name(), std::vector<std::uint64_t>(producers, per_producer));
    for (const auto& l : logs) {
      for (const Msg& m : l.log()) ledger.add(m, "received");
    }
    for (const auto& r : returned) {
      for (const Msg& m : r) ledger.add(m, "got back");
    }
    for (const Msg& m : drops.dropped) ledger.add(m, "destroyed undelivered");
    checked += ledger.verify();
    sum_ok += n_ok;
    sum_returned += n_returned;
    sum_received += n_received;
    sum_dropped += n_dropped;
  }
  sc.done(checked, " (%u rounds: ok %llu = received %llu + destroyed %llu; returned %llu)",
          rounds, static_cast<unsigned long long>(sum_ok),
          static_cast<unsigned long long>(sum_received),
          static_cast<unsigned long long>(sum_dropped),
          static_cast<unsigned long long>(sum_returned));
}

// ---- drop_sender: the last Sender goes away while receivers block -------------------------

void drop_sender(Suite& suite, const Flavour& f, unsigned consumers, unsigned rounds) {
  auto sc = suite.scenario(std::string("drop_sender/") + f.name);
  if (!sc) return;
  Rng main_rng(sc.seed(999));
  std::uint64_t checked = 0;
  constexpr unsigned max_producers = 3;

  for (unsigned round = 0; round < rounds; ++round) {
    sc.round(round);
    const unsigned producers = static_cast<unsigned>(main_rng.below(max_producers + 1));
    std::vector<std::uint64_t> counts(max_producers + 1, 0);
    for (unsigned p = 0; p < producers; ++p) counts[p] = main_rng.below(5);
    std::vector<ConsumerLog> logs(consumers, ConsumerLog(sc.name(), max_producers + 1));
    {
      auto [tx0, rx] = open<Msg>(f);
      std::optional<Sender<Msg>> tx(std::move(tx0));
      tbstress::SpinBarrier start(producers + consumers + 1);
      std::vector<std::thread> threads;
      for (unsigned c = 0; c < consumers; ++c) {
        threads.emplace_back([&, c, &rx = rx] {
          start.arrive_and_wait();
          if ((c + round) % 2 == 0) {
            for (auto& m : rx) logs[c].got(&m);
          } else {
            for (;;) {
              auto r = rx.recv_for(std::chrono::milliseconds(1));
              if (r.ok()) {
                logs[c].got(&*r);
              } else if (r.disconnected()) {
                break;
              }
            }
          }
        });
      }
      for (unsigned p = 0; p < producers; ++p) {
        threads.emplace_back([&, p, s = *tx]() mutable {
          start.arrive_and_wait();
          for (std::uint64_t i = 0; i < counts[p]; ++i) {
            auto r = s.send(Msg::make(p, i));
            TB_CHECK(r.ok(), "%s: send failed with the receiver alive", sc.name());
          }
        });  // this producer's Sender drops here
      }
      start.arrive_and_wait();
      // Give the consumers time to park (sometimes), then drop the main Sender; whichever
      // Sender goes last must wake every blocked consumer.
      if (main_rng.one_in(2)) std::this_thread::sleep_for(std::chrono::microseconds(main_rng.below(1500)));
      tx.reset();
      for (auto& t : threads) t.join();  // a lost disconnect wake-up hangs here: watchdog
    }
    checked += verify_received(sc, logs, counts);
  }
  sc.done(checked, " (%u rounds, all consumers disconnected)", rounds);
}

// ---- recv_for: timeouts racing sends ------------------------------------------------------

void recv_for_races(Suite& suite, const Flavour& f, unsigned producers, unsigned consumers,
                    std::uint64_t per_producer) {
  auto sc = suite.scenario(std::string("recv_for/") + f.name);
  if (!sc) return;
  std::vector<ConsumerLog> logs(consumers, ConsumerLog(sc.name(), producers));
  std::vector<std::uint64_t> timeouts(consumers, 0);
  auto producer = [&](unsigned p, Sender<Msg>& tx, Rng& rng) {
    for (std::uint64_t s = 0; s < per_producer; ++s) {
      // On a rendezvous channel try_send succeeds only while a receiver is inside
      // recv*; if that receiver then times out, the value must wait for the next recv.
      const Msg m = Msg::make(p, s);
      send_trying_first(tx, m, rng.one_in(2) ? 32 : 0, rng, sc.name(),
                        [&m](const Msg& back) { return back == m; });
      sent_counter.add();
      if (rng.one_in(8)) std::this_thread::sleep_for(std::chrono::microseconds(rng.below(80)));
    }
  };
  auto consumer = [&](unsigned c, Receiver<Msg>& rx, Rng& rng) {
    for (;;) {
      const auto d = std::chrono::microseconds(rng.below(100));
      const auto t0 = std::chrono::steady_clock::now();
      auto r = rng.one_in(3) ? rx.recv_until(t0 + d) : rx.recv_for(d);
      const auto t1 = std::chrono::steady_clock::now();
      if (r.ok()) {
        logs[c].got(&*r);
      } else if (r.timed_out()) {
        ++timeouts[c];
        TB_CHECK(t1 - t0 >= d, "%s: recv_for(%lld us) timed out after %lld ns", sc.name(),
                 static_cast<long long>(d.count()),
                 static_cast<long long>(std::chrono::nanoseconds(t1 - t0).count()));
      } else {
        TB_CHECK(r.disconnected(), "%s: recv_for returned empty", sc.name());
        break;
      }
    }
  };
  const std::uint64_t checked =
      run_producers_consumers<Msg>(sc, f, producers, per_producer, logs, producer, consumer);
  sc.done(checked, ", %llu timeouts", static_cast<unsigned long long>(sum(timeouts)));
}

// ---- sender_storm: Senders cloned, moved, dropped and passed around ------------------------

void sender_storm(Suite& suite, const Flavour& f, unsigned threads_n, std::uint64_t ops) {
  auto sc = suite.scenario(std::string("sender_storm/") + f.name);
  if (!sc) return;
  std::vector<std::uint64_t> sent(threads_n, 0);
  ConsumerLog log(sc.name(), threads_n);
  bool consumer_disconnected = false;
  {
    auto [tx, rx] = open<Msg>(f);
    auto [xtx, xrx0] = threadbench::channel<Sender<Msg>>();  // Senders in flight
    std::optional<Receiver<Sender<Msg>>> xrx(std::move(xrx0));
    tbstress::SpinBarrier start(threads_n + 2);  // storm threads, consumer, main
    std::thread consumer([&, &rx = rx] {
      start.arrive_and_wait();
      for (;;) {
        auto r = rx.recv();
        if (!r.ok()) {
          consumer_disconnected = r.disconnected();
          break;
        }
        log.got(&*r);
      }
    });
    std::vector<std::thread> storm;
    for (unsigned i = 0; i < threads_n; ++i) {
      storm.emplace_back([&, i, first = tx, xs = xtx]() mutable {
        Rng rng(sc.seed(i));
        std::vector<Sender<Msg>> mine;
        mine.push_back(std::move(first));
        start.arrive_and_wait();
        for (std::uint64_t op = 0; op < ops; ++op) {
          const auto k = rng.below(mine.size());
          // Keep at least one Sender most of the time; now and then a thread lets its
          // last one go and must get one back from the others through the exchange.
          const bool may_drop = mine.size() >= 2 || rng.one_in(16);
          switch (rng.below(20)) {
            case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7:
              if (!mine.empty()) {
                TB_CHECK(mine[k].send(Msg::make(i, sent[i])).ok(), "%s: send failed", sc.name());
                ++sent[i];
                sent_counter.add();
              }
              break;
            case 8: case 9: case 10:
              if (!mine.empty() && mine.size() < 8) mine.push_back(mine[k]);  // clone
              break;
            case 11: case 12:
              if (mine.size() >= 2) {  // move-assign one over another, drop the husk
                const auto j = (k + 1) % mine.size();
                mine[j] = std::move(mine[k]);
                mine.erase(mine.begin() + static_cast<std::ptrdiff_t>(k));
              }
              break;
            case 13: case 14:
              if (!mine.empty() && may_drop) mine.erase(mine.begin() + static_cast<std::ptrdiff_t>(k));
              break;
            case 15: case 16:
              if (!mine.empty() && may_drop) {  // hand one to whichever thread takes it
                TB_CHECK(xs.send(std::move(mine[k])).ok(), "%s: passing a Sender failed", sc.name());
                mine.erase(mine.begin() + static_cast<std::ptrdiff_t>(k));
              }
              break;
            default:
              for (auto r = xrx->try_recv(); r.ok(); r = xrx->try_recv()) {
                mine.push_back(std::move(r).value());
              }
              break;
          }
        }
      });  // every Sender this thread still holds drops here
    }
    {
      Sender<Msg> d1 = std::move(tx);
      Sender<Sender<Msg>> d2 = std::move(xtx);
    }
    start.arrive_and_wait();
    for (auto& t : storm) t.join();
    xrx.reset();  // Senders still in flight are destroyed with the exchange channel
    consumer.join();
  }
  TB_CHECK(consumer_disconnected, "%s: the consumer did not end with disconnected", sc.name());
  MsgLedger ledger(sc.name(), sent);
  for (const Msg& m : log.log()) ledger.add(m, "received");
  sc.done(ledger.verify(), ", disconnected after the last Sender");
}

// ---- capacity: a bounded channel never holds more than n ------------------------------------
//
// P producers send into a channel of capacity n and, after each send returned ok, add one
// to `completed` (release). One consumer receives, lingers a random moment so the
// producers can fill the channel, and reads completed = S (acquire) right after its R-th
// recv returned. Every counted send put its message in before it was counted, and this
// consumer is the only one taking (R so far, none in progress), so at that moment the
// channel held at least S - R messages: S - R <= n must hold, with no slack. For a
// rendezvous (n = 0) a send returns only once its value was taken, so S <= R. A channel
// that lets n + 1 in, or a rendezvous send that returns before the hand-off, fails this.
// The check has power only if the channel was seen full: the run also requires that
// S - R reached n at least once (for n >= 1).
void capacity(Suite& suite, const Flavour& f, unsigned producers, std::uint64_t per_producer) {
  if (!f.cap) return;
  auto sc = suite.scenario(std::string("capacity/") + f.name);
  if (!sc) return;
  const auto n = static_cast<std::int64_t>(*f.cap);
  std::atomic<std::uint64_t> completed{0};
  std::int64_t max_held = INT64_MIN;
  std::uint64_t over = 0;
  ConsumerLog log(sc.name(), producers);
  {
    auto [tx, rx] = open<Msg>(f);
    tbstress::SpinBarrier start(producers + 1);
    std::vector<std::thread> threads;
    for (unsigned p = 0; p < producers; ++p) {
      threads.emplace_back([&, p, tx = tx]() mutable {
        start.arrive_and_wait();
        for (std::uint64_t s = 0; s < per_producer; ++s) {
          TB_CHECK(tx.send(Msg::make(p, s)).ok(), "%s: send failed with the receiver alive", sc.name());
          completed.fetch_add(1, std::memory_order_release);
          sent_counter.add();
        }
      });
    }
    { Sender<Msg> drop = std::move(tx); }
    Rng rng(sc.seed(999));
    start.arrive_and_wait();
    std::int64_t received = 0;
    for (auto& m : rx) {
      log.got(&m);
      ++received;
      // Linger: mostly a few pauses, sometimes a yield or a short sleep, so the producers
      // get to fill the channel (and block on it) between two receives.
      const auto r = rng.below(64);
      if (r == 0) {
        std::this_thread::sleep_for(std::chrono::microseconds(rng.below(200)));
      } else if (r < 8) {
        std::this_thread::yield();
      } else {
        tbstress::jitter(rng);
      }
      const auto held = static_cast<std::int64_t>(completed.load(std::memory_order_acquire)) - received;
      max_held = std::max(max_held, held);
      if (held > n && ++over <= 5) {
        TB_CHECK(false, "%s: %lld sends had returned after %lld receives: sent - received = "
                        "%lld > capacity %lld", sc.name(), static_cast<long long>(held + received),
                 static_cast<long long>(received), static_cast<long long>(held),
                 static_cast<long long>(n));
      }
    }
    for (auto& t : threads) t.join();
  }
  TB_CHECK(over == 0, "%s: the channel held more than its capacity %lld at %llu receives", sc.name(),
           static_cast<long long>(n), static_cast<unsigned long long>(over));
  if (n >= 1) {
    TB_CHECK(max_held >= n, "%s: the channel was never seen full (at most %lld of %lld): the "
                            "capacity check had no power", sc.name(), static_cast<long long>(max_held),
             static_cast<long long>(n));
  }
  MsgLedger ledger(sc.name(), std::vector<std::uint64_t>(producers, per_producer));
  for (const Msg& m : log.log()) ledger.add(m, "received");
  sc.done(ledger.verify(), ", most held at once (sent - received) %lld of cap %lld",
          static_cast<long long>(max_held), static_cast<long long>(n));
}

// ---- the scenario list ----------------------------------------------------------------------

#if defined(THREADBENCH_PLANT_BUG)
constexpr const char* banner_text =
    "built with THREADBENCH_PLANT_BUG: the channel has a planted bug; this run must FAIL";
#else
constexpr const char* banner_text = nullptr;
#endif

constexpr tbstress::Harness harness{
    .program = "channel_stress",
    .about =
        "Stress the channel (every flavour) with exactly-once + per-producer FIFO checks,\n"
        "disconnect races, timeouts racing sends, Sender clone/drop storms and capacity.\n"
        "Scenario names: fifo/<flavour>/<payload>/PpxCc, bursts/<flavour>/PpxCc,\n"
        "drop_receiver/<flavour>, drop_sender/<flavour>, recv_for/<flavour>,\n"
        "sender_storm/<flavour>, capacity/<flavour>; flavours: unbounded cap0 cap1 cap5 cap8.",
    .unit = unit_name,
    .banner = banner_text};

void run_all(Suite& suite) {
  // CI-mode sizes, times --scale.
  const std::uint64_t m = suite.n(20000);
  for (const Flavour& f : flavours) {
    fifo<Msg>(suite, f, 1, 1, 2 * m);
    fifo<Msg>(suite, f, 4, 1, m);
    fifo<Msg>(suite, f, 3, 3, m);
  }
  for (const Flavour& f : {flavours[0], flavours[1], flavours[4]}) {
    fifo<std::unique_ptr<Msg>>(suite, f, 2, 2, m);
  }
  for (const Flavour& f : {flavours[0], flavours[2]}) fifo<Fragile>(suite, f, 2, 2, m);
  for (const Flavour& f : flavours) bursts(suite, f, 2, 3, m / 4, 100);
  for (const Flavour& f : flavours) drop_receiver(suite, f, 3, 2, suite.n(1000), 20);
  for (const Flavour& f : flavours) drop_sender(suite, f, 2, static_cast<unsigned>(suite.n(200)));
  for (const Flavour& f : flavours) recv_for_races(suite, f, 2, 2, suite.n(5000));
  for (const Flavour& f : flavours) sender_storm(suite, f, 4, suite.n(15000));
  for (const Flavour& f : flavours) capacity(suite, f, 3, suite.n(4000));
}

}  // namespace

int main(int argc, char** argv) { return tbstress::harness_main(argc, argv, harness, run_all); }
