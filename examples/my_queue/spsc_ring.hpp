// examples/my_queue/spsc_ring.hpp: a user's own queue, the kind threadbench is asked to
// measure against its contenders. It knows nothing of threadbench (spsc_ring_adapter.hpp
// is the only file that does).
//
// How it works: a bounded single-producer single-consumer ring, lock-free. Two counters
// only ever grow: tail_ (positions written, owned by the producer) and head_ (positions
// read, owned by the consumer); position p lives in slot p & mask_, where the slot count is
// the capacity rounded up to a power of two. The ring holds at most `capacity` messages,
// exactly as asked: it is full when tail - head == capacity, empty when tail == head.
//   * push: the producer checks for room, moves the message into slot tail & mask_, then
//     publishes it with a release store of tail + 1;
//   * pop: the consumer's acquire load of tail_ makes that write visible; it moves the
//     message out, destroys the slot and hands it back with a release store of head + 1,
//     which the producer's acquire load of head_ pairs with before it reuses the slot.
// Each side keeps a private copy of the other side's counter and re-reads the shared one
// only when the copy says full (producer) or empty (consumer), so in steady streaming the
// two sides rarely touch each other's cache line. head_ and tail_ (and the copies) sit on
// separate cache lines so that the two threads do not invalidate each other's writes.
//
// push/pop block by polling: pauses that double, then yields. They never sleep, so a
// blocked thread keeps a CPU busy: fine for a hand-off between two running threads, not for
// a consumer that idles for long.
//
// PublishOrder is the memory order of the producer's store that publishes a written slot.
// memory_order_release is correct. racy_adapter.hpp instantiates the ring with
// memory_order_relaxed on purpose: a planted bug that x86 hardware hides (its stores are
// not reordered with each other) and that ThreadSanitizer reports as a data race on the
// slot.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <memory>
#include <new>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace my_queue {

template <class T, std::memory_order PublishOrder = std::memory_order_release>
class SpscRing {
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "SpscRing moves messages in and out of its slots and cannot undo a throw");

 public:
  // Precondition: capacity >= 1.
  explicit SpscRing(std::size_t capacity)
      : capacity_(checked(capacity)),
        mask_(std::bit_ceil(capacity) - 1),
        slots_(std::make_unique<Slot[]>(mask_ + 1)) {}

  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  ~SpscRing() {
    for (std::size_t p = head_.load(std::memory_order_relaxed);
         p != tail_.load(std::memory_order_relaxed); ++p) {
      slot(p)->~T();
    }
  }

  std::size_t capacity() const noexcept { return capacity_; }

  // Producer only. Moves v into the ring and returns true, or returns false (full) with v
  // left as it was.
  bool try_push(T& v) noexcept {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_seen_ == capacity_) {
      head_seen_ = head_.load(std::memory_order_acquire);
      if (tail - head_seen_ == capacity_) return false;
    }
    ::new (static_cast<void*>(slots_[tail & mask_].bytes)) T(std::move(v));
    tail_.store(tail + 1, PublishOrder);
    return true;
  }

  // Consumer only. Moves the oldest message into out and returns true, or returns false
  // (empty) with out untouched.
  bool try_pop(T& out) noexcept(std::is_nothrow_move_assignable_v<T>) {
    const std::size_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_seen_) {
      tail_seen_ = tail_.load(std::memory_order_acquire);
      if (head == tail_seen_) return false;
    }
    T* msg = slot(head);
    out = std::move(*msg);
    msg->~T();
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  // Producer only: blocks (polling) while the ring is full.
  void push(T&& v) noexcept {
    Backoff backoff;
    while (!try_push(v)) backoff.wait();
  }

  // Consumer only: blocks (polling) while the ring is empty.
  void pop(T& out) {
    Backoff backoff;
    while (!try_pop(out)) backoff.wait();
  }

 private:
  // Storage for one message, constructed and destroyed in place: T needs no default
  // constructor, and an empty slot holds no object.
  struct Slot {
    alignas(T) unsigned char bytes[sizeof(T)];
  };

  // Waiting for the other side: 1, 2, 4, ... 64 pauses, then a yield per poll, which lets
  // the other side run when there are more threads than cores.
  class Backoff {
   public:
    void wait() noexcept {
      if (step_ > spin_steps) {
        std::this_thread::yield();
        return;
      }
      for (unsigned i = 0; i < (1u << step_); ++i) relax();
      ++step_;
    }

   private:
    static constexpr unsigned spin_steps = 6;
    static void relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
      _mm_pause();
#endif
    }
    unsigned step_ = 0;
  };

  static std::size_t checked(std::size_t capacity) {
    if (capacity == 0) throw std::invalid_argument("SpscRing: capacity must be at least 1");
    return capacity;
  }

  T* slot(std::size_t pos) noexcept {
    return std::launder(reinterpret_cast<T*>(slots_[pos & mask_].bytes));
  }

  static constexpr std::size_t line = 64;  // cache line size on x86-64 and most ARM64

  /// Read-only after construction: shared by both sides without synchronisation.
  const std::size_t capacity_;
  const std::size_t mask_;                  ///< slot count - 1 (slot count: a power of two)
  const std::unique_ptr<Slot[]> slots_;     ///< slot p & mask_ holds position p

  /// The producer's line: tail_ is written only by the producer (release: publishes the slot
  /// it just wrote); head_seen_ is the producer's private, possibly stale copy of head_.
  alignas(line) std::atomic<std::size_t> tail_{0};
  std::size_t head_seen_ = 0;

  /// The consumer's line: head_ is written only by the consumer (release: hands an emptied
  /// slot back); tail_seen_ is the consumer's private, possibly stale copy of tail_.
  alignas(line) std::atomic<std::size_t> head_{0};
  std::size_t tail_seen_ = 0;
  // alignas rounds sizeof(SpscRing) up to whole lines, so nothing else shares the last one.
};

}  // namespace my_queue
