// threadbench/kit/ledger.hpp: the exactly-once ledger of threadbench's stress harnesses (not
// part of the channel: nothing in include/threadbench/channel.hpp uses it).
//
// Producer p sends the sequence numbers 0 .. attempted[p] - 1; whatever turns up again (a
// message received, a value a refused send gave back, one destroyed in the channel) is
// entered once per arrival. At the end every message sent must have arrived exactly once:
// arrived() says how often a message had arrived before (0 = the first time; anything else
// is a duplicate), and for_each_lost() names those that never did. The ledger only counts;
// the harness decides what a message is (sent() says whether (producer, seq) was ever
// sent), checks it, and words the reports.
//
//   threadbench::kit::Ledger ledger(std::vector<std::uint64_t>{n0, n1});  // or (producers, n)
//   if (!ledger.sent(p, s)) report("nobody sent it");
//   else if (ledger.arrived(p, s) != 0) report("duplicate");
//   ...
//   const std::uint64_t lost = ledger.for_each_lost([](std::uint64_t p, std::uint64_t s) {...});
//
// arrived() may be called from many threads at once, and for_each_lost() while they do (a
// harness reporting a hang): the counts are relaxed atomics, which order nothing between the
// threads under test, so they cannot hide a missing happens-before from ThreadSanitizer. A
// count stops at 255 (255 arrivals or more all read as "many").
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace threadbench::kit {

class Ledger {
 public:
  // attempted[p]: how many messages producer p sent (sequence numbers 0 .. attempted[p] - 1).
  explicit Ledger(std::vector<std::uint64_t> attempted)
      : attempted_(std::move(attempted)), first_(attempted_.size() + 1, 0) {
    for (std::size_t p = 0; p < attempted_.size(); ++p) first_[p + 1] = first_[p] + attempted_[p];
    seen_.reset(new std::atomic<std::uint8_t>[total()]);
    for (std::uint64_t i = 0; i < total(); ++i) seen_[i].store(0, std::memory_order_relaxed);
  }
  // `producers` producers that sent `per_producer` messages each.
  Ledger(std::size_t producers, std::uint64_t per_producer)
      : Ledger(std::vector<std::uint64_t>(producers, per_producer)) {}
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  std::size_t producers() const noexcept { return attempted_.size(); }
  std::uint64_t attempted(std::size_t producer) const noexcept { return attempted_[producer]; }
  // Every message sent, all producers together.
  std::uint64_t total() const noexcept { return first_.back(); }

  // Did producer `producer` send sequence number `seq`?
  bool sent(std::uint64_t producer, std::uint64_t seq) const noexcept {
    return producer < attempted_.size() && seq < attempted_[producer];
  }

  // Enters one arrival of (producer, seq), which must be sent(); returns how often it had
  // arrived before: 0 the first time, 1 or more for a duplicate (at most 255).
  unsigned arrived(std::uint64_t producer, std::uint64_t seq) noexcept {
    std::atomic<std::uint8_t>& n = seen_[first_[producer] + seq];
    std::uint8_t before = n.load(std::memory_order_relaxed);
    while (before < 255 &&
           !n.compare_exchange_weak(before, static_cast<std::uint8_t>(before + 1),
                                    std::memory_order_relaxed)) {
    }
    return before;
  }

  // Calls lost(producer, seq) for every message sent that never arrived, producer by
  // producer in sequence order; returns how many there were.
  template <class Lost>
  std::uint64_t for_each_lost(Lost&& lost) const {
    std::uint64_t missing = 0;
    for (std::size_t p = 0; p < attempted_.size(); ++p) {
      for (std::uint64_t s = 0; s < attempted_[p]; ++s) {
        if (seen_[first_[p] + s].load(std::memory_order_relaxed) == 0) {
          ++missing;
          lost(static_cast<std::uint64_t>(p), s);
        }
      }
    }
    return missing;
  }

 private:
  std::vector<std::uint64_t> attempted_;
  std::vector<std::uint64_t> first_;  // first_[p]: producer p's first slot in seen_
  std::unique_ptr<std::atomic<std::uint8_t>[]> seen_;
};

}  // namespace threadbench::kit
