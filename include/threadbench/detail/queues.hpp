// threadbench/detail/queues.hpp: the two buffers behind a channel.
//
//  * Ring:      bounded, lock-free, multi-producer multi-consumer array queue in the style
//               of D. Vyukov's bounded MPMC queue: each slot carries a sequence number that
//               says whose turn it is, so producers and consumers each do one CAS on their
//               own index and never touch the other side's index.
//  * BlockList: unbounded; a list of fixed-size blocks with one spin lock for the
//               producers' end and another for the consumers' end (the two-lock queue of
//               Michael & Scott, with blocks instead of nodes so allocation is amortised).
//
// Both store S, which must be nothrow-move-constructible (channel.hpp boxes any T that is
// not), so a claimed slot is always filled: a throwing move can never leave a hole.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "threadbench/detail/wait.hpp"

namespace threadbench::detail {

// A message is published with a release store: whoever reads the slot's new sequence (or
// the block's count) with acquire also sees the message. THREADBENCH_PLANT_BUG (test-only,
// CMake option of the same name) publishes with a relaxed store instead, so the consumer
// may read the message before it is written: stress/ must catch it.
#if defined(THREADBENCH_PLANT_BUG)
inline constexpr std::memory_order publish_order = std::memory_order_relaxed;
#else
inline constexpr std::memory_order publish_order = std::memory_order_release;
#endif

// Waiting for another thread to finish a step it already started (fill a slot it claimed,
// release a lock held for a few instructions): pause briefly, then yield the CPU to it in
// case it was preempted.
class ShortWait {
 public:
  void snooze() noexcept {
    if (polls_ < 64) {
      ++polls_;
      cpu_relax();
    } else {
      sched_yield();
    }
  }

 private:
  unsigned polls_ = 0;
};

// A test-and-test-and-set lock for critical sections of a few dozen instructions: spinning
// costs less than the futex round trip a std::mutex makes under contention.
class SpinLock {
 public:
  void lock() noexcept {
    while (locked_.exchange(true, std::memory_order_acquire)) {
      ShortWait wait;
      while (locked_.load(std::memory_order_relaxed)) wait.snooze();
    }
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

template <class S>
class Ring {
  static_assert(std::is_nothrow_move_constructible_v<S>);

  // Sequence encoding for the slot at index pos % cap:
  //   2*pos     the slot is free and waits for the producer of position pos;
  //   2*pos + 1 the slot holds the message of position pos.
  // (Vyukov's pos / pos+1 encoding is ambiguous for a capacity of 1; doubling is not.)
  struct Slot {
    std::atomic<std::uint64_t> seq;
    alignas(S) unsigned char storage[sizeof(S)];
    S* value() noexcept { return std::launder(reinterpret_cast<S*>(storage)); }
  };

 public:
  explicit Ring(std::size_t cap)
      : cap_(cap), mask_(((cap & (cap - 1)) == 0) ? cap - 1 : 0), slots_(new Slot[cap]) {
    for (std::size_t i = 0; i < cap_; ++i) slots_[i].seq.store(2 * i, std::memory_order_relaxed);
  }
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  ~Ring() {
    const std::uint64_t head = head_.load(std::memory_order_relaxed);
    const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    for (std::uint64_t pos = head; pos != tail; ++pos) {
      Slot& s = slot(pos);
      if (s.seq.load(std::memory_order_relaxed) == 2 * pos + 1) s.value()->~S();
    }
  }

  std::size_t capacity() const noexcept { return cap_; }

  // A slot can be "claimed but not finished": a producer won position pos and is still
  // writing the message, or a consumer won it and is still moving it out. The *quick*
  // probes below then answer full/empty, which is fine while the caller keeps polling.
  // The *exact* probes first wait for such a slot to be finished, and answer full/empty
  // only when the ring really is (tail - head == cap, or head == tail). A caller must use
  // an exact probe before it decides to sleep: otherwise it could sleep with a message
  // published behind an unfinished slot, having swallowed the wake-up meant for it
  // (two consumers, found by stress/channel_liveness.cpp). crossbeam's array channel
  // waits on unfinished slots the same way.
  enum class Probe { quick, exact };

  // Moves v in and returns its position, or nothing when the ring is full (v untouched).
  std::optional<std::uint64_t> try_push(S& v, Probe probe = Probe::exact) noexcept {
    std::uint64_t pos = tail_.load(std::memory_order_relaxed);
    ShortWait unfinished;
    for (;;) {
      Slot& s = slot(pos);
      const std::uint64_t seq = s.seq.load(std::memory_order_acquire);
      if (seq == 2 * pos) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          ::new (static_cast<void*>(s.storage)) S(std::move(v));
          s.seq.store(2 * pos + 1, publish_order);
          return pos;
        }
      } else if (seq < 2 * pos) {
        // The slot still holds the message one lap back, or a consumer is moving it out.
        const std::uint64_t now = tail_.load(std::memory_order_relaxed);
        if (now != pos) {
          pos = now;
        } else if (probe == Probe::quick ||
                   head_.load(std::memory_order_relaxed) + cap_ <= pos) {
          return std::nullopt;  // full
        } else {
          unfinished.snooze();  // a consumer claimed that message: wait until it is out
        }
      } else {
        pos = tail_.load(std::memory_order_relaxed);
      }
    }
  }

