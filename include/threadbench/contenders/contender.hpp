// threadbench/contenders/contender.hpp: the seam between threadbench and a queue, yours or
// one of ours.
//
// A contender is a class template Q<T> (T = the message type) that adapts one queue to this
// shape. channel_bench's scenarios and the contender stress harness are written once against
// it; threadbench/contenders/builtin.hpp holds threadbench's own adapters (the channel, a
// mutex deque, oneTBB, moodycamel), which use nothing a user adapter cannot. An adapter
// includes this header as "threadbench/contenders/contender.hpp" (threadbench's include/
// folder, which the CMake targets threadbench and threadbench_user_contenders put on the
// include path).
//
// Required (the concept Contender below):
//   static constexpr std::string_view name;  // the impl:<name> key of benchmark/stress names
//   static bool supports(Cap cap);            // can it honestly give this capacity?
//   explicit Q(Cap cap);                      // nullopt = unbounded, 0 = rendezvous, n = bound
//   void send(T&& v);                         // blocks while full (rendezvous: until taken)
//   void recv(T& out);                        // blocks until a message arrives
//
// Optional capabilities, found by the traits below; a contender that lacks one is left out
// of the scenarios and checks that need it, never emulated:
//   static constexpr int max_producers = 1;   // threads that may call send at once (default:
//   static constexpr int max_consumers = 1;   //   any number); an SPSC queue says 1 and 1
//   static constexpr bool fifo_per_producer = true;  // messages of one producer arrive in
//                                             // the order sent (the stress harness checks it)
//   bool try_send(T& v);                      // never blocks: false = full, v left as it was
//   bool try_recv(T& out);                    // never blocks: false = empty
//   void close();                             // the producers are done (Rust: drop the last
//                                             // Sender); called once, after every send returned
//   bool recv_or_closed(T& out);              // with close(): blocks until a message (true) or
//                                             // until closed AND drained (false)
//
// Operations may be called from up to max_producers / max_consumers threads at once.
//
// Bringing your own queue: write one header that defines the adapter and ends with
//   THREADBENCH_CONTENDER(MyAdapter)          // MyAdapter is the template's name
// and configure with cmake -DTHREADBENCH_CONTENDERS=/path/to/my_adapter.hpp (a ;-list takes
// several headers, one contender each). It joins channel_bench and the contender stress
// harness (see README, "Benchmark your own queue").
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace bench {

// nullopt = unbounded; 0 = rendezvous; n = at most n buffered messages.
using Cap = std::optional<std::size_t>;

inline std::string cap_label(Cap cap) {
  return cap ? std::to_string(*cap) : std::string("unbounded");
}

template <class Q, class T>
concept Contender = requires(Q& q, T&& v, T& out, Cap cap) {
  { Q::name } -> std::convertible_to<std::string_view>;
  { Q::supports(cap) } -> std::same_as<bool>;
  requires std::constructible_from<Q, Cap>;
  q.send(std::move(v));
  q.recv(out);
};

// ---- optional capabilities --------------------------------------------------------------
template <class Q>
constexpr int max_producers() {
  if constexpr (requires { Q::max_producers; }) {
    return Q::max_producers;
  } else {
    return 1 << 30;
  }
}
template <class Q>
constexpr int max_consumers() {
  if constexpr (requires { Q::max_consumers; }) {
    return Q::max_consumers;
  } else {
    return 1 << 30;
  }
}
template <class Q>
constexpr bool fifo_per_producer() {
  if constexpr (requires { Q::fifo_per_producer; }) {
    return Q::fifo_per_producer;
  } else {
    return false;
  }
}
template <class Q, class T>
concept CanTrySend = requires(Q& q, T& v) {
  { q.try_send(v) } -> std::same_as<bool>;
};
template <class Q, class T>
concept CanTryRecv = requires(Q& q, T& out) {
  { q.try_recv(out) } -> std::same_as<bool>;
};
template <class Q, class T>
concept CanClose = requires(Q& q, T& out) {
  q.close();
  { q.recv_or_closed(out) } -> std::same_as<bool>;
};

// ---- registration of user contenders ----------------------------------------------------
// The build generates one header that, for each file of THREADBENCH_CONTENDERS, defines
// THREADBENCH_CONTENDER_SLOT (0, 1, ...) and includes the file; THREADBENCH_CONTENDER(Q)
// at its end files Q under that slot, and the benches and the stress harness walk the
// slots 0 .. THREADBENCH_CONTENDER_COUNT - 1.
template <int Slot>
struct UserContender;  // defined by THREADBENCH_CONTENDER(...) for each slot in use

}  // namespace bench

#define THREADBENCH_CONTENDER(Template)                                                   \
  template <>                                                                             \
  struct bench::UserContender<THREADBENCH_CONTENDER_SLOT> {                               \
    template <class T>                                                                    \
    using type = Template<T>;                                                             \
    static_assert(::bench::Contender<Template<std::uint64_t>, std::uint64_t>,             \
                  "THREADBENCH_CONTENDER(" #Template "): the adapter lacks part of the "  \
                  "required shape (see threadbench/contenders/contender.hpp)");           \
  }
