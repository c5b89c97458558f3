// capture_bench.cpp: family `capture`, what it costs to give a new thread (or a TBB task)
// the data it works on, in each of the ways Rust offers: move it in, clone it in, share
// it through an Arc, or borrow it from a scope that outlives the thread.
//
// Times are wall-clock (UseRealTime): the work happens on another thread.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <numeric>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <tbb/task_group.h>

#include "kit.hpp"

namespace {

using Bytes = std::vector<unsigned char>;

// The data handed over, built once per size (untimed) and kept for the whole run, with
// the byte sum every receiver must reproduce (each benchmark's result check).
struct Payload {
  std::shared_ptr<const Bytes> bytes;  // shared_ptr so that mode shared_ptr needs no copy
  std::uint64_t sum = 0;
};

std::uint64_t sum_of(const Bytes& bytes) {
  return std::accumulate(bytes.begin(), bytes.end(), std::uint64_t{0});
}

// Benchmarks run one at a time on the main thread, so the cache needs no lock.
const Payload& payload(std::size_t size) {
  static std::map<std::size_t, Payload> cache;
  auto [it, inserted] = cache.try_emplace(size);
  if (inserted) {
    auto bytes = std::make_shared<Bytes>(size);
    for (std::size_t i = 0; i < size; ++i) (*bytes)[i] = static_cast<unsigned char>(i * 131 + 7);
    it->second.sum = sum_of(*bytes);
    it->second.bytes = std::move(bytes);
  }
  return it->second;
}

// ---- where the closure runs: the two contenders -----------------------------------------

// A fresh std::thread per hand-over, joined before run_and_wait returns.
struct OnThread {
  static constexpr const char* name = "thread";
  template <class F>
  void run_and_wait(F&& f) {
    std::thread(std::forward<F>(f)).join();
  }
};

// A task on TBB's already-running pool: the capture cost without the spawn cost.
struct OnTbbTask {
  static constexpr const char* name = "tbb_task";
  OnTbbTask() {  // start TBB's workers before the timing does
    tasks_.run([] {});
    tasks_.wait();
  }
  template <class F>
  void run_and_wait(F&& f) {
    tasks_.run(std::forward<F>(f));
    tasks_.wait();
  }

