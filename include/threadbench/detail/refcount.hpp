// threadbench/detail/refcount.hpp: the reference count of a channel's shared state: one
// reference per handle (every Sender and the Receiver); the handle that drops the last one
// destroys the state.
#pragma once

#include <atomic>
#include <cstddef>

#include "threadbench/detail/planted.hpp"

namespace threadbench::detail {

class RefCount {
 public:
  explicit RefCount(std::size_t refs) noexcept : refs_(refs) {}

  // A new handle (a copied Sender): relaxed, since the copy itself holds a reference.
  void add() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }

  // Drops one reference; true when it was the last, and the caller now destroys the
  // state. acq_rel: every handle's use of the state happens before its decrement
  // (release), and the last decrement sees them all (acquire) before the delete.
  [[nodiscard]] bool release() noexcept {
    const auto order = plant(Bug::refcount_release_only) ? std::memory_order_release
                                                             : std::memory_order_acq_rel;
    return refs_.fetch_sub(1, order) == 1;
  }

 private:
  std::atomic<std::size_t> refs_;
};

}  // namespace threadbench::detail
