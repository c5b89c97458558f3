// stress/channel_pingpong_stress.cpp: request/reply with one message in flight per client,
// so that a lost wake-up is never rescued by a later message: it stalls, and the stall
// detector fails the run within seconds.
//
// Why it exists: the other harnesses keep sending, so a receiver that slept through the
// wake-up of message k is woken by message k+1 and the run passes. Here a client sends one
// request and sends nothing else until its reply arrives; a server replies once per
// request. If either wake-up is lost (the message sits in the buffer while its receiver
// sleeps), that client and, in the end, every server wait forever. Run uninstrumented at
// -O3 (the release stage) this is what catches a missing store-load fence in the park
// handshake, which TSan's instrumented atomics hide.
//
// Scenarios, for each flavour (unbounded, cap1, cap4, cap0 = rendezvous):
//   pingpong/<flavour>/C<c>xS<s>  C clients, S servers. One request channel; the S servers
//        share its Receiver by reference (multi-consumer when S > 1). Each client owns a
//        reply channel of the same flavour whose Sender the servers hold. A request is
//        (client, seq, tag); the server that takes it sends (client, seq, tag) back to
//        that client, which checks it is its own, in order and intact.
//   Between round trips a client "thinks" a random time, usually a busy wait of 0..24 us
//   (about the channel's spin phase: the peer is caught spinning, yielding or in the
//   middle of parking as the message lands, where a lost wake-up happens), sometimes a
//   yield or a sleep (the peer parks for good and must be woken).
//
// Stuck counters: requests_sent / requests_taken / replies_sent / replies_taken. A run that
// stalls with requests_sent > requests_taken has a request in the buffer and a server
// asleep; with replies_sent > replies_taken, a reply and its client.
//
// Checks: every reply is the client's own request, in order, intact; every client got
// all its replies; the servers end with disconnected once the last client left.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
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

tbstress::Counter requests_sent("requests_sent");
tbstress::Counter requests_taken("requests_taken");
tbstress::Counter replies_sent("replies_sent");
tbstress::Counter replies_taken("replies_taken");

constexpr Flavour flavours[] = {{"unbounded", std::nullopt}, {"cap1", 1}, {"cap4", 4}, {"cap0", 0}};

struct Msg {
  std::uint32_t client = 0;
  std::uint32_t tag = 0;
  std::uint64_t seq = 0;
  static std::uint32_t tag_of(std::uint32_t c, std::uint64_t s) {
    return static_cast<std::uint32_t>((s * 0x9E3779B97F4A7C15ULL) >> 32) ^ (c * 0x85EBCA6BU) ^ 0x5A5A5A5AU;
  }
  static Msg make(std::uint32_t c, std::uint64_t s) { return Msg{c, tag_of(c, s), s}; }
  bool intact() const { return tag == tag_of(client, seq); }
};

