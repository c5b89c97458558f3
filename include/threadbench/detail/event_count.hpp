// threadbench/detail/event_count.hpp: EventCount, the wait queue a blocked operation parks
// on: sleepers register, re-check their condition and sleep on a futex word; notifiers wake
// them without ever losing a wake-up, and without a syscall when nobody sleeps.
#pragma once

#include <atomic>
#include <climits>
#include <cstdint>

#include "threadbench/detail/cpu.hpp"
#include "threadbench/detail/deadline.hpp"
#include "threadbench/detail/fence.hpp"
#include "threadbench/detail/futex.hpp"
#include "threadbench/detail/planted.hpp"
#include "threadbench/detail/spin.hpp"

namespace threadbench::detail {

// An event count: a lost-wake-up-free way to sleep until some other condition holds.
//
// Sleeper:   auto t = prepare();  if (condition()) { cancel(); ... }  else sleep(t, dl); ...
// Notifier:  make the condition true (a release store is enough), then notify_one/all().
//
// Why no wake-up is lost: the sleeper registers (count_ += 1) and then runs heavy_fence();
// the notifier stores its condition, runs light_fence() and then reads count_. The pair of
// fences orders each side's store before its load (a Dekker pair), so either the sleeper's
// re-check sees the new condition or the notifier sees the sleeper registered and bumps
// epoch_, which makes the futex wait return at once.
//
// One wake in flight at a time: a sleeper stays counted until it has run again, which
// takes a futex wake-up's latency (microseconds; far more on a busy or virtual machine).
// Without a gate every notify_one in that window makes a futex_wake syscall of its own:
// while one consumer is parked, every send pays a syscall. So bit 0 of epoch_ (pending)
// says "a notify_one's wake is on its way", set in the same atomic step that bumps the wake
// sequence (bits 1..31), and a notify_one that finds it set only leaves its mark (a CAS
// that writes the same word, so that the sleeper who clears the bit synchronises with it)
// and returns. The responsibility for its message passes to the sleepers:
//  * a sleeper clears pending (settle()) when it registers, after its fence and before its
//    exact re-check, and again when it leaves; its token never has the bit set, so a wake
//    that lands after it registered changes the word and ends its futex wait;
//  * a sleeper that got what it waited for after registering calls pass_on(): if others
//    still sleep, it wakes one, since the notifiers it absorbed may have left more messages
//    (or free slots) than it took. One that finds nothing needs no relay: its exact re-check
//    saw the condition false after the notifiers it absorbed, so their messages are gone.
// A wake whose sleeper had already read its token before the bump is caught by that
// token's futex_wait failing at once; a wake that lands before the token read is cleared
// by the sleeper itself, which then re-checks (a bit left set there would swallow every
// later notify_one: stress/channel_pingpong_stress stalled on exactly that in the first
// version of this gate, which cleared the bit before reading the token).
// notify_all (disconnection) always wakes everyone.
class alignas(cache_line) EventCount {
  static constexpr std::uint32_t pending = 1;    // bit 0 of epoch_
  static constexpr std::uint32_t one_wake = 2;   // the wake sequence counts in bits 1..31

 public:
  std::uint32_t prepare() noexcept {
    count_.fetch_add(1, std::memory_order_seq_cst);
    heavy_fence();
    return settle();
  }

  // Unregisters a sleeper that found its condition true after prepare().
  void cancel() noexcept {
    count_.fetch_sub(1, std::memory_order_relaxed);
    settle();
  }

  // Sleeps until notified, a spurious wake, or the deadline. Always unregisters.
  void sleep(std::uint32_t token, const Deadline& deadline) noexcept {
    if (epoch_.load(std::memory_order_acquire) == token) futex_wait(epoch_, token, deadline);
    count_.fetch_sub(1, std::memory_order_relaxed);
    settle();
  }

  // Wakes one sleeper. Every woken sleeper re-checks its condition before it leaves, so
  // one wake per state change is enough (a message, a freed slot).
  void notify_one() noexcept {
    light_fence();
    if (count_.load(std::memory_order_relaxed) == 0) return;  // nobody parked: no syscall
    std::uint32_t w = epoch_.load(std::memory_order_relaxed);
    for (;;) {
      const std::uint32_t next = (w & pending) ? w : (w + one_wake) | pending;
      if (epoch_.compare_exchange_weak(w, next, std::memory_order_acq_rel,
                                       std::memory_order_relaxed)) {
        break;
      }
    }
    if (w & pending) return;  // a wake is on its way; its sleeper answers for this one too
    futex_wake(epoch_, 1);
  }
  // Wakes every sleeper: disconnection, and waits that only their owner can judge.
  void notify_all() noexcept {
    light_fence();
    if (count_.load(std::memory_order_relaxed) == 0) return;
    epoch_.fetch_add(one_wake, std::memory_order_release);
    futex_wake(epoch_, INT_MAX);
  }
  // Called by a sleeper that registered (prepare) and then got what it waited for.
  void pass_on() noexcept {
    if (!plant(Bug::wake_gate_no_relay)) notify_one();
  }

  SpinBudget budget;  // how long this queue's waiters poll before they park

 private:
  // Clears pending (taking over the wake on its way) and returns epoch_ without it.
  std::uint32_t settle() noexcept {
    std::uint32_t w = epoch_.load(std::memory_order_acquire);
    while ((w & pending) != 0 &&
           !epoch_.compare_exchange_weak(w, w & ~pending, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
    }
    return w & ~pending;
  }

  std::atomic<std::uint32_t> epoch_{0};  // wake sequence << 1 | pending (see above)
  std::atomic<std::uint32_t> count_{0};
};

// One cache line per wait queue, holding all of it: a channel's two queues (receivers
// waiting for messages, senders waiting for room) are written by different sides.
static_assert(alignof(EventCount) == cache_line && sizeof(EventCount) == cache_line,
              "an EventCount fills exactly one cache line of its own");

}  // namespace threadbench::detail
