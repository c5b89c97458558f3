// threadbench/detail/zero.hpp: the rendezvous flavour (sync_channel(0)).
//
// How it works. There is no buffer: a message goes straight from a sender to a receiver.
// Whoever arrives first and has to wait puts a Waiter (on its own stack) in a FIFO list, one
// list for blocked senders (each holding its value) and one for blocked receivers; whoever
// arrives second takes the first Waiter of the other list and completes the hand-off:
//   * a sender that finds a waiting receiver moves its value into that receiver's Waiter;
//   * a receiver that finds a waiting sender moves the value out of that sender's Waiter.
// Both lists and the disconnect flags are guarded by one spin lock held for a few dozen
// instructions; the waiting itself happens outside it, on the Waiter's own state word (spin,
// then futex), so a hand-off between two running threads costs one lock round trip and one
// store the other side is polling for.
//
// This gives Rust's rendezvous semantics exactly:
//   * send() returns once a receiver has the value (its Waiter holds it, or it took it out of
//     ours) or gives the value back if the Receiver is dropped first;
//   * try_send() succeeds only when a receiver is blocked in recv() right now, and that very
//     receiver gets this value: it is taken off the list under the lock, so it can neither
//     time out nor take another value in between;
//   * a receiver whose recv_for() times out takes itself off the list under the lock; if a
//     sender took it off first, the value is already on its way and it returns that instead.
// A Waiter lives on the stack of the thread it belongs to, which stays in the call until its
// state says done or disconnected. The thread that completes a hand-off touches the Waiter's
// value only under the lock, before it publishes the new state, and then only the futex word
// (a futex wake on a word whose owner has already left is a harmless spurious wake).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include <sched.h>

#include "threadbench/detail/backoff.hpp"
#include "threadbench/detail/deadline.hpp"
#include "threadbench/detail/flavour.hpp"
#include "threadbench/detail/futex.hpp"
#include "threadbench/detail/planted.hpp"
#include "threadbench/detail/spin.hpp"

namespace threadbench::detail {

template <class S>
class Zero {
 public:
  enum class Recv { ok, empty, timeout, disconnected };
  struct Received {
    Recv status;
    std::optional<S> value;
  };

  // Blocks until a receiver has the value: ok, or disconnected (v left in place for the
  // caller to give back) once the Receiver is gone.
  Push send(S& v) {
    lock_.lock();
    if (receiver_gone_) {
      lock_.unlock();
      return Push::disconnected;
    }
    if (Waiter* r = receivers_.pop()) {
      r->value.emplace(std::move(v));
      lock_.unlock();
      woke_a_sleeper() = r->complete(State::done);
      return Push::ok;
    }
    Waiter me;
    me.value.emplace(std::move(v));
    senders_.push(&me);
    lock_.unlock();
    if (plant(Bug::rendezvous_early_return)) return Push::ok;  // `me` dies still queued
    const State s = me.wait(budget_, never);
    if (s == State::disconnected) {
      // Back into the caller's v (moved-from, so S need not be assignable).
      std::destroy_at(std::addressof(v));
      std::construct_at(std::addressof(v), std::move(*me.value));
      return Push::disconnected;
    }
    return Push::ok;
  }

  // ok only when a receiver blocked in recv() takes this value now; else full (or
  // disconnected), v untouched.
  Push try_send(S& v) {
    lock_.lock();
    if (receiver_gone_) {
      lock_.unlock();
      return Push::disconnected;
    }
    Waiter* r = receivers_.pop();
    if (!r) {
      lock_.unlock();
      return Push::full;
    }
    r->value.emplace(std::move(v));
    lock_.unlock();
    woke_a_sleeper() = r->complete(State::done);
    return Push::ok;
  }

  // Takes a value from a blocked sender; waits (until the deadline) for one when block is
  // set. empty is the non-blocking answer when a sender is still connected.
  Received recv(bool block, const Deadline& deadline) {
    lock_.lock();
    if (Waiter* s = senders_.pop()) {
      Received out{Recv::ok, std::move(s->value)};
      lock_.unlock();
      woke_a_sleeper() = s->complete(State::done);
      return out;
    }
    if (senders_gone_) {
      lock_.unlock();
      return {Recv::disconnected, std::nullopt};
    }
    if (!block) {
      lock_.unlock();
      return {Recv::empty, std::nullopt};
    }
    Waiter me;
    receivers_.push(&me);
    lock_.unlock();
    State s = me.wait(budget_, deadline);
    if (s == State::waiting) {  // the deadline passed: leave, unless a sender chose us
      lock_.lock();
      const bool left = receivers_.remove(&me);
      lock_.unlock();
      if (left) return {Recv::timeout, std::nullopt};
      s = me.wait(budget_, never);  // the sender is finishing the hand-off
    }
    if (s == State::disconnected) return {Recv::disconnected, std::nullopt};
    return {Recv::ok, std::move(me.value)};
  }

  // The last Sender is gone: every blocked receiver returns disconnected.
  void disconnect_senders() noexcept {
    lock_.lock();
    senders_gone_ = true;
    Waiter* all = receivers_.take_all();
    lock_.unlock();
    if (plant(Bug::no_wake_after_disconnect)) return;
    complete_all(all, State::disconnected);
  }

