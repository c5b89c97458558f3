// threadbench/detail/list.hpp: the unbounded flavour (channel()), lock-free.
//
// How it works. Messages live in a linked list of blocks of block_cap slots. Every message
// has a position (a 64-bit index that only grows); position p lives in slot p % lap of
// block p / lap, where lap = block_cap + 1: the one offset per lap that has no slot
// (offset block_cap) is the "next block is being installed" state of an index. Two indices,
// each on its own cache line with a pointer to its current block:
//   * tail_ (producers): a producer claims a position with one CAS tail_: p -> p + 1 and
//     then moves its message into the slot (try_push's make(), which must not throw and
//     runs no user code that could wait: a nothrow move) and publishes it with a release
//     store of the slot's `written` flag. No lock: producers only ever contend on that one
//     CAS, and a failed CAS backs off (Backoff::spin()). The block allocation a claim needs
//     happens before the claim and before make(), so when it throws nothing was claimed and
//     the value was not touched (shared.hpp's push_unbounded gives it back).
//   * head_ (consumers): a consumer claims a position the same way, then waits for its slot's
//     `written` flag (the producer may still be writing: a claimed-but-unfinished slot, see
//     Probe in flavour.hpp) and moves the message out. Consumers never write to a slot, so a
//     consumer does not steal the cache line that producers are filling with the next
//     messages. Before it reads tail_ to decide "empty", a consumer looks at known_tail, the
//     last tail any consumer saw (on the consumers' own cache line): positions below it are
//     claimed for sure, so a consumer that is behind does not touch the producers' line.
// Block installation: the producer that claims the last slot of a block (offset
// block_cap - 1) moves tail_ to offset block_cap, which makes every other producer wait
// (Backoff::snooze()) for the few instructions it takes to publish the next block's pointer
// and move tail_ on to offset 0 of the next lap. That next block was allocated *before* the
// CAS, by any producer that saw it was about to claim the last slot, so nobody waits on
// malloc (and a failed allocation throws with nothing claimed and the value untouched); a
// producer that loses the race keeps its block for its next try or frees it. The
// consumer that takes the last slot of a block likewise moves head_ on to the next block.
//
// Reclamation without use-after-free: a block may be freed only when every one of its slots
// has been read, yet a slow consumer may still be reading slot 3 when the consumer of the
// last slot is done. So every consumer, once it has moved its message out, sets its slot's
// flag in the block's `read` array (a plain release store of one byte, on a line of its own
// that only consumers write: no read-modify-write, so the consumer does not wait for the
// line). The consumer that moves head_ on to the next block (the one that claimed the last
// slot) retires the old block onto a list kept in head_'s line, and at each such move frees
// (into a one-block cache that the next allocation reuses) every retired block whose flags
// are all set: by then every producer has published its slot (a read waits for that) and
// every consumer is done with it, unless a waiter is peeking at it (peek_guard_: skipped
// until a later move). One retired block is the usual state. Only the consumer moving head_
// touches the list, and moves are ordered (each starts with a CAS on head_.index that reads
// the previous move's release store of it). No thread dereferences a block it found through
// tail_ or head_ before its CAS on that index succeeded, except peek() under its guard, and
// a block cannot be freed before the slot that CAS claimed has been read. (crossbeam marks a
// READ bit in each slot and walks the block instead; the flags keep consumers' writes off
// the slots. Before the flags, a per-block counter took one fetch_add per message: a third
// locked read-modify-write on the hot path, next to the two index CASes.)
//
// Where the time goes when the consumer keeps up (issue 19, 2-vCPU AMD EPYC VM, commit
// 793d4fb): on spsc unbounded payload:1024, 0.69x crossbeam's rate (interval 0.55-1.00, 12
// processes), `perf record` puts 38% of the samples in send and 32% in try_pop; inside
// send, 81% sit on the tail_ CAS. A consumer that has caught up polls tail_ after every
// pause (wait_until_ready), so each CAS has to take the line back from it. Inside try_pop,
// 34% is the copy out of the slot (the message's 16 lines crossing cores) and 14% the wait
// for `written`. Polling less often (crossbeam's receiver backs off exponentially) did not
// help: see spin.hpp. What does help: a waiter's quick probe reads the head slot's
// `written` flag, the line its message will arrive on anyway, instead of tail_ (peek()).
// Before the claim that is a read of a block that another consumer could free (others
// take its slots and move past the next block while this one stalls), so the peek
// publishes the block in a guard that retire() respects (the argument is at peek()).
// Measured as it is here against 5efe3db (channel_bench only, 24 alternated processes a
// side, 2-vCPU AMD EPYC VM): ping_pong unbounded p50 0.76x (interval 0.64-0.97), spsc
// unbounded 64 B 0.70x (0.54-0.82) and 8 B 1.04x, mpsc 1p / 4p 0.93x / 1.08x, mpmc 2x2 / 4x4
// / 8x8 0.95x / 1.12x / 1.01x (every interval but the first two holds 1); without the
// guard (unsafe) ping_pong unbounded was 0.71x. The cost: a caught-up recv's guard CAS,
// send+recv on one thread 225 -> 268 instructions (scripts/icount.sh).
//
// Disconnection: dropping the Receiver sets mark_bit in tail_ (disconnect), so every later
// push answers disconnected (value untouched); the Receiver's drop then takes and destroys
// every message up to the marked tail (discard_all), waiting for producers that claimed a
// position before the mark.
//
// The method is crossbeam-channel's list flavour (src/flavors/list.rs), written anew;
// oneTBB's concurrent_queue spreads positions over several micro-queues instead, which
// removes the single tail line at the cost of FIFO-per-producer and exact emptiness.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
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
class List {
  static_assert(std::is_nothrow_move_constructible_v<S>);

