// examples/my_queue/ring_adapter.hpp: the adapter between my_queue::SpscRing and
// threadbench's contender concept (threadbench/contenders/contender.hpp), written once for
// both example contenders: spsc_ring_adapter.hpp (the correct ring) and racy_adapter.hpp
// (the ring with a planted bug) each give it a name and register it. A queue with a single
// contender would put this class straight into its registered header.
//
// What it claims, and so what threadbench runs on it:
//   * bounded capacities only, n >= 1: the ring has no unbounded mode and no rendezvous, so
//     those benchmarks and stress scenarios are left out for it, not emulated;
//   * one producer and one consumer (the ring's own precondition): only the SPSC scenarios;
//   * FIFO per producer, which the stress harness checks message by message;
//   * try_send / try_recv, the ring's non-blocking operations.
// It has no close(): the ring has no notion of a producer being done.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "threadbench/contenders/contender.hpp"  // bench::Cap (the capacity a contender is built with)

namespace my_queue {

// Ring: SpscRing<T> or a variant of it.
template <class T, class Ring>
class RingAdapter {
 public:
  static constexpr int max_producers = 1;
  static constexpr int max_consumers = 1;
  static constexpr bool fifo_per_producer = true;

  static bool supports(bench::Cap cap) { return cap.has_value() && *cap >= 1; }

  // Precondition: supports(cap).
  explicit RingAdapter(bench::Cap cap) : ring_(bounded(cap)) {}

  void send(T&& v) { ring_.push(std::move(v)); }
  void recv(T& out) { ring_.pop(out); }
  bool try_send(T& v) { return ring_.try_push(v); }
  bool try_recv(T& out) { return ring_.try_pop(out); }

 private:
  static std::size_t bounded(bench::Cap cap) {
    if (!supports(cap)) {
      std::fprintf(stderr, "my_queue::RingAdapter: capacity %s is not supported\n",
                   bench::cap_label(cap).c_str());
      std::abort();
    }
    return *cap;
  }

  Ring ring_;
};

}  // namespace my_queue
