// stress/planted_contenders.hpp: broken contenders, compiled only into the test-only target
// contender_stress_planted, to prove that each check of contender_stress can fail.
//
// Each wraps threadbench's mutex_deque contender (threadbench/contenders/builtin.hpp), which has every
// optional capability, and switches on one bug around it. The mutex keeps every bug a
// logic bug, free of data races: what fails is the harness's own check, not
// ThreadSanitizer. Each bug stands for a real one:
//   planted_drop          every 97th message is discarded (a slot overwritten, a lost
//                         publish): exactly_once reports it never received
//   planted_duplicate     every 97th message is enqueued twice (a retried CAS that had
//                         succeeded): exactly_once reports it received twice
//   planted_reorder       one send in 50 of a thread is held back and enqueued after that
//                         thread's next one, although the queue claims fifo_per_producer: the
//                         per-producer order check reports it
//   planted_early_close   recv_or_closed reports "closed" while messages remain (the closed
//                         flag read before the buffer): drain_backlog reports them never
//                         received
//   planted_overfull      the buffer holds one message more than the capacity asked for (an
//                         off-by-one in the bound): try_capacity reports the extra try_send
//   planted_blocking_try  try_send waits for room, as send does: the run hangs, and the
//                         harness's stall detector fails it
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "threadbench/contenders/builtin.hpp"

namespace tbstress {

enum class PlantedBug { drop, duplicate, reorder, early_close, overfull, blocking_try };

constexpr std::string_view planted_name(PlantedBug bug) {
  switch (bug) {
    case PlantedBug::drop: return "planted_drop";
    case PlantedBug::duplicate: return "planted_duplicate";
    case PlantedBug::reorder: return "planted_reorder";
    case PlantedBug::early_close: return "planted_early_close";
    case PlantedBug::overfull: return "planted_overfull";
    case PlantedBug::blocking_try: return "planted_blocking_try";
  }
  return "planted_unknown";
}

template <class T, PlantedBug Bug>
class Planted {
 public:
  static constexpr std::string_view name = planted_name(Bug);
  static constexpr bool fifo_per_producer = true;  // claimed; planted_reorder breaks it
  static bool supports(bench::Cap cap) { return !cap || *cap > 0; }  // no rendezvous

  explicit Planted(bench::Cap cap)
      : q_(Bug == PlantedBug::overfull && cap ? bench::Cap{*cap + 1} : cap) {}

  void send(T&& v) {
    const std::uint64_t n = sends_.fetch_add(1, std::memory_order_relaxed) + 1;
    if constexpr (Bug == PlantedBug::drop) {
      if (n % 97 == 0) return;
    } else if constexpr (Bug == PlantedBug::duplicate) {
      if (n % 97 == 0) q_.send(T(v));
    } else if constexpr (Bug == PlantedBug::reorder) {
      static thread_local std::uint64_t mine = 0;  // this thread's sends
      static thread_local std::optional<T> held;   // one of them, held back
      if (++mine % 50 == 25) {  // not a stream's last send at the default sizes
        held.emplace(std::move(v));
        return;
      }
      q_.send(std::move(v));
      if (held) q_.send(*std::exchange(held, std::nullopt));
      return;
    }
    q_.send(std::move(v));
  }
  bool try_send(T& v) {
    if constexpr (Bug == PlantedBug::blocking_try) {
      q_.send(std::move(v));
      return true;
    } else {
      return q_.try_send(v);
    }
  }
  void recv(T& out) { q_.recv(out); }
  bool try_recv(T& out) { return q_.try_recv(out); }
  void close() {
    closed_.store(true, std::memory_order_release);
    q_.close();
  }
  bool recv_or_closed(T& out) {
    if (Bug == PlantedBug::early_close && closed_.load(std::memory_order_acquire)) return false;
    return q_.recv_or_closed(out);
  }

 private:
  bench::MutexDeque<T> q_;
  std::atomic<std::uint64_t> sends_{0};  // picks the messages a bug hits
  std::atomic<bool> closed_{false};
};

// Planted<T, Bug> as the one-parameter template a contender list holds.
template <PlantedBug Bug>
struct PlantedWith {
  template <class T>
  using type = Planted<T, Bug>;
};

using PlantedContenders = bench::Contenders<
    PlantedWith<PlantedBug::drop>::type, PlantedWith<PlantedBug::duplicate>::type,
    PlantedWith<PlantedBug::reorder>::type, PlantedWith<PlantedBug::early_close>::type,
    PlantedWith<PlantedBug::overfull>::type, PlantedWith<PlantedBug::blocking_try>::type>;

}  // namespace tbstress
