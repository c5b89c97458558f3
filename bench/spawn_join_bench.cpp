// spawn_join_bench.cpp: family `spawn`, what a fresh OS thread costs (Rust's
// thread::spawn + JoinHandle::join), and what the alternatives that avoid one cost.
//
// Every thread body here does one relaxed atomic increment of a counter and nothing else:
// a few nanoseconds against the tens of microseconds a thread costs, and it lets each
// benchmark prove that every thread it started really ran before it was waited for
// (the benchmark's own result check). Times are wall-clock (UseRealTime): the work happens
// on other threads, so the calling thread's CPU time would undercount it.
#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <tbb/task_group.h>

#include "kit.hpp"
#include "threadbench/channel.hpp"

namespace {

using Count = std::atomic<std::uint64_t>;

// The whole thread body: note that it ran.
void bump(Count& ran) noexcept { ran.fetch_add(1, std::memory_order_relaxed); }

// Shared ending of every benchmark: threads/s as items/s, and the result check.
void finish(benchmark::State& state, const Count& ran, std::uint64_t threads_per_iteration) {
  if (state.error_occurred()) return;  // already reported, and the count is short
  const auto expected = static_cast<std::uint64_t>(state.iterations()) * threads_per_iteration;
  if (ran.load(std::memory_order_relaxed) != expected) {
    state.SkipWithError("a thread body did not run exactly once before it was waited for");
    return;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(expected));
}

// ---- the ways to start threads running bump(ran), and to join them all ----------------
// Each keeps its handles in a vector reserved before the timing; start() returns false if
// the thread could not be created, join_all() false if a join failed.

// Raw pthreads, with the given attributes (nullptr: the defaults).
class Pthreads {
 public:
  explicit Pthreads(const pthread_attr_t* attr = nullptr) : attr_(attr) {}
  void reserve(std::size_t n) { handles_.reserve(n); }
  bool start(Count& ran) {
    pthread_t t;
    if (pthread_create(&t, attr_, &body, &ran) != 0) return false;
    handles_.push_back(t);
    return true;
  }
  bool join_all() {
    bool ok = true;
    for (pthread_t t : handles_) ok = pthread_join(t, nullptr) == 0 && ok;
    handles_.clear();
    return ok;
  }

 private:
  static void* body(void* ran) {
    bump(*static_cast<Count*>(ran));
    return nullptr;
  }
  const pthread_attr_t* attr_;
  std::vector<pthread_t> handles_;
};

// std::thread or std::jthread (whose destructor would join too; joined explicitly here so
// both are timed doing the same thing). Creation failure throws, as it would in real code.
template <class Thread>
class StdThreads {
 public:
  void reserve(std::size_t n) { handles_.reserve(n); }
  bool start(Count& ran) {
    handles_.emplace_back([&ran] { bump(ran); });
    return true;
  }
  bool join_all() {
    for (Thread& t : handles_) t.join();
    handles_.clear();
    return true;
  }

