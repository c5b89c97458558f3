// threadbench/detail/deadline.hpp: when a blocked operation gives up. Deadlines are
// steady_clock time points, and the arithmetic that makes them (from a duration, or from a
// time point on any clock) saturates instead of overflowing.
#pragma once

#include <chrono>
#include <type_traits>

namespace threadbench::detail {

// When a blocked operation gives up; never = Deadline::max().
using Deadline = std::chrono::steady_clock::time_point;
inline constexpr Deadline never = Deadline::max();

// now + d, saturating: a zero or negative d is "now" (already expired), and a d too large
// to add to now (hours::max(), a NaN or infinite double) is never. The arithmetic runs in
// long double seconds, which cannot overflow for any standard duration, so a timeout of
// centuries waits instead of wrapping around to a deadline in the past.
template <class Rep, class Period>
Deadline deadline_after(std::chrono::duration<Rep, Period> d) noexcept {
  const auto now = std::chrono::steady_clock::now();
  const std::chrono::duration<long double> want(d);
  if (want.count() <= 0) return now;
  const std::chrono::duration<long double> room(never - now);
  if (!(want < room)) return never;  // also catches NaN
  return now + std::chrono::ceil<std::chrono::steady_clock::duration>(want);
}

// A deadline given on any clock, with any duration type. The time left is computed as the
// difference of the two time_since_epoch values in long double seconds: converting either
// time point to a finer integer duration first (as t - Clock::now() does) overflows for
// time_point::min()/max() or for a coarse duration far away. A deadline already past times
// out at once; steady_clock deadlines keep their exact value when representable.
template <class Clock, class Duration>
Deadline deadline_at(std::chrono::time_point<Clock, Duration> t) noexcept {
  using Seconds = std::chrono::duration<long double>;
  if constexpr (std::is_same_v<Clock, std::chrono::steady_clock> &&
                std::is_same_v<Duration, Deadline::duration>) {
    return t;
  } else {
    const auto now = Clock::now();
    const Seconds left = Seconds(t.time_since_epoch()) - Seconds(now.time_since_epoch());
    return deadline_after(left);
  }
}

inline bool expired(const Deadline& deadline) noexcept {
  return deadline != never && std::chrono::steady_clock::now() >= deadline;
}

}  // namespace threadbench::detail
