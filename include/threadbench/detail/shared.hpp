// threadbench/detail/shared.hpp: the state a channel's Sender and Receiver share, and the
// operations channel.hpp's API forwards to: it picks the flavour (list.hpp, ring.hpp,
// zero.hpp) by capacity, counts the handles, blocks in the wait queues, and answers with
// the result types of result.hpp.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "threadbench/detail/cpu.hpp"
#include "threadbench/detail/deadline.hpp"
#include "threadbench/detail/event_count.hpp"
#include "threadbench/detail/flavour.hpp"
#include "threadbench/detail/list.hpp"
#include "threadbench/detail/planted.hpp"
#include "threadbench/detail/refcount.hpp"
#include "threadbench/detail/result.hpp"
#include "threadbench/detail/ring.hpp"
#include "threadbench/detail/stored.hpp"
#include "threadbench/detail/wait.hpp"
#include "threadbench/detail/zero.hpp"

namespace threadbench::detail {

// The state both ends share: one flavour (chosen by the capacity), the handle counts and
// the wait queues. Handles (Senders and the Receiver) count references; the last one to go
// destroys it.
template <class T>
class Shared {
  using S = Stored<T>;
  enum class Kind { list, ring, zero };

 public:
  // cap: 0 = rendezvous, N = bounded, unbounded = nullopt.
  explicit Shared(std::optional<std::size_t> cap)
      : kind_(!cap ? Kind::list : (*cap == 0 ? Kind::zero : Kind::ring)) {
    switch (kind_) {
      case Kind::list: list_.emplace(); break;
      case Kind::ring: ring_.emplace(*cap + (plant(Bug::capacity_off_by_one) ? 1 : 0)); break;
      case Kind::zero: zero_.emplace(); break;
    }
  }

  // ---- handles ----
  void add_sender() noexcept {
    if (!plant(Bug::clone_not_counted)) senders_.fetch_add(1, std::memory_order_relaxed);
    refs_.add();
  }
  static void drop_sender(Shared* s) noexcept {
    if (s->senders_.fetch_sub(1, std::memory_order_seq_cst) == 1) {
      if (s->kind_ == Kind::zero) {
        s->zero_->disconnect_senders();
      } else if (!plant(Bug::no_wake_after_disconnect)) {
        s->recv_ready_.notify_all();
      }
    }
    release(s);
  }
  // Rust's drop(Receiver): later sends fail, blocked senders get their values back, and
  // undelivered messages are destroyed now. In that order, as in Rust: the channel is marked
  // disconnected and blocked senders are woken BEFORE any message is destroyed, so a message
  // whose destructor waits for a sender blocked on this channel (it owns that thread and
  // joins it, or a std::future of it) does not wait forever. A sender woken so finds the
  // mark and returns its value; none can enqueue after the mark, so the drain sees all.
  static void drop_receiver(Shared* s) noexcept {
    switch (s->kind_) {
      case Kind::list:  // senders never block here
        s->list_->disconnect();
        s->list_->discard_all();
        break;
      case Kind::ring:
        s->ring_->disconnect();
        s->space_ready_.notify_all();
        s->ring_->discard_all();
        break;
      case Kind::zero: s->zero_->disconnect_receivers(); break;  // nothing is buffered
    }
    release(s);
  }

  // ---- sending ----
  // value: a const T& (sent as one copy) or a T&& (one move); see store(). The unbounded
  // flavour stores it only after the block allocation its push may need (push_unbounded).
  template <class U>
  SendResult<T> send(U&& value) {
    switch (kind_) {
      case Kind::list: break;
      case Kind::zero: {
        S v = store<T>(std::forward<U>(value));
        const Push p = zero_->send(v);
        return sent(p, std::move(v));
      }
      case Kind::ring: {
        S v = store<T>(std::forward<U>(value));
        Push p = Push::ok;
        auto pushed_or_gone = [&](bool exact) {
          p = ring_->try_push(v, exact ? Probe::exact : Probe::quick);
          return p != Push::full;
        };
        wait_until_ready(space_ready_, never, pushed_or_gone);
        return sent(p, std::move(v));
      }
    }
    return push_unbounded(std::forward<U>(value));
  }

  template <class U>
  SendResult<T> try_send(U&& value) {
    switch (kind_) {
      case Kind::list: break;
      case Kind::ring: {
        S v = store<T>(std::forward<U>(value));
        const Push p = ring_->try_push(v, Probe::exact);
        return sent(p, std::move(v));
      }
      case Kind::zero: {
        S v = store<T>(std::forward<U>(value));
        const Push p = zero_->try_send(v);
        return sent(p, std::move(v));
      }
    }
    return push_unbounded(std::forward<U>(value));
  }

  // ---- receiving ----
  // exact = false may answer empty while a message is only being written (a quick probe).
  RecvResult<T> try_recv(bool exact = true) {
    if (kind_ == Kind::zero) return received(zero_->recv(false, never));
    if (auto v = pop(exact)) return RecvResult<T>(std::move(*v));
    if (senders_.load(std::memory_order_seq_cst) != 0) return RecvResult<T>(RecvStatus::empty);
    // All senders are gone; everything they sent happened before that, so one more
    // look decides between "drained" and a last message.
    if (auto v = pop(true)) return RecvResult<T>(std::move(*v));
    return RecvResult<T>(RecvStatus::disconnected);
  }