  static constexpr std::uint64_t block_cap = 31;  // slots per block
  static constexpr std::uint64_t lap = block_cap + 1;
  // Indices count positions in units of 1 << shift; the low bit is a flag:
  static constexpr unsigned shift = 1;
  static constexpr std::uint64_t mark_bit = 1;  // in tail_: the Receiver is gone
  static constexpr std::uint64_t has_next = 1;  // in head_: head's block is not the last one

  static THREADBENCH_PLANTED_CONST std::memory_order publish =
      plant(Bug::list_publish_relaxed) ? std::memory_order_relaxed : std::memory_order_release;
  static THREADBENCH_PLANTED_CONST std::memory_order consume =
      plant(Bug::list_consume_relaxed) ? std::memory_order_relaxed : std::memory_order_acquire;
  static THREADBENCH_PLANTED_CONST std::memory_order link =
      plant(Bug::list_unordered_install) ? std::memory_order_relaxed : std::memory_order_release;

  struct Slot {
    std::atomic<std::uint32_t> written{0};  // 1 once the message is in storage
    alignas(S) unsigned char storage[sizeof(S)];
    S* value() noexcept { return std::launder(reinterpret_cast<S*>(storage)); }

    void wait_written() const noexcept {
      Backoff backoff;
      while (!written.load(consume)) backoff.snooze();
    }
  };

  struct Block {
    std::atomic<Block*> next{nullptr};  // set once, by the producer of the last slot
    Slot slots[block_cap];
    /// read[i] is 1 once slot i's message has been moved out (release). Its own line:
    /// consumers write it, producers never touch it.
    alignas(cache_line) std::atomic<std::uint8_t> read[block_cap]{};
    /// The next block on head_'s retired list (see reclamation above): touched only by the
    /// consumer moving head_, on the same line as `read`.
    Block* retired_next = nullptr;

    /// Every slot's message has been moved out; the acquire loads order each consumer's
    /// move before the caller frees the block.
    bool all_read() const noexcept {
      for (const auto& r : read) {
        if (!r.load(std::memory_order_acquire)) return false;
      }
      return true;
    }

    Block* wait_next() const noexcept {
      Backoff backoff;
      for (;;) {
        if (Block* n = next.load(std::memory_order_acquire)) return n;
        backoff.snooze();
      }
    }
  };
  static_assert(std::is_standard_layout_v<Block>, "offsetof below needs a standard layout");
  static_assert(alignof(Block) == cache_line && offsetof(Block, read) % cache_line == 0 &&
                    offsetof(Block, retired_next) + sizeof(Block*) <= offsetof(Block, read) + cache_line,
                "Block::read and retired_next must share one cache line, apart from the slots");