 private:
  std::vector<Thread> handles_;
};

// The one scenario behind spawn/pthread, std_thread, jthread, batch and small_stack: each
// iteration starts `n` threads, then joins all of them. ns_per_thread is the time per
// iteration divided by n, items/s is threads/s.
template <class Threads>
void spawn_then_join(benchmark::State& state, Threads threads, std::size_t n) {
  threads.reserve(n);
  Count ran{0};
  bench::LoopClock clock;
  clock.start();
  for (auto _ : state) {
    bool started = true;
    for (std::size_t i = 0; i < n && started; ++i) started = threads.start(ran);
    const bool joined = threads.join_all();
    if (!started || !joined) {
      state.SkipWithError("pthread_create or pthread_join failed");
      break;
    }
  }
  state.counters["ns_per_thread"] = clock.counter(static_cast<double>(state.iterations() * n));
  finish(state, ran, n);
}

// spawn/pthread, spawn/std_thread, spawn/jthread: one thread created and joined per
// iteration, so the time per iteration is the full life of one thread: clone(), stack and
// TLS setup (glibc reuses a cached stack, so no mmap in steady state), the first schedule
// of the new thread, its exit, and the join's futex wake-up. pthread is the OS floor;
// std::thread adds a heap-allocated state object per thread; jthread adds a stop_source
// (one more allocation). Nothing else to choose.
void bm_spawn_pthread(benchmark::State& state) { spawn_then_join(state, Pthreads(), 1); }
void bm_spawn_std_thread(benchmark::State& state) {
  spawn_then_join(state, StdThreads<std::thread>(), 1);
}
void bm_spawn_jthread(benchmark::State& state) {
  spawn_then_join(state, StdThreads<std::jthread>(), 1);
}

// spawn/batch/threads:N: create N std::threads, then join all N; the time per iteration
// is the whole batch, ns_per_thread and items/s (threads/s) are per thread. While the
// spawner is still creating, earlier threads run and exit on the other cores, so the
// per-thread cost can fall below spawn/std_thread; but all N stacks are in use until the
// joins, and glibc caches only 40 MiB of freed stacks (five default 8 MiB stacks), so
// from N = 8 on some threads pay a fresh stack mmap + guard mprotect + munmap each (see
// spawn/small_stack). N = 1..64 in powers of two covers below, at and far above the core
// count of the machines this runs on.
void bm_spawn_batch(benchmark::State& state) {
  spawn_then_join(state, StdThreads<std::thread>(), static_cast<std::size_t>(state.range(0)));
}

// spawn/small_stack/stack:<65536 | default>/threads:<1 | 16>: pthreads with an explicit
// stack size, one at a time and in batches of 16 (as spawn/batch). 65536 is a common
// "small" choice (four times glibc's 16 KiB minimum, ample for a shallow body); default is
// glibc's, RLIMIT_STACK (8 MiB on Debian); the counter stack_bytes reports the size used.
// Stack pages are only touched when used, and glibc reuses freed stacks from a 40 MiB
// cache, so one thread at a time costs the same either way; 16 live threads need 128 MiB
// of default stacks (far past the cache: mmap + mprotect + munmap per thread) but only
// 1 MiB of small ones, which is the stack setup cost this pair shows.
void bm_spawn_small_stack(benchmark::State& state, std::size_t stack_bytes) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  if (stack_bytes != 0 && pthread_attr_setstacksize(&attr, stack_bytes) != 0) {
    state.SkipWithError("pthread_attr_setstacksize refused the size");
  } else {
    spawn_then_join(state, Pthreads(&attr), static_cast<std::size_t>(state.range(0)));
  }
  std::size_t used = 0;
  pthread_attr_getstacksize(&attr, &used);
  pthread_attr_destroy(&attr);
  state.counters["stack_bytes"] = static_cast<double>(used);
}

// spawn/detach: a detached std::thread that signals completion through a counter the
// spawner waits on (a latch that outlives every thread: the counter has static storage
// because a detached thread may still be inside notify after the benchmark has returned).
// Compare with spawn/std_thread: the spawner waits only for the body, not for the
// thread's exit and the join hand-shake, which overlap with the next spawn instead.
Count detached_ran{0};
void bm_spawn_detach(benchmark::State& state) {
  const std::uint64_t start = detached_ran.load(std::memory_order_acquire);
  std::uint64_t seen = start;
  for (auto _ : state) {
    std::thread([] {
      bump(detached_ran);
      detached_ran.notify_one();
    }).detach();
    for (std::uint64_t now; (now = detached_ran.load(std::memory_order_acquire)) == seen;) {
      detached_ran.wait(now, std::memory_order_acquire);
    }
    ++seen;
  }
  const auto expected = static_cast<std::uint64_t>(state.iterations());
  if (detached_ran.load(std::memory_order_acquire) - start != expected) {
    state.SkipWithError("a detached body did not signal exactly once");
    return;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(expected));
}

// spawn/tbb_task: tbb::task_group::run + wait of the same body: no thread is created (TBB's
// workers already exist: one warm-up task before the timing starts them), so this is a
// task allocation, a push onto the local deque, and usually the waiting thread running
// the task itself: what is left to pay when a pool replaces thread::spawn.
void bm_spawn_tbb_task(benchmark::State& state) {
  tbb::task_group tasks;
  Count ran{0};
  tasks.run([&ran] { bump(ran); });
  tasks.wait();
  ran.store(0, std::memory_order_relaxed);
  for (auto _ : state) {
    tasks.run([&ran] { bump(ran); });
    tasks.wait();
  }
  finish(state, ran, 1);
}