// The client's pause between a reply and its next request (see the header).
void think(Rng& rng) {
  const auto r = rng.below(64);
  if (r == 0) {
    std::this_thread::sleep_for(std::chrono::microseconds(20 + rng.below(200)));
  } else if (r < 4) {
    std::this_thread::yield();
  } else {
    const auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(rng.below(24'000));
    while (std::chrono::steady_clock::now() < until) tbstress::cpu_relax();
  }
}

void pingpong(Suite& suite, const Flavour& f, unsigned clients, unsigned servers,
              std::uint64_t round_trips) {
  auto sc = suite.scenario(std::string("pingpong/") + f.name + "/C" + std::to_string(clients) +
                           "xS" + std::to_string(servers));
  if (!sc) return;
  std::vector<std::uint64_t> got(clients, 0);
  std::vector<std::uint64_t> served(servers, 0);
  std::vector<char> server_disconnected(servers, 0);
  {
    auto [req_tx, req_rx] = open<Msg>(f);
    std::vector<Sender<Msg>> reply_tx;
    std::vector<std::optional<Receiver<Msg>>> reply_rx;
    for (unsigned c = 0; c < clients; ++c) {
      auto [t, r] = open<Msg>(f);
      reply_tx.push_back(std::move(t));
      reply_rx.emplace_back(std::move(r));
    }
    tbstress::SpinBarrier start(clients + servers);
    std::vector<std::thread> threads;
    for (unsigned s = 0; s < servers; ++s) {
      // Each server holds its own clones of the reply Senders; they drop when it ends.
      threads.emplace_back([&, s, replies = reply_tx, &rx = req_rx]() mutable {
        start.arrive_and_wait();
        for (;;) {
          auto r = rx.recv();
          if (!r.ok()) {
            server_disconnected[s] = r.disconnected();
            break;
          }
          requests_taken.add();
          const Msg m = *r;
          if (!TB_CHECK(m.intact() && m.client < clients,
                        "%s: server %u got a corrupt request (client %u seq %llu tag %08x)", sc.name(),
                        s, m.client, static_cast<unsigned long long>(m.seq), m.tag)) {
            continue;
          }
          TB_CHECK(replies[m.client].send(m).ok(), "%s: reply to client %u failed", sc.name(), m.client);
          replies_sent.add();
          ++served[s];
        }
      });
    }
    reply_tx.clear();  // only the servers' clones remain
    for (unsigned c = 0; c < clients; ++c) {
      threads.emplace_back([&, c, tx = req_tx, rx = std::move(*reply_rx[c])]() mutable {
        Rng rng(sc.seed(c));
        start.arrive_and_wait();
        for (std::uint64_t i = 0; i < round_trips; ++i) {
          if (!TB_CHECK(tx.send(Msg::make(c, i)).ok(), "%s: client %u: request failed", sc.name(), c)) break;
          requests_sent.add();
          auto r = rx.recv();  // nothing else is sent to us until this reply comes
          if (!TB_CHECK(r.ok(), "%s: client %u: reply recv failed", sc.name(), c)) break;
          replies_taken.add();
          TB_CHECK(r->client == c && r->seq == i && r->intact(),
                   "%s: client %u round trip %llu got (client %u seq %llu tag %08x)", sc.name(), c,
                   static_cast<unsigned long long>(i), r->client,
                   static_cast<unsigned long long>(r->seq), r->tag);
          ++got[c];
          think(rng);
        }
      });  // this client's request Sender drops here
    }
    { Sender<Msg> drop = std::move(req_tx); }
    for (auto& t : threads) t.join();
  }
  std::uint64_t total = 0, total_served = 0;
  for (unsigned c = 0; c < clients; ++c) {
    TB_CHECK(got[c] == round_trips, "%s: client %u completed %llu of %llu round trips", sc.name(), c,
             static_cast<unsigned long long>(got[c]), static_cast<unsigned long long>(round_trips));
    total += got[c];
  }
  for (unsigned s = 0; s < servers; ++s) {
    TB_CHECK(server_disconnected[s], "%s: server %u did not end with disconnected", sc.name(), s);
    total_served += served[s];
  }
  TB_CHECK(total_served == total, "%s: servers replied %llu times for %llu round trips", sc.name(),
           static_cast<unsigned long long>(total_served), static_cast<unsigned long long>(total));
  // Wall time over one client's round trips: the clients run side by side.
  sc.done_as("round trips checked", total, ", %.1f us per round trip of a client",
             sc.seconds() * 1e6 / static_cast<double>(std::max<std::uint64_t>(1, round_trips)));
}

constexpr tbstress::Harness harness{
    .program = "channel_pingpong_stress",
    .about =
        "Request/reply ping-pong with one message in flight per client, for every flavour:\n"
        "a lost wake-up is never rescued by a later message, so it stalls, and the stall\n"
        "detector (default --stall 5) fails the run. Scenario names:\n"
        "pingpong/<flavour>/C<clients>xS<servers>; flavours: unbounded cap1 cap4 cap0.",
    .unit = "round trips checked",
    .default_stall = 5};

void run_all(Suite& suite) {
  // CI-mode sizes (times --scale): round trips per client.
  const std::uint64_t n = suite.n(2000);
  for (const Flavour& f : flavours) {
    pingpong(suite, f, 1, 1, 2 * n);  // the plain ping-pong: one client, one server
    pingpong(suite, f, 4, 1, n / 2);  // several clients on one request channel
    pingpong(suite, f, 3, 2, n / 2);  // several servers share the request Receiver
  }
}

}  // namespace

int main(int argc, char** argv) { return tbstress::harness_main(argc, argv, harness, run_all); }