  std::optional<S> try_pop(Probe probe = Probe::exact) noexcept {
    std::uint64_t pos = head_.load(std::memory_order_relaxed);
    ShortWait unfinished;
    for (;;) {
      Slot& s = slot(pos);
      const std::uint64_t seq = s.seq.load(std::memory_order_acquire);
      if (seq == 2 * pos + 1) {
        if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          return take(s, pos);
        }
      } else if (seq < 2 * pos + 1) {
        const std::uint64_t now = head_.load(std::memory_order_relaxed);
        if (now != pos) {
          pos = now;
        } else if (probe == Probe::quick || tail_.load(std::memory_order_relaxed) == pos) {
          return std::nullopt;  // empty
        } else {
          unfinished.snooze();  // a producer claimed pos and is still writing it
        }
      } else {
        pos = head_.load(std::memory_order_relaxed);
      }
    }
  }

  // Has the message pushed at pos been taken out yet? (rendezvous senders wait on this)
  bool taken(std::uint64_t pos) noexcept {
    return slot(pos).seq.load(std::memory_order_acquire) != 2 * pos + 1;
  }

  // Takes back the message at pos if no consumer has claimed it (rendezvous sender whose
  // receiver disappeared). Only valid once no consumer can run any more.
  std::optional<S> try_reclaim(std::uint64_t pos) noexcept {
    std::uint64_t expected = pos;
    if (!head_.compare_exchange_strong(expected, pos + 1, std::memory_order_relaxed)) {
      return std::nullopt;
    }
    return take(slot(pos), pos);
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

  alignas(cache_line) std::atomic<std::uint64_t> tail_{0};  // producers' index
  alignas(cache_line) std::atomic<std::uint64_t> head_{0};  // consumers' index
  alignas(cache_line) const std::size_t cap_;
  const std::size_t mask_;  // cap-1 when cap is a power of two, else 0
  std::unique_ptr<Slot[]> slots_;
};

template <class S>
class BlockList {
  static_assert(std::is_nothrow_move_constructible_v<S>);
  // About 4 KiB of payload per block, at least 8 and at most 64 slots.
  static constexpr std::uint32_t block_slots =
      sizeof(S) >= 512 ? 8 : (sizeof(S) >= 64 ? 4096 / sizeof(S) : 64);

  struct Block {
    std::atomic<std::uint32_t> written{0};  // slots [0, written) hold messages
    std::atomic<Block*> next{nullptr};
    alignas(S) unsigned char storage[block_slots][sizeof(S)];
    S* value(std::uint32_t i) noexcept { return std::launder(reinterpret_cast<S*>(storage[i])); }
  };

 public:
  BlockList() : tail_(new Block), head_(tail_) {}
  BlockList(const BlockList&) = delete;
  BlockList& operator=(const BlockList&) = delete;
  ~BlockList() {
    Block* b = head_;
    std::uint32_t i = head_idx_;
    while (b) {
      const std::uint32_t w = b->written.load(std::memory_order_relaxed);
      for (; i < w; ++i) b->value(i)->~S();
      Block* next = b->next.load(std::memory_order_relaxed);
      delete b;
      b = next;
      i = 0;
    }
    delete spare_.load(std::memory_order_relaxed);
  }

  void push(S& v) {
    std::lock_guard lock(tail_mu_);
    if (tail_idx_ == block_slots) {
      Block* nb = spare_.exchange(nullptr, std::memory_order_acquire);
      if (nb) {
        nb->written.store(0, std::memory_order_relaxed);
        nb->next.store(nullptr, std::memory_order_relaxed);
      } else {
        nb = new Block;  // may throw bad_alloc: nothing has been moved yet
      }
      tail_->next.store(nb, std::memory_order_release);
      tail_ = nb;
      tail_idx_ = 0;
    }
    ::new (static_cast<void*>(tail_->storage[tail_idx_])) S(std::move(v));
    ++tail_idx_;
    tail_->written.store(tail_idx_, publish_order);
  }

  std::optional<S> try_pop() noexcept {
    std::lock_guard lock(head_mu_);
    for (;;) {
      if (head_idx_ < head_->written.load(std::memory_order_acquire)) {
        S* p = head_->value(head_idx_++);
        std::optional<S> out(std::move(*p));
        p->~S();
        return out;
      }
      if (head_idx_ < block_slots) return std::nullopt;
      Block* next = head_->next.load(std::memory_order_acquire);
      if (!next) return std::nullopt;
      // The producers left this block for good when they linked next: recycle it.
      delete spare_.exchange(head_, std::memory_order_acq_rel);
      head_ = next;
      head_idx_ = 0;
    }
  }

 private:
  alignas(cache_line) SpinLock tail_mu_;
  Block* tail_;
  std::uint32_t tail_idx_ = 0;
  alignas(cache_line) SpinLock head_mu_;
  Block* head_;
  std::uint32_t head_idx_ = 0;
  alignas(cache_line) std::atomic<Block*> spare_{nullptr};
};

}  // namespace threadbench::detail
