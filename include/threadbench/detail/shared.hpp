// threadbench/detail/shared.hpp: the state a channel's Sender and Receiver share, and the
// operations channel.hpp's API forwards to. Included by channel.hpp after the result types
// it returns (SendResult, RecvResult); not meant to be included on its own.
#pragma once

#include <atomic>
#include <cstddef>
#include <optional>
#include <utility>

#include "threadbench/detail/array.hpp"
#include "threadbench/detail/list.hpp"
#include "threadbench/detail/planted.hpp"
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
  enum class Kind { list, array, zero };

 public:
  // cap: 0 = rendezvous, N = bounded, unbounded = nullopt.
  explicit Shared(std::optional<std::size_t> cap)
      : kind_(!cap ? Kind::list : (*cap == 0 ? Kind::zero : Kind::array)) {
    switch (kind_) {
      case Kind::list: list_.emplace(); break;
      case Kind::array: array_.emplace(*cap + (plant(Bug::capacity_off_by_one) ? 1 : 0)); break;
      case Kind::zero: zero_.emplace(); break;
    }
  }

  // ---- handles ----
  void add_sender() noexcept {
    if (!plant(Bug::clone_not_counted)) senders_.fetch_add(1, std::memory_order_relaxed);
    refs_.fetch_add(1, std::memory_order_relaxed);
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
  // Rust's drop(Receiver): later sends fail, undelivered messages are destroyed now, and
  // blocked senders get their values back.
  static void drop_receiver(Shared* s) noexcept {
    switch (s->kind_) {
      case Kind::list: s->list_->disconnect_and_discard(); break;
      case Kind::array:
        s->array_->disconnect_and_discard();
        s->space_ready_.notify_all();
        break;
      case Kind::zero: s->zero_->disconnect_receivers(); break;
    }
    release(s);
  }

  // ---- sending ----
  SendResult<T> send(S v) {
    Push p = Push::ok;
    switch (kind_) {
      case Kind::list: p = list_->try_push(v); break;
      case Kind::zero: p = zero_->send(v); break;
      case Kind::array: {
        auto pushed_or_gone = [&](bool exact) {
          p = array_->try_push(v, exact ? Probe::exact : Probe::quick);
          return p != Push::full;
        };
        wait_until_ready(space_ready_, never, pushed_or_gone);
        break;
      }
    }
    return sent(p, std::move(v));
  }

  SendResult<T> try_send(S v) {
    Push p = Push::ok;
    switch (kind_) {
      case Kind::list: p = list_->try_push(v); break;
      case Kind::array: p = array_->try_push(v, Probe::exact); break;
      case Kind::zero: p = zero_->try_send(v); break;
    }
    return sent(p, std::move(v));
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
    constexpr auto order = plant(Bug::refcount_release_only) ? std::memory_order_release
                                                             : std::memory_order_acq_rel;
    if (s->refs_.fetch_sub(1, order) == 1) delete s;
  }

  SendResult<T> sent(Push p, S&& v) {
    switch (p) {
      case Push::ok:
        if (kind_ != Kind::zero && !plant(Bug::no_wake_after_send)) recv_ready_.notify_one();
        return SendResult<T>();
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
    auto v = array_->try_pop(exact ? Probe::exact : Probe::quick);
    if (v && !plant(Bug::no_wake_after_pop)) space_ready_.notify_one();  // a slot came free
    return v;
  }

  const Kind kind_;
  std::optional<List<S>> list_;    // kind_ == list
  std::optional<Ring<S>> array_;   // kind_ == array
  std::optional<Zero<S>> zero_;    // kind_ == zero

  // Written only when a handle is copied or dropped: read-mostly on the hot paths.
  alignas(cache_line) std::atomic<std::size_t> refs_{2};  // 1 Sender + the Receiver
  std::atomic<std::size_t> senders_{1};
  EventCount recv_ready_;   // receivers wait here for a message or disconnection
  EventCount space_ready_;  // bounded: senders wait here for a free slot or disconnection
};


}  // namespace threadbench::detail
