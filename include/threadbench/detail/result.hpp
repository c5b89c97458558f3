// threadbench/detail/result.hpp: what a channel operation answers (channel.hpp's API):
// SendResult and RecvResult, and their statuses SendStatus and RecvStatus. A failed send
// gives its value back through its SendResult; a RecvResult holds the message received.
// Only the channel's shared state (detail/shared.hpp) makes them.
#pragma once

#include <memory>
#include <utility>

#include "threadbench/detail/stored.hpp"

namespace threadbench {

enum class SendStatus { ok, full, disconnected };
enum class RecvStatus { ok, empty, timeout, disconnected };

namespace detail {
template <class T>
class Shared;  // detail/shared.hpp
}  // namespace detail

// The outcome of send/try_send. On failure the value comes back: value().
template <class T>
class [[nodiscard]] SendResult {
 public:
  SendStatus status() const noexcept { return status_; }
  bool ok() const noexcept { return status_ == SendStatus::ok; }
  bool full() const noexcept { return status_ == SendStatus::full; }
  bool disconnected() const noexcept { return status_ == SendStatus::disconnected; }
  explicit operator bool() const noexcept { return ok(); }
  // The value that was not sent. Precondition: !ok().
  T& value() & noexcept { return held_.get(); }
  T&& value() && noexcept { return std::move(held_.get()); }

 private:
  friend class detail::Shared<T>;
  SendResult() = default;
  SendResult(SendStatus s, detail::Stored<T>&& v) : status_(s), held_(std::move(v)) {}
  SendStatus status_ = SendStatus::ok;
  detail::Held<T> held_;
};

// The outcome of recv/try_recv/recv_for/recv_until: a message, or why there is none.
template <class T>
class [[nodiscard]] RecvResult {
 public:
  RecvStatus status() const noexcept { return status_; }
  bool ok() const noexcept { return status_ == RecvStatus::ok; }
  bool empty() const noexcept { return status_ == RecvStatus::empty; }
  bool timed_out() const noexcept { return status_ == RecvStatus::timeout; }
  bool disconnected() const noexcept { return status_ == RecvStatus::disconnected; }
  explicit operator bool() const noexcept { return ok(); }
  // The message. Precondition: ok().
  T& value() & noexcept { return held_.get(); }
  T&& value() && noexcept { return std::move(held_.get()); }
  T& operator*() & noexcept { return held_.get(); }
  T* operator->() noexcept { return std::addressof(held_.get()); }

 private:
  friend class detail::Shared<T>;
  explicit RecvResult(RecvStatus s) : status_(s) {}
  explicit RecvResult(detail::Stored<T>&& v) : status_(RecvStatus::ok), held_(std::move(v)) {}
  RecvStatus status_;
  detail::Held<T> held_;
};

}  // namespace threadbench