  // An index and the block it is in, each end on its own cache line.
  struct alignas(cache_line) End {
    std::atomic<std::uint64_t> index{0};
    std::atomic<Block*> block{nullptr};
    /// head_ only: the highest tail index (mark bit cleared) a consumer has read; a lower
    /// bound of tail_, so positions below it are known to be claimed.
    std::atomic<std::uint64_t> known_tail{0};
    /// head_ only: blocks head_ has moved past that are not yet freed (oldest first), for
    /// the consumer moving head_ alone (see reclamation above).
    Block* retired = nullptr;
  };
  static_assert(alignof(End) == cache_line && sizeof(End) == cache_line,
                "each End (index, block, known_tail, retired) must fill one cache line of its own");

  static std::uint64_t offset(std::uint64_t index) noexcept { return (index >> shift) % lap; }
  static std::uint64_t position(std::uint64_t index) noexcept { return index >> shift; }

 public:
  List() {
    // The layout the speed depends on (asserted here, where List is complete): the
    // producers' end, the consumers' end and the spare block on different cache lines.
    static_assert(std::is_standard_layout_v<List>, "offsetof below needs a standard layout");
    static_assert(offsetof(List, head_) - offsetof(List, tail_) >= cache_line &&
                      offsetof(List, spare_) - offsetof(List, head_) >= cache_line,
                  "tail_, head_ and spare_ must be on different cache lines");
    Block* first = new Block;
    head_.block.store(first, std::memory_order_relaxed);
    tail_.block.store(first, std::memory_order_relaxed);
  }
  List(const List&) = delete;
  List& operator=(const List&) = delete;
  ~List() {
    // No other thread is left: every claimed position was written.
    std::uint64_t head = head_.index.load(std::memory_order_relaxed) & ~has_next;
    const std::uint64_t tail = tail_.index.load(std::memory_order_relaxed) & ~mark_bit;
    Block* block = head_.block.load(std::memory_order_relaxed);
    if (plant(Bug::double_destroy) && offset(head) > 0) head -= 1 << shift;
    for (; position(head) != position(tail); head += 1 << shift) {
      const std::uint64_t off = offset(head);
      if (off == block_cap) {  // the lap's missing slot: move to the next block
        Block* next = block->next.load(std::memory_order_relaxed);
        delete block;
        block = next;
      } else {
        block->slots[off].value()->~S();
      }
    }
    delete block;
    for (Block* r = head_.retired; r != nullptr;) {
      Block* next_retired = r->retired_next;
      delete r;
      r = next_retired;
    }
    delete spare_.load(std::memory_order_relaxed);
  }

  // Claims a slot and moves the message in from make() (a nothrow call returning an S): ok,
  // or disconnected without calling make(). Never full. A block allocation the claim needs
  // happens before the claim, so if it throws (std::bad_alloc), make() never ran. make()
  // runs while a receiver may already wait for the claimed slot: it must not throw and must
  // not wait for anyone (a user's copy constructor belongs before the claim).
  template <class Make>
  Push try_push(Make&& make) {
    static_assert(std::is_nothrow_invocable_r_v<S, Make&>,
                  "List::try_push: make() must be a nothrow move of a ready message");
    Backoff backoff;
    std::uint64_t tail = tail_.index.load(std::memory_order_acquire);
    Block* block = tail_.block.load(std::memory_order_acquire);
    Block* next_block = nullptr;  // allocated ahead for the last slot of a block
    for (;;) {
      if (tail & mark_bit) {
        release_block(next_block);
        return Push::disconnected;
      }
      const std::uint64_t off = offset(tail);
      if (off == block_cap) {  // another producer is installing the next block
        backoff.snooze();
        tail = tail_.index.load(std::memory_order_acquire);
        block = tail_.block.load(std::memory_order_acquire);
        continue;
      }
      if (off + 1 == block_cap && next_block == nullptr) {
        next_block = acquire_block();  // may throw bad_alloc: nothing claimed yet
      }
      const std::uint64_t new_tail = tail + (1 << shift);
      if (tail_.index.compare_exchange_weak(tail, new_tail, std::memory_order_seq_cst,
                                            std::memory_order_acquire)) {
        if (off + 1 == block_cap) {  // claimed the last slot: install the next block
          tail_.block.store(next_block, std::memory_order_release);
          tail_.index.fetch_add(1 << shift, std::memory_order_release);
          block->next.store(next_block, link);
          next_block = nullptr;
        }
        release_block(next_block);
        Slot& slot = block->slots[off];
        ::new (static_cast<void*>(slot.storage)) S(make());
        slot.written.store(1, publish);
        return Push::ok;
      }
      backoff.spin();  // another producer took the position; tail holds the new index
      block = tail_.block.load(std::memory_order_acquire);
    }
  }

