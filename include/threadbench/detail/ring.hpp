// threadbench/detail/ring.hpp: the bounded flavour (sync_channel(n), n >= 1).
//
// How it works: a ring of n slots in the style of D. Vyukov's bounded MPMC queue. Each slot
// carries a sequence number that says whose turn it is, so a producer and a consumer each do
// one CAS on their own index (tail_, head_) and never write the other side's index:
//   * a producer reads tail_ = pos, checks that slot pos % n waits for position pos, claims
//     it with a CAS tail_: pos -> pos + 1, moves the message in and publishes it by storing
//     the slot's sequence with release;
//   * a consumer does the same on head_, reads the message after an acquire load of the
//     sequence, and hands the slot to the producer one lap later with a release store.
// A failed CAS means another thread of the same side won: Backoff::spin() spreads the
// retries of many threads out instead of letting them hammer the index's cache line.
//
// Disconnection from the receiving side: dropping the Receiver sets mark_bit in tail_
// (disconnect), so no producer can claim a position any more (its CAS expects an unmarked
// tail) and every later push answers disconnected with the value untouched; the Receiver's
// drop then wakes the producers blocked on a full ring, and only then destroys every buffered
// message at once (discard_all), waiting for the producers that claimed a position before
// the mark to finish writing it. Waking first matters: a message's destructor may wait for
// one of those producers (shared.hpp, drop_receiver). This is Rust's behaviour: a message
// sent to a dropped Receiver is destroyed, whether it was sent before the drop or raced
// with it, and a blocked sender gets its value back.
//
// S must be nothrow-move-constructible (channel.hpp boxes any T that is not), so a claimed
// slot is always filled: a throwing move can never leave a hole.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "threadbench/detail/backoff.hpp"
#include "threadbench/detail/cpu.hpp"
#include "threadbench/detail/flavour.hpp"
#include "threadbench/detail/planted.hpp"

namespace threadbench::detail {

template <class S>
class Ring {
  static_assert(std::is_nothrow_move_constructible_v<S>);

  // Sequence encoding for the slot at index pos % cap:
  //   2*pos     the slot is free and waits for the producer of position pos;
  //   2*pos + 1 the slot holds the message of position pos.
  // (Vyukov's pos / pos+1 encoding is ambiguous for a capacity of 1; doubling is not.)
  struct Slot {
    std::atomic<std::uint64_t> seq;  // whose turn it is (see above)
    alignas(S) unsigned char storage[sizeof(S)];
    S* value() noexcept { return std::launder(reinterpret_cast<S*>(storage)); }
  };

  static constexpr std::uint64_t mark_bit = std::uint64_t{1} << 63;  // in tail_: disconnected

  static THREADBENCH_PLANTED_CONST std::memory_order publish =
      plant(Bug::ring_publish_relaxed) ? std::memory_order_relaxed : std::memory_order_release;
  static THREADBENCH_PLANTED_CONST std::memory_order consume =
      plant(Bug::ring_consume_relaxed) ? std::memory_order_relaxed : std::memory_order_acquire;

 public:
  explicit Ring(std::size_t cap)
      : cap_(cap),
        mask_(((cap & (cap - 1)) == 0) ? cap - 1 : 0),
        slots_(new Slot[cap]) {
    // The layout the speed depends on (asserted here, where Ring is complete): producers'
    // index, consumers' index and the read-only fields (cap_, mask_, slots_) on three
    // different cache lines, so that a push does not invalidate the line a pop reads.
    static_assert(std::is_standard_layout_v<Ring>, "offsetof below needs a standard layout");
    static_assert(offsetof(Ring, head_) - offsetof(Ring, tail_) >= cache_line,
                  "tail_ and head_ must be on different cache lines");
    static_assert(offsetof(Ring, cap_) - offsetof(Ring, head_) >= cache_line,
                  "the read-only fields must not share head_'s cache line");
    static_assert(alignof(Ring) >= cache_line, "a Ring starts a cache line");
    for (std::size_t i = 0; i < cap_; ++i) slots_[i].seq.store(2 * i, std::memory_order_relaxed);
  }
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  ~Ring() {
    // No other thread is left: every message in [head, tail) is complete.
    std::uint64_t pos = head_.load(std::memory_order_relaxed);
    if (plant(Bug::double_destroy) && pos > 0) --pos;
    const std::uint64_t tail = tail_.load(std::memory_order_relaxed) & ~mark_bit;
    for (; pos != tail; ++pos) slot(pos).value()->~S();
  }

