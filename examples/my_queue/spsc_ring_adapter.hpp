// examples/my_queue/spsc_ring_adapter.hpp: the one header that puts my_queue::SpscRing
// into threadbench. Configure with
//   cmake -DTHREADBENCH_CONTENDERS=examples/my_queue/spsc_ring_adapter.hpp ...
// and channel_bench gains impl:my_spsc_ring in every scenario the adapter supports, and the
// contender stress harness checks it (exactly once, FIFO per producer), under TSan too.
#pragma once

#include <string_view>

#include "ring_adapter.hpp"
#include "spsc_ring.hpp"

template <class T>
struct MySpscRing : my_queue::RingAdapter<T, my_queue::SpscRing<T>> {
  static constexpr std::string_view name = "my_spsc_ring";
  using my_queue::RingAdapter<T, my_queue::SpscRing<T>>::RingAdapter;
};

THREADBENCH_CONTENDER(MySpscRing);