  // A message, or nothing when the list is empty. Both probes may wait for a slot whose
  // producer claimed it and is still writing it. A quick probe reads the head slot under a
  // guard (peek()) or skips the full fence before reading tail_, so it may answer empty a
  // little late: fine for a waiter that polls again, never used before parking. The exact
  // probe reads tail_ after a full fence and never looks into a block before its claim.
  std::optional<S> try_pop(Probe probe = Probe::exact) noexcept {
    return probe == Probe::quick ? pop<Probe::quick>() : pop<Probe::exact>();
  }

  // The Receiver's drop, first step: no push succeeds from now on.
  void disconnect() noexcept { tail_.index.fetch_or(mark_bit, std::memory_order_seq_cst); }
  // Second step: every buffered message, including those whose producers are still writing
  // them, is destroyed here. Precondition: disconnect() was called and no thread receives
  // any more.
  void discard_all() noexcept {
    while (try_pop()) {
    }
  }

 private:
  // The consumer moving head_ past `block`: frees every retired block that has been read
  // in full and is not in peek_guard_ (nobody touches it any more), then appends `block`.
  void retire(Block* block) noexcept {
    Block** link = &head_.retired;
    while (Block* r = *link) {
      if (r->all_read() && peek_guard_.load(std::memory_order_seq_cst) != r) {
        *link = r->retired_next;
        release_block(r);
      } else {
        link = &r->retired_next;
      }
    }
    block->retired_next = nullptr;
    *link = block;
  }

  // try_pop, one copy per probe: the exact one stays as small as it was, so it is still
  // inlined into try_recv; only the quick one (a waiter's polls) carries peek().
  template <Probe probe>
  std::optional<S> pop() noexcept {
    Backoff backoff;
    std::uint64_t head = head_.index.load(std::memory_order_acquire);
    Block* block = head_.block.load(std::memory_order_acquire);
    for (;;) {
      const std::uint64_t off = offset(head);
      if (off == block_cap) {  // another consumer is moving head_ to the next block
        backoff.snooze();
        head = head_.index.load(std::memory_order_acquire);
        block = head_.block.load(std::memory_order_acquire);
        continue;
      }
      std::uint64_t new_head = head + (1 << shift);
      if (!(new_head & has_next)) {
        // Is there a message at head? First the tail some consumer saw last (our own line);
        // only when head has caught up with it, the head slot or tail_ (below). The fence
        // orders that read of tail_ after the read of head_ above (a consumer must not see a
        // tail older than a head it was told about), as crossbeam's list does.
        std::uint64_t tail = head_.known_tail.load(std::memory_order_relaxed);
        if (position(head) >= position(tail)) {
          // A quick probe looks at the head slot itself (see peek()); the exact probe, and
          // a quick one that cannot take the guard, read tail_. So does a quick probe that
          // finds a message at a block's first slot: one read of tail_ a block refreshes
          // known_tail, so a consumer that has fallen behind stops peeking until it has
          // caught up again.
          Peek seen = Peek::unknown;
          if constexpr (probe == Probe::quick) seen = peek(block, off);
          if (seen == Peek::empty) return std::nullopt;
          if (seen == Peek::written && off != 0) {
            tail = head + (1 << shift);  // at least the message at head
          } else {
            if constexpr (probe == Probe::exact) {
              std::atomic_thread_fence(std::memory_order_seq_cst);
            }
            tail = tail_.index.load(std::memory_order_relaxed) & ~mark_bit;
            if (position(head) == position(tail)) return std::nullopt;
            head_.known_tail.store(tail, std::memory_order_relaxed);
          }
        }
        if (position(head) / lap != position(tail) / lap) new_head |= has_next;
      }
      if (head_.index.compare_exchange_weak(head, new_head, std::memory_order_seq_cst,
                                            std::memory_order_acquire)) {
        if (off + 1 == block_cap) {  // took the last slot: move head_ to the next block
          Block* next = block->wait_next();
          std::uint64_t next_index = (new_head & ~has_next) + (1 << shift);
          if (next->next.load(std::memory_order_relaxed) != nullptr) next_index |= has_next;
          retire(block);  // before the store of head_.index that the next move reads
          head_.block.store(next, std::memory_order_seq_cst);  // seq_cst: see peek()
          head_.index.store(next_index, std::memory_order_release);
        }
        Slot& slot = block->slots[off];
        slot.wait_written();
        std::optional<S> out(std::move(*slot.value()));
        slot.value()->~S();
        block->read[off].store(1, std::memory_order_release);  // `block` may be freed now
        return out;
      }
      backoff.spin();
      block = head_.block.load(std::memory_order_acquire);
    }
  }