  // Moves v in, or answers full / disconnected with v untouched.
  Push try_push(S& v, Probe probe = Probe::exact) noexcept {
    std::uint64_t pos = tail_.load(std::memory_order_relaxed);
    Backoff backoff;
    for (;;) {
      if (pos & mark_bit) return Push::disconnected;
      Slot& s = slot(pos);
      const std::uint64_t seq = s.seq.load(std::memory_order_acquire);
      if (seq == 2 * pos) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          ::new (static_cast<void*>(s.storage)) S(std::move(v));
          s.seq.store(2 * pos + 1, publish);
          return Push::ok;
        }
        backoff.spin();  // another producer took pos; pos now holds the current tail
      } else if (seq < 2 * pos) {
        // The slot still holds the message one lap back, or a consumer is moving it out.
        const std::uint64_t now = tail_.load(std::memory_order_relaxed);
        if (now != pos) {
          pos = now;
        } else if (probe == Probe::quick ||
                   head_.load(std::memory_order_relaxed) + cap_ <= pos) {
          return Push::full;
        } else {
          backoff.snooze();  // a consumer claimed that message: wait until it is out
        }
      } else {
        pos = tail_.load(std::memory_order_relaxed);  // another producer already filled pos
      }
    }
  }

  std::optional<S> try_pop(Probe probe = Probe::exact) noexcept {
    std::uint64_t pos = head_.load(std::memory_order_relaxed);
    Backoff backoff;
    for (;;) {
      Slot& s = slot(pos);
      const std::uint64_t seq = s.seq.load(consume);
      if (seq == 2 * pos + 1) {
        if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          return take(s, pos);
        }
        backoff.spin();
      } else if (seq < 2 * pos + 1) {
        const std::uint64_t now = head_.load(std::memory_order_relaxed);
        if (now != pos) {
          pos = now;
        } else if (probe == Probe::quick ||
                   (tail_.load(std::memory_order_relaxed) & ~mark_bit) == pos) {
          return std::nullopt;  // empty
        } else {
          backoff.snooze();  // a producer claimed pos and is still writing it
        }
      } else {
        pos = head_.load(std::memory_order_relaxed);
      }
    }
  }

  // The Receiver's drop, first step: no push succeeds from now on (a blocked producer that
  // tries again answers disconnected with its value).
  void disconnect() noexcept { tail_.fetch_or(mark_bit, std::memory_order_seq_cst); }
  // Second step, once blocked producers were woken: destroys every buffered message,
  // including those whose producers claimed a slot before the mark and are still writing
  // it. Precondition: disconnect() was called and no thread receives any more.
  void discard_all() noexcept {
    while (try_pop(Probe::exact)) {
    }
  }

 private:
  Slot& slot(std::uint64_t pos) noexcept {
    return slots_[mask_ ? (pos & mask_) : (cap_ == 1 ? 0 : pos % cap_)];
  }

  std::optional<S> take(Slot& s, std::uint64_t pos) noexcept {
    std::optional<S> out(std::move(*s.value()));
    s.value()->~S();
    // release: the producer that reuses the slot must see the old message moved out.
    s.seq.store(2 * (pos + cap_), std::memory_order_release);
    return out;
  }

  /// Producers' index: the next position to claim; mark_bit once the Receiver is gone.
  alignas(cache_line) std::atomic<std::uint64_t> tail_{0};
  /// Consumers' index: the next position to take.
  alignas(cache_line) std::atomic<std::uint64_t> head_{0};
  alignas(cache_line) const std::size_t cap_;
  const std::size_t mask_;   // cap-1 when cap is a power of two, else 0
  std::unique_ptr<Slot[]> slots_;
};

}  // namespace threadbench::detail
