// stress/planted_contenders.hpp: broken contenders, compiled only into the test-only target
// contender_stress_planted, to prove that each check of contender_stress can fail.
//
// Each is the same small queue (a std::deque under a mutex, bounded or unbounded, with every
// optional capability of bench/contender.hpp) with one bug switched on. The mutex keeps
// every bug a logic bug, free of data races: what fails is the harness's own check, not
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
//   planted_overfull      try_send accepts one message more than the capacity (an
//                         off-by-one in the full test): try_capacity reports it
//   planted_blocking_try  try_send on a full queue waits for room, as send does: the run
//                         hangs, and the harness's stall detector / watchdog fails it
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>

#include "contenders.hpp"

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

  explicit Planted(bench::Cap cap) : limit_(cap ? *cap : 0) {}

  void send(T&& v) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return has_room(limit_); });
    push(lock, std::move(v));
  }
  bool try_send(T& v) {
    std::unique_lock lock(mu_);
    if constexpr (Bug == PlantedBug::blocking_try) {
      not_full_.wait(lock, [&] { return has_room(limit_); });
    }
    const std::size_t limit = Bug == PlantedBug::overfull && limit_ != 0 ? limit_ + 1 : limit_;
    if (!has_room(limit)) return false;
    push(lock, std::move(v));
    return true;
  }
  void recv(T& out) { (void)recv_or_closed(out); }
  bool try_recv(T& out) {
    std::unique_lock lock(mu_);
    if (q_.empty()) return false;
    pop(lock, out);
    return true;
  }
  void close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    not_empty_.notify_all();
  }
  bool recv_or_closed(T& out) {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return !q_.empty() || closed_; });
    if (q_.empty() || (Bug == PlantedBug::early_close && closed_)) return false;
    pop(lock, out);
    return true;
  }

 private:
  bool has_room(std::size_t limit) const { return limit == 0 || q_.size() < limit; }

  void push(std::unique_lock<std::mutex>& lock, T&& v) {
    ++pushed_;
    if (Bug == PlantedBug::drop && pushed_ % 97 == 0) return;
    if (Bug == PlantedBug::duplicate && pushed_ % 97 == 0) q_.push_back(T(v));
    if constexpr (Bug == PlantedBug::reorder) {
      static thread_local std::uint64_t mine = 0;  // this thread's sends
      static thread_local std::optional<T> held;   // one of them, held back
      if (++mine % 50 == 25) {  // not a stream's last send at the default sizes
        held.emplace(std::move(v));
        return;
      }
      q_.push_back(std::move(v));
      if (held) q_.push_back(*std::exchange(held, std::nullopt));
    } else {
      q_.push_back(std::move(v));
    }
    lock.unlock();
    not_empty_.notify_all();
  }
  void pop(std::unique_lock<std::mutex>& lock, T& out) {
    out = std::move(q_.front());
    q_.pop_front();
    lock.unlock();
    not_full_.notify_one();
  }

  const std::size_t limit_;  // 0 = unbounded
  std::mutex mu_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<T> q_;
  std::uint64_t pushed_ = 0;  // sends so far: picks the messages a bug hits
  bool closed_ = false;
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
