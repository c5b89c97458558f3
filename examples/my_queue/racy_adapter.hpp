// examples/my_queue/racy_adapter.hpp: the same ring with a planted bug, to show the
// contender stress harness failing. The producer publishes a written slot with a relaxed
// store of its tail instead of a release store, so nothing orders the write of the message
// before the consumer's read of it. On x86 the hardware keeps the stores in order and the
// ring seems to work; ThreadSanitizer reports the data race on the slot. The CI test built
// from this header passes only when the harness FAILS on it with that report.
#pragma once

#include <atomic>
#include <string_view>

#include "ring_adapter.hpp"
#include "spsc_ring.hpp"

template <class T>
struct MyRacyRing : my_queue::RingAdapter<T, my_queue::SpscRing<T, std::memory_order_relaxed>> {
  static constexpr std::string_view name = "my_racy_ring";
  using my_queue::RingAdapter<T, my_queue::SpscRing<T, std::memory_order_relaxed>>::RingAdapter;
};

THREADBENCH_CONTENDER(MyRacyRing);