  RecvResult<T> recv(const Deadline& deadline) {
    if (kind_ == Kind::zero) return received(zero_->recv(true, deadline));
    // Bounded, word-sized messages: a message is waiting, take it here, without the wait
    // loop's bookkeeping (a quick probe, as the loop's first poll would be; an empty answer
    // goes on to the loop). A send+recv pair went from 179 to 106 instructions at cap 1024
    // (scripts/icount.sh), and the 1024-slot rows of 8-byte messages from 45-63 to 29-45 ns
    // a message on 2 vCPUs (ab.sh 2ac8746 vs 0da893d, 16 processes a side). Only there:
    // with 64-byte messages the same shortcut (8d94551) made spsc cap:1024 1.39x slower (interval
    // 1.08-1.67; 1024-byte ones 0.97x, no change): a consumer that keeps up polls the slot
    // while the producer is still storing a message over more than one word into its lines.
    // Nor for the list: there a consumer that kept up read tail_ on every message (the
    // producer's line, which its next CAS must then win back), and one producer's
    // unbounded rows ran 2.0-2.4x slower with it (measured before list.hpp's peek(), which
    // now spares a polling consumer that read; not measured again since).
    if constexpr (sizeof(S) <= sizeof(void*)) {
      if (kind_ == Kind::ring) {
        if (auto v = pop(false)) return RecvResult<T>(std::move(*v));
      }
    }
    std::optional<RecvResult<T>> out;
    auto got_something = [&](bool exact) {
      RecvResult<T> r = try_recv(exact);
      if (r.empty()) return false;
      out.emplace(std::move(r));
      return true;
    };
    if (!wait_until_ready(recv_ready_, deadline, got_something)) {
      return RecvResult<T>(RecvStatus::timeout);
    }
    return std::move(*out);
  }

 private:
  static void release(Shared* s) noexcept {
    if (s->refs_.release()) delete s;
  }

  // Unbounded send and try_send: a value that cannot be sent comes back, also when the
  // block allocation a send may need throws (std::bad_alloc goes on to the caller, and the
  // caller's object holds its value). The list allocates before it claims a slot, and no
  // user code runs after the claim, where a receiver may already wait for the slot:
  //  * an rvalue of a T held in place (nothrow move) is moved straight into the claimed
  //    slot, so it is untouched until the claim succeeded;
  //  * a copy (an lvalue, or a T without a usable move) is made first: the caller's object
  //    is never touched;
  //  * a boxed rvalue (a T whose move may throw) is moved into its box first; if the
  //    allocation then fails, it is moved back into the caller's object.
  template <class U>
  SendResult<T> push_unbounded(U&& value) {
    constexpr bool moved = std::is_rvalue_reference_v<U&&> && std::is_constructible_v<T, U&&>;
    if constexpr (moved && !boxed<T>) {
      if (list_->try_push([&]() noexcept { return S(std::move(value)); }) == Push::ok) {
        return delivered();
      }
      return SendResult<T>(SendStatus::disconnected, S(std::move(value)));
    } else {
      S v = store<T>(std::forward<U>(value));
      Push p;
      try {
        p = list_->try_push([&]() noexcept { return std::move(v); });
      } catch (...) {  // the block allocation: nothing was claimed, v is whole
        if constexpr (moved) give_back(value, std::move(*v));
        throw;
      }
      if (p == Push::ok) return delivered();
      return SendResult<T>(SendStatus::disconnected, std::move(v));
    }
  }

  // Puts a value that was moved out of `to` back into it (assignment, or destroy and
  // construct for a T that cannot be assigned).
  static void give_back(T& to, T&& from) {
    if constexpr (std::is_move_assignable_v<T>) {
      to = std::move(from);
    } else {
      std::destroy_at(std::addressof(to));
      std::construct_at(std::addressof(to), std::move(from));
    }
  }

  SendResult<T> delivered() {
    if (kind_ != Kind::zero && !plant(Bug::no_wake_after_send)) recv_ready_.notify_one();
    return SendResult<T>();
  }

  SendResult<T> sent(Push p, S&& v) {
    switch (p) {
      case Push::ok: return delivered();
      case Push::full: return SendResult<T>(SendStatus::full, std::move(v));
      case Push::disconnected: break;
    }
    return SendResult<T>(SendStatus::disconnected, std::move(v));
  }

  static RecvResult<T> received(typename Zero<S>::Received&& r) {
    using R = typename Zero<S>::Recv;
    switch (r.status) {
      case R::ok: return RecvResult<T>(std::move(*r.value));
      case R::empty: return RecvResult<T>(RecvStatus::empty);
      case R::timeout: return RecvResult<T>(RecvStatus::timeout);
      case R::disconnected: break;
    }
    return RecvResult<T>(RecvStatus::disconnected);
  }

  std::optional<S> pop(bool exact) {
    if (kind_ == Kind::list) return list_->try_pop(exact ? Probe::exact : Probe::quick);
    auto v = ring_->try_pop(exact ? Probe::exact : Probe::quick);
    if (v && !plant(Bug::no_wake_after_pop)) space_ready_.notify_one();  // a slot came free
    return v;
  }

  const Kind kind_;
  std::optional<List<S>> list_;    // kind_ == list
  std::optional<Ring<S>> ring_;    // kind_ == ring
  std::optional<Zero<S>> zero_;    // kind_ == zero

  // Written only when a handle is copied or dropped: read-mostly on the hot paths.
  alignas(cache_line) RefCount refs_{2};  // 1 Sender + the Receiver
  std::atomic<std::size_t> senders_{1};
  EventCount recv_ready_;   // receivers wait here for a message or disconnection
  EventCount space_ready_;  // bounded: senders wait here for a free slot or disconnection
};

}  // namespace threadbench::detail