// spawn/pool_dispatch: the hand-made pool. One worker thread, created before the timing,
// receives jobs (a sequence number and a std::function, Rust's Box<dyn FnOnce>) on one
// threadbench channel and answers each with its sequence number on a second; an
// iteration is one job there and its reply back: a round trip through two channels. When
// both threads have a core, each hand-off is caught by the receiver's spin (no syscall);
// when the other side had parked (loaded machine), the round trip includes futex wakes.
// The job's one-reference lambda fits std::function's small buffer, so nothing is
// allocated per job. The reply must carry the sequence number just sent (result check).
struct Job {
  std::uint64_t seq;
  std::function<void()> run;
};
void bm_spawn_pool_dispatch(benchmark::State& state) {
  auto [job_tx, job_rx] = threadbench::channel<Job>();
  auto [reply_tx, reply_rx] = threadbench::channel<std::uint64_t>();
  std::thread worker([jobs = std::move(job_rx), replies = std::move(reply_tx)]() mutable {
    for (Job& job : jobs) {
      job.run();
      if (!replies.send(job.seq)) return;
    }
  });
  std::optional<threadbench::Sender<Job>> to_worker(std::move(job_tx));
  // The worker bumps it every job: alone on its lines, away from the handles and the
  // sequence number this thread uses every iteration (bench::OwnLines).
  bench::OwnLines<Count> ran(0);
  std::uint64_t seq = 0;
  // Warm-up, untimed, as ping_pong's: the worker running, the channels' blocks and the
  // caches hot. Its jobs are not counted.
  for (int i = 0; i < 1000; ++i) {
    bool ok = static_cast<bool>(to_worker->send(Job{++seq, [] {}}));
    if (ok) {
      auto reply = reply_rx.recv();
      ok = reply && *reply == seq;
    }
    if (!ok) {
      state.SkipWithError("the warm-up's reply was lost or answered another job");
      break;
    }
  }
  bench::RttRecorder rtt;  // p50_ns / p99_ns / p999_ns of the round trips (see below)
  rtt.start();
  for (auto _ : state) {
    ++seq;
    if (!to_worker->send(Job{seq, [&ran] { bump(*ran); }})) {
      state.SkipWithError("the worker is gone");
      break;
    }
    auto reply = reply_rx.recv();
    if (!reply || *reply != seq) {
      state.SkipWithError("the reply was lost or answered another job");
      break;
    }
    rtt.lap();
  }
  to_worker.reset();  // the last Sender: the worker's loop ends
  worker.join();
  finish(state, *ran, 1);
  // The time per iteration is a mean; p50_ns is the median round trip, read the way
  // channel/ping_pong reads its own, so that the two medians compare. Both the mean and the
  // percentiles include the stamp (one TSC read and one push_back a round; the
  // mean had neither before commit 5f8ed25). The first lap also holds the loop's start.
  rtt.report(state);
}

// ---- registration, in the order the paragraphs above describe them ----------------------
benchmark::internal::Benchmark* add(const char* scenario, void (*fn)(benchmark::State&)) {
  return bench::add(bench::Name("spawn", scenario), fn)->Unit(benchmark::kMicrosecond);
}

void register_all() {
  add("pthread", bm_spawn_pthread);
  add("std_thread", bm_spawn_std_thread);
  add("jthread", bm_spawn_jthread);
  add("batch", bm_spawn_batch)->ArgName("threads")->RangeMultiplier(2)->Range(1, 64);
  for (const std::size_t stack_bytes : {std::size_t{65536}, std::size_t{0}}) {
    // 0: leave pthread's default alone
    const bench::Name name =
        bench::Name("spawn", "small_stack")
            .key("stack", stack_bytes ? std::to_string(stack_bytes) : "default");
    bench::add(name, &bm_spawn_small_stack, stack_bytes)
        ->ArgName("threads")
        ->Arg(1)
        ->Arg(16)
        ->Unit(benchmark::kMicrosecond);
  }
  add("detach", bm_spawn_detach);
  add("tbb_task", bm_spawn_tbb_task);
  add("pool_dispatch", bm_spawn_pool_dispatch);
}

}  // namespace

int main(int argc, char** argv) {
  return bench::run(argc, argv, [] {
    bench::calibrate_ticks();  // the TSC (pool_dispatch's p50_ns), before anything is timed
    register_all();
  });
}