  enum class Peek { empty, written, unknown };

  // Is the message at head written? For a waiter's quick probe, which so reads the line the
  // message will arrive on instead of the producers' tail_ (whose CAS a polling consumer
  // slows down: the measurements are in the header comment). Before its claim a consumer
  // may not read a block it found through head_, since the block may be freed under it; so
  // the peek first publishes the block in peek_guard_ (one guard for all consumers: a
  // consumer that finds it taken answers unknown and reads tail_ as before), then checks
  // that head_ still names that block, and only then reads the flag. retire() never frees
  // the block in the guard. Why that is enough: the guard's store precedes the check's
  // load of head_.block, which found the block still linked, so it precedes (in the single
  // order of seq_cst operations) the store that unlinked it; that store strongly happens
  // before the later retire() that may free the block, whose seq_cst load of the guard
  // therefore sees this peek's store, or a later guard value written after this peek
  // ended (the release store below, read through the acquire chain of guard owners).
  // (A stale `block` may be stored and compared after it was freed: only its value is
  // used, never what it points to, until the check of head_.block below shows it linked.)
  Peek peek(Block* block, std::uint64_t off) noexcept {
    if (plant(Bug::list_peek_unguarded)) {  // the planted bug: no guard, no check of head_
      return block->slots[off].written.load(std::memory_order_acquire) != 0 ? Peek::written
                                                                             : Peek::empty;
    }
    Block* none = nullptr;
    if (peek_guard_.load(std::memory_order_relaxed) != nullptr ||
        !peek_guard_.compare_exchange_strong(none, block, std::memory_order_seq_cst,
                                             std::memory_order_relaxed)) {
      return Peek::unknown;
    }
    Peek seen = Peek::unknown;
    if (head_.block.load(std::memory_order_seq_cst) == block) {
      const bool written = block->slots[off].written.load(std::memory_order_acquire) != 0;
      seen = written ? Peek::written : Peek::empty;
    }
    peek_guard_.store(nullptr, std::memory_order_release);
    return seen;
  }

  // A fresh block: the cached spare if there is one (its slots reset), else a new one.
  Block* acquire_block() {
    if (Block* b = spare_.exchange(nullptr, std::memory_order_acquire)) {
      b->next.store(nullptr, std::memory_order_relaxed);
      for (auto& r : b->read) r.store(0, std::memory_order_relaxed);
      for (Slot& s : b->slots) s.written.store(0, std::memory_order_relaxed);
      return b;
    }
    return new Block;
  }
  // Keeps one block for the next acquire_block(); frees any other.
  void release_block(Block* b) noexcept {
    if (b) delete spare_.exchange(b, std::memory_order_acq_rel);
  }

  /// Producers' end: the next position to claim (mark_bit: disconnected) and its block.
  End tail_;
  /// Consumers' end: the next position to take (has_next: a later block exists) and its block.
  End head_;
  /// One freed block kept for reuse, so a steady stream allocates nothing.
  alignas(cache_line) std::atomic<Block*> spare_{nullptr};
  /// The block a waiting consumer is peeking at (peek()), or nullptr: retire() leaves it
  /// alone. Its own line: only waiting consumers write it.
  alignas(cache_line) std::atomic<Block*> peek_guard_{nullptr};
};

}  // namespace threadbench::detail