  // The Receiver is gone: every blocked sender gets its value back.
  void disconnect_receivers() noexcept {
    lock_.lock();
    receiver_gone_ = true;
    Waiter* all = senders_.take_all();
    lock_.unlock();
    complete_all(all, plant(Bug::drop_keeps_sender_value) ? State::done : State::disconnected);
  }

 private:
  enum class State : std::uint32_t { waiting, sleeping, done, disconnected };

  struct Waiter {
    std::optional<S> value;        // a sender's offer, or what a receiver was given
    Waiter* next = nullptr;        // the list it is in (under the lock)
    std::atomic<std::uint32_t> state{static_cast<std::uint32_t>(State::waiting)};

    // The other side's last touch of this Waiter: publish the outcome, wake the owner if
    // it went to sleep. True when it had to wake it.
    bool complete(State s) noexcept {
      const auto old = state.exchange(static_cast<std::uint32_t>(s), std::memory_order_acq_rel);
      if (old != static_cast<std::uint32_t>(State::sleeping)) return false;
      futex_wake(state, 1);
      return true;
    }

    // Spin, then sleep, until completed or the deadline; returns the state (waiting: the
    // deadline passed).
    //
    // After this thread had to wake a sleeping partner, its next wait does not park after the
    // usual spin: the answer it waits for comes only once that partner has woken up (tens of
    // microseconds on a VM), and parking now would make the partner pay the same wake-up for
    // us in turn: request/reply between two threads then settles into both sides sleeping on
    // every message (a quarter of rendezvous ping-pong waits parked, p99 ~100 us, on the
    // 2-vCPU development VM). Such a wait keeps yielding for up to partner_wake_time first.
    State wait(SpinBudget& budget, const Deadline& deadline) noexcept {
      SpinPolls polls(budget.polls());
      const bool partner_waking = std::exchange(woke_a_sleeper(), false);
      for (;;) {
        const auto s = static_cast<State>(state.load(std::memory_order_acquire));
        if (s == State::done || s == State::disconnected) {
          budget.ended(polls);
          return s;
        }
        if (!polls.next()) break;
      }
      if (partner_waking) {
        const auto until = std::min(deadline, std::chrono::steady_clock::now() + partner_wake_time);
        while (std::chrono::steady_clock::now() < until) {
          const auto s = static_cast<State>(state.load(std::memory_order_acquire));
          if (s == State::done || s == State::disconnected) return s;
          sched_yield();
        }
      }
      for (;;) {
        auto s = static_cast<std::uint32_t>(State::waiting);
        if (expired(deadline)) {
          // Back to waiting (we may have set sleeping), unless completed meanwhile.
          const auto now = state.load(std::memory_order_acquire);
          if (now == static_cast<std::uint32_t>(State::done) ||
              now == static_cast<std::uint32_t>(State::disconnected)) {
            return static_cast<State>(now);
          }
          return State::waiting;
        }
        if (state.compare_exchange_strong(s, static_cast<std::uint32_t>(State::sleeping),
                                          std::memory_order_acq_rel) ||
            s == static_cast<std::uint32_t>(State::sleeping)) {
          futex_wait(state, static_cast<std::uint32_t>(State::sleeping), deadline);
          continue;
        }
        return static_cast<State>(state.load(std::memory_order_acquire));  // completed
      }
    }
  };

  // A FIFO of Waiters, linked through Waiter::next; used under the lock only.
  class Queue {
   public:
    void push(Waiter* w) noexcept {
      w->next = nullptr;
      (last_ ? last_->next : first_) = w;
      last_ = w;
    }
    Waiter* pop() noexcept {
      Waiter* w = first_;
      if (w) {
        first_ = w->next;
        if (!first_) last_ = nullptr;
      }
      return w;
    }
    bool remove(Waiter* target) noexcept {
      Waiter* prev = nullptr;
      for (Waiter* w = first_; w; prev = w, w = w->next) {
        if (w != target) continue;
        (prev ? prev->next : first_) = w->next;
        if (last_ == w) last_ = prev;
        return true;
      }
      return false;
    }
    Waiter* take_all() noexcept {
      Waiter* all = first_;
      first_ = last_ = nullptr;
      return all;
    }

   private:
    Waiter* first_ = nullptr;
    Waiter* last_ = nullptr;
  };

  static constexpr std::chrono::microseconds partner_wake_time{200};

  // Did this thread's last hand-off have to wake its partner from a futex sleep?
  static bool& woke_a_sleeper() noexcept {
    thread_local bool woke = false;
    return woke;
  }

  static void complete_all(Waiter* w, State s) noexcept {
    while (w) {
      Waiter* next = w->next;  // read before complete(): w may be gone right after
      w->complete(s);
      w = next;
    }
  }

  SpinLock lock_;            // guards everything below except budget_
  Queue senders_;            // blocked senders, oldest first, each holding its value
  Queue receivers_;          // blocked receivers, oldest first
  bool senders_gone_ = false;   // the last Sender was dropped
  bool receiver_gone_ = false;  // the Receiver was dropped
  SpinBudget budget_;        // how long waiters poll their state before they sleep
};

}  // namespace threadbench::detail