 private:
  tbb::task_group tasks_;
};

// ---- how the closure gets the data: the four modes --------------------------------------

// What mode move's closure owns. TBB calls a task's body through a const reference, so
// the vector sits in a mutable member: that is what lets the body move it back out.
struct HandBack {
  mutable Bytes bytes;
};

enum class Mode { move, copy, shared_ptr, scoped_ref };

constexpr const char* name_of(Mode m) {
  switch (m) {
    case Mode::move: return "move";
    case Mode::copy: return "copy";
    case Mode::shared_ptr: return "shared_ptr";
    case Mode::scoped_ref: return "scoped_ref";
  }
  return "?";
}

// capture/<mode>/impl:<thread|tbb_task>/size:<bytes>: one hand-over per iteration of
// `size` bytes to a closure that sums every byte, then the wait for it (join or
// task_group::wait). The time per iteration is spawn (impl:thread only) + capture +
// reading the bytes + dropping the capture. What each mode puts inside the timing:
//  move       the vector's three pointers go into the closure (Rust's `move ||`), and
//             the closure moves the vector back out to the spawner when done (Rust's
//             JoinHandle<Vec<u8>>), so no iteration allocates or frees; the one copy that
//             makes this benchmark's own vector happens once, before the timing.
//  copy       the closure captures by value (Rust's `let v = v.clone(); move ||`): a
//             malloc, a memcpy on the spawning thread, and the free when the closure
//             dies on the other one. Above glibc's mmap threshold (it adapts up to
//             32 MiB) every copy is a fresh mmap whose pages fault in on first touch:
//             expect a cliff at 64 MiB, steep on VMs where a first touch is expensive.
//  shared_ptr the closure holds a shared_ptr copy (Rust's Arc::clone): one atomic
//             increment here, one decrement on the other thread; no byte is copied.
//  scoped_ref the closure captures a reference to the spawner's data, which outlives the
//             join (Rust's thread::scope): the floor, nothing but the spawn and the read.
// Sizes 64 B .. 64 MiB in powers of 4: from under one cache line, through L1/L2/LLC-sized
// payloads, to one far larger than any cache. copy minus scoped_ref is what the copy
// costs; the size where that passes spawn/std_thread is where copying starts to cost
// more than the spawn. impl:tbb_task shows the same without a spawn (the task runs on
// the waiting thread or, when stolen, on a worker: the latter adds cache misses).
// items/s = hand-overs per second, bytes/s = payload bytes handed over per second.
template <Mode M, class Impl>
void bm_capture_handover(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  const Payload& p = payload(size);
  Impl impl;
  Bytes mine;  // mode move: the vector that travels to the thread and back
  if constexpr (M == Mode::move) mine = *p.bytes;
  const unsigned char* const mine_at = mine.data();  // mode move must never copy it
  std::uint64_t got = 0;
  for (auto _ : state) {
    if constexpr (M == Mode::move) {
      impl.run_and_wait([v = HandBack{std::move(mine)}, &got, &mine] {
        got = sum_of(v.bytes);
        mine = std::move(v.bytes);
      });
    } else if constexpr (M == Mode::copy) {
      impl.run_and_wait([v = *p.bytes, &got] { got = sum_of(v); });
    } else if constexpr (M == Mode::shared_ptr) {
      impl.run_and_wait([v = p.bytes, &got] { got = sum_of(*v); });
    } else {
      impl.run_and_wait([&v = *p.bytes, &got] { got = sum_of(v); });
    }
    if (got != p.sum) {
      state.SkipWithError("the closure did not see the payload's bytes");
      return;
    }
    if (mine.data() != mine_at) {
      state.SkipWithError("mode move copied the payload instead of moving it");
      return;
    }
    got = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(size));
}

template <Mode M, class Impl>
void register_capture() {
  bench::add(bench::Name("capture", name_of(M)).key("impl", Impl::name),
             &bm_capture_handover<M, Impl>)
      ->ArgName("size")
      ->RangeMultiplier(4)
      ->Range(64, 64 << 20)
      ->Unit(benchmark::kMicrosecond);
}

template <class Impl>
void register_capture_modes() {
  register_capture<Mode::move, Impl>();
  register_capture<Mode::copy, Impl>();
  register_capture<Mode::shared_ptr, Impl>();
  register_capture<Mode::scoped_ref, Impl>();
}

// ---- refcount contention ----------------------------------------------------------------

// The object behind the refcount, over-aligned so that make_shared's combined block
// (counts, then this) starts on a cache line of its own and fills whole lines: two
// control blocks never share a line, so per_thread measures no false sharing.
struct alignas(64) Padded {
  std::uint64_t value = 42;
};

// The one control block every thread of capture/refcount_shared hammers; never modified,
// only copied from, so threads may read it without synchronisation.
const std::shared_ptr<const Padded> one_block = std::make_shared<const Padded>();

// capture/refcount_shared and capture/refcount_per_thread, threads:T: each of T threads
// copies a shared_ptr and drops the copy, once per iteration: one atomic increment and
// one atomic decrement of a control block's use count (what every Arc::clone + drop of a
// capture costs). shared: all threads use ONE control block, so its cache line bounces
// between cores on every operation; per_thread: each thread has its own, the uncontended
// floor. ns_per_op is the time of one copy+drop as one thread sees it (Google
// Benchmark's own time per iteration is that divided by T). T = 1..16 in powers of two
// goes well past the core count: beyond it threads also share cores, which inflates
// ns_per_op for both variants alike, so compare shared with per_thread at equal T.
// ns_per_op is timed by each thread from just before its loop, so it also contains the
// wait at Google Benchmark's start barrier for the other threads to be created: small
// against the minimum time scripts/bench.sh uses.
// Result check: once every thread has finished (the loop ends at a barrier), every copy
// has been dropped again, so the use count is back where it started.
template <bool Shared>
void bm_capture_refcount(benchmark::State& state) {
  const std::shared_ptr<const Padded> own = Shared ? nullptr : std::make_shared<const Padded>();
  const std::shared_ptr<const Padded>& source = Shared ? one_block : own;
  const long before = source.use_count();
  bench::LoopClock clock;
  clock.start();
  for (auto _ : state) {
    std::shared_ptr<const Padded> copy = source;
    benchmark::DoNotOptimize(copy);
  }
  if (source.use_count() != before) {
    state.SkipWithError("the use count did not return to its starting value");
    return;
  }
  state.SetItemsProcessed(state.iterations());
  // Each thread's own ns per op; Google Benchmark sums the T threads' counters and
  // kAvgThreads divides by T again.
  state.counters["ns_per_op"] = clock.counter(static_cast<double>(state.iterations()),
                                              benchmark::Counter::kAvgThreads);
}

void register_all() {
  register_capture_modes<OnThread>();
  register_capture_modes<OnTbbTask>();
  for (const bool shared : {true, false}) {
    bench::add(bench::Name("capture", shared ? "refcount_shared" : "refcount_per_thread"),
               shared ? &bm_capture_refcount<true> : &bm_capture_refcount<false>)
        ->ThreadRange(1, 16)
        ->Unit(benchmark::kNanosecond);
  }
}

}  // namespace

int main(int argc, char** argv) { return bench::run(argc, argv, register_all); }
