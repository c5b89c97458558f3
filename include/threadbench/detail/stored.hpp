// threadbench/detail/stored.hpp: how the channel holds a T (channel.hpp's results and
// buffers): in place when its move cannot throw, boxed on the heap otherwise, so that a
// throwing copy or move can only happen before a value enters the channel.
#pragma once

#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace threadbench::detail {

template <class T>
inline constexpr bool boxed = !std::is_nothrow_move_constructible_v<T>;

// What the buffer stores for a T, and what results hold.
template <class T>
using Stored = std::conditional_t<boxed<T>, std::unique_ptr<T>, T>;

// Makes the Stored form of a value with exactly one copy (lvalue) or one move (rvalue); a
// T whose move constructor is deleted is copied. If that copy or move throws, nothing has
// entered the channel and the caller's object is untouched by us.
template <class T, class U>
Stored<T> store(U&& v) {
  using Arg = std::conditional_t<std::is_constructible_v<T, U&&>, U&&, const T&>;
  if constexpr (boxed<T>) {
    return std::make_unique<T>(static_cast<Arg>(v));
  } else {
    return T(static_cast<Arg>(v));
  }
}

template <class T>
class Held {
 public:
  Held() = default;
  explicit Held(Stored<T>&& s) {
    if constexpr (boxed<T>) {
      v_ = std::move(s);
    } else {
      v_.emplace(std::move(s));
    }
  }
  T& get() noexcept { return *v_; }
  const T& get() const noexcept { return *v_; }

 private:
  std::conditional_t<boxed<T>, std::unique_ptr<T>, std::optional<T>> v_;
};

}  // namespace threadbench::detail
