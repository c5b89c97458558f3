// bench/pool_bench.cpp: family `pool` — the same job run by different kinds of pool.
//
// Names: pool/<method>/grain:<ns>/threads:<T>   (+ /real_time, appended by Google Benchmark)
// serial at threads:1, then five pools x 4 grains x the thread axis (bench/thread_axis.hpp;
// scripts/bench.sh says how long a run takes).
//
// The job: M independent tasks, each `grain` ns of calibrated CPU work
// (bench/workload.hpp: a dependent multiply-add chain, no memory traffic, so tasks do
// not slow each other down and any loss is the pool's). grain = 100 ns, 1 us, 10 us,
// 100 us; M per grain (grains: 20000, 4000, 500, 64) makes the serial job 2-6.4 ms, so an
// iteration is 1-10 ms for every pool that is not drowning in overhead (thread_per_task
// is, and runs at most 256 of the M tasks: see its paragraph).
//
// Counters:
//  * items_per_second = tasks per second of wall time (UseRealTime).
//  * efficiency = (M x grain) / (threads x wall time per iteration), with grain the
//    nominal (calibrated) duration: the fraction of T threads' time spent on the work
//    itself. 1.0 = perfect; serial measures the calibration (~1.0 when it holds). With
//    T above the machine's cores the ceiling is cores / T (on 2 cores: 0.5 at T=4, 0.25 at
//    T=8): oversubscription is measured, not excused.
//
// Every task adds 1 and its index+1 into a per-thread, cache-line-sized accumulator; each
// iteration checks count == M and sum == M(M+1)/2 and calls SkipWithError otherwise.
// Threads: T worker threads for thread_per_task (at most T alive) and channel_workers; for
// TBB a tbb::task_arena(T) under tbb::global_control(max_allowed_parallelism, T) (the
// global_control alone cannot raise parallelism above the core count, the arena alone is
// capped by the global worker limit). T = 1, 2, 4, ... up to max(8, 2 x cores)
// (bench/thread_axis.hpp): past the cores, so oversubscription is measured everywhere.
// One untimed warm-up job runs first (creates TBB's workers, wakes the channel pool).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include "kit.hpp"
#include "thread_axis.hpp"
#include "threadbench/channel.hpp"
#include "workload.hpp"

namespace {

using bench::Name;
using bench::Tally;
using bench::workload::Work;

struct Grain {
  std::uint64_t ns;     // nominal work per task
  std::uint64_t tasks;  // M: tasks per iteration
};
constexpr Grain grains[] = {{100, 20000}, {1000, 4000}, {10000, 500}, {100000, 64}};

// The task body every method runs: the work, then the bookkeeping the check needs (task i
// counts as key i + 1, so the keys of a job are 1..M).
inline void run_task(const Work& work, std::uint64_t i, Tally& t) noexcept {
  (void)work(i);
  t.add(i + 1);
}

// Shared driver: warm-up, timed loop, per-iteration check, counters. job(tallies) runs one
// whole job; it may use tallies[0..T) (one per thread) and must leave them filled in.
template <class Job>
void drive(benchmark::State& state, const Grain& g, int threads, Job&& job) {
  std::vector<Tally> tallies(static_cast<std::size_t>(threads));
  auto one_job = [&]() -> bool {
    for (Tally& t : tallies) t = Tally{};
    job(tallies);
    return bench::holds_each_of(bench::total(tallies), g.tasks);
  };
  if (!one_job()) {  // warm-up (untimed)
    state.SkipWithError("pool: tasks lost or run twice (warm-up)");
    return;
  }
  bench::LoopClock clock;
  clock.start();
  for (auto _ : state) {
    if (!one_job()) {
      state.SkipWithError("pool: tasks lost or run twice (count/sum mismatch)");
      break;
    }
  }
  const double wall_ns = clock.elapsed_ns();
  const double iters = static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(g.tasks));
  state.counters["efficiency"] =
      iters * static_cast<double>(g.tasks * g.ns) / (threads * std::max(wall_ns, 1.0));
}

// serial: one thread runs the M tasks in a loop: no pool at all. The reference line; its
// efficiency (~1.0) shows that the calibrated grain holds on this machine right now.
void bm_pool_serial(benchmark::State& state, Grain g) {
  const Work work = Work::of_ns(g.ns);
  drive(state, g, 1, [&](std::vector<Tally>& t) {
    for (std::uint64_t i = 0; i < g.tasks; ++i) run_task(work, i, t[0]);
  });
}

// thread_per_task: a fresh std::thread per task, spawned in batches of T and joined before
// the next batch (so at most T are alive: an unbounded spawn of 20000 threads measures the
// kernel's limits, not the pattern). Creation and join are the point: this is the cost a
// pool exists to remove. A thread costs tens of microseconds or more, so M is capped at
// thread_per_task_max tasks to keep an iteration near the other pools' instead of seconds;
// every counter is per task (tasks/s, efficiency), so the smaller job compares directly.
constexpr std::uint64_t thread_per_task_max = 256;

void bm_pool_thread_per_task(benchmark::State& state, Grain g, int threads) {
  g.tasks = std::min(g.tasks, thread_per_task_max);
  const Work work = Work::of_ns(g.ns);
  std::vector<std::thread> batch;
  batch.reserve(static_cast<std::size_t>(threads));
  drive(state, g, threads, [&](std::vector<Tally>& t) {
    for (std::uint64_t first = 0; first < g.tasks; first += static_cast<std::uint64_t>(threads)) {
      const std::uint64_t n = std::min<std::uint64_t>(static_cast<std::uint64_t>(threads),
                                                      g.tasks - first);
      for (std::uint64_t j = 0; j < n; ++j) {
        batch.emplace_back([&work, &t, first, j] { run_task(work, first + j, t[j]); });
      }
      for (auto& th : batch) th.join();
      batch.clear();
    }
  });
}

// channel_workers: the Rust book's thread pool (ch. 20). T worker threads, started before
// timing, share one Receiver of an unbounded threadbench channel of jobs and send each
// result back through a second channel (one Sender clone per worker). The caller sends M
// jobs, then receives M results. A job is a std::function (Rust: Box<dyn FnOnce>); its two
// captures fit libstdc++'s small buffer, so no allocation per job. Workers stop when the
// job Sender is dropped (disconnection), as in the book. The caller is a (T+1)-th thread,
// mostly blocked in recv; its CPU time is part of the overhead being measured.
//
// Where the overhead goes (issue 19; 2-vCPU AMD EPYC VM, grain 1000 ns, T=2, commit 793d4fb):
// `perf record` of this row puts 54% of all samples in the jobs themselves, 10.5% in the
// workers' result sends (two workers' CASes on one tail line that the caller keeps
// reading), 8.4% in the workers' job receives, and 15% in the caller waiting for results
// (wait_until_ready's polls 7.9%, its try_pop 6.2%, sched_yield 1.2%). Context switches:
// ~1.5 per 1000 tasks (`perf stat`), so the caller does not park between results. The
// caller's polling is not the waste it looks like: built with no spin and no yield (every
// empty recv parks at once), this row fell from 0.88-0.93 M tasks/s to 0.44-0.62 M (three
// runs each), a futex wake per result costing more than the polls. tbb_task_group's caller
// runs tasks itself inside wait(), so its T threads all work; here T workers share the
// cores with a caller that can only wait. What made that cost 2.7x TBB's overhead was
// where Linux put the three threads: in most jobs the caller sat alone on one core,
// polling (0.6-1.0 of a core, never parking: a result came every ~1 us), the two workers
// sharing the other, ~0.8 M tasks/s; in the rest it shared a core with a worker and yielded
// to it, ~1.3 M. A waiter now naps now and then while its process is crowded, which lets
// the scheduler move a worker onto the caller's core (detail/spin.hpp,
// step_off_if_crowded): this row went 1.43x faster (1.38-1.47, 40 alternated processes a
// side, commit 87f0dd0) and its overhead to 1.32x tbb_task_group's
// (results/reference/epyc-2vcpu-goals12-3afac0b).
void bm_pool_channel_workers(benchmark::State& state, Grain g, int threads) {
  const Work work = Work::of_ns(g.ns);
  using Job = std::function<std::uint64_t()>;
  auto job_channel = threadbench::channel<Job>();
  auto result_channel = threadbench::channel<std::uint64_t>();
  std::optional<threadbench::Sender<Job>> jobs(std::move(job_channel.first));
  // Every worker receives through the one Receiver, as the book's workers share theirs;
  // alone on its lines, away from what the caller writes (bench::OwnLines).
  bench::OwnLines<threadbench::Receiver<Job>> job_rx(std::move(job_channel.second));
  threadbench::Receiver<std::uint64_t>& result_rx = result_channel.second;
  std::vector<std::thread> workers;
  for (int w = 0; w < threads; ++w) {
    workers.emplace_back([&rx = *job_rx, tx = result_channel.first]() mutable {
      for (Job& job : rx) {
        if (!tx.send(job())) return;
      }
    });
  }
  drive(state, g, threads, [&](std::vector<Tally>& t) {
    const Work* w = &work;
    for (std::uint64_t i = 0; i < g.tasks; ++i) {
      if (!jobs->send([w, i]() -> std::uint64_t { return ((*w)(i), i + 1); })) return;
    }
    for (std::uint64_t i = 0; i < g.tasks; ++i) {
      auto r = result_rx.recv();
      if (!r) return;
      t[0].add(*r);
    }
  });
  jobs.reset();  // disconnect: every worker's range-for ends
  for (auto& th : workers) th.join();
}

// The TBB methods run inside a task_arena of T slots, the benchmark thread being one.
// tbb::this_task_arena::current_thread_index() < T picks the thread's accumulator.
template <class Body>
void in_tbb(int threads, Body&& body) {
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                            static_cast<std::size_t>(threads));
  tbb::task_arena arena(threads);
  arena.execute(body);
}

inline Tally& my_tally(std::vector<Tally>& t) {
  return t[static_cast<std::size_t>(tbb::this_task_arena::current_thread_index())];
}

// tbb_task_group: M tg.run() calls then tg.wait(): one heap-allocated TBB task per task,
// scheduled by work stealing. The direct counterpart of spawning a thread per task.
void bm_pool_tbb_task_group(benchmark::State& state, Grain g, int threads) {
  const Work work = Work::of_ns(g.ns);
  in_tbb(threads, [&] {
    drive(state, g, threads, [&](std::vector<Tally>& t) {
      tbb::task_group tg;
      for (std::uint64_t i = 0; i < g.tasks; ++i) {
        tg.run([&work, &t, i] { run_task(work, i, my_tally(t)); });
      }
      tg.wait();
    });
  });
}

// tbb_parallel_for: the same M tasks as one parallel_for over [0, M) with the default
// auto_partitioner, which hands out ranges and splits them only when a thread steals: the
// lowest-overhead way to run independent tasks, so the ceiling for this job.
void bm_pool_tbb_parallel_for(benchmark::State& state, Grain g, int threads) {
  const Work work = Work::of_ns(g.ns);
  in_tbb(threads, [&] {
    drive(state, g, threads, [&](std::vector<Tally>& t) {
      tbb::parallel_for(tbb::blocked_range<std::uint64_t>(0, g.tasks),
                        [&](const tbb::blocked_range<std::uint64_t>& r) {
                          Tally& mine = my_tally(t);
                          for (std::uint64_t i = r.begin(); i != r.end(); ++i) {
                            run_task(work, i, mine);
                          }
                        });
    });
  });
}

// tbb_pipeline: TBB's message-passing form, the closest match to channel_workers: a
// serial source emits task indices, a parallel stage does the work, a serial sink
// collects the results (tbb::parallel_pipeline). 4 x T tokens in flight: enough to keep T
// threads busy while the serial stages hand items over.
void bm_pool_tbb_pipeline(benchmark::State& state, Grain g, int threads) {
  const Work work = Work::of_ns(g.ns);
  in_tbb(threads, [&] {
    drive(state, g, threads, [&](std::vector<Tally>& t) {
      std::uint64_t next = 0;
      tbb::parallel_pipeline(
          static_cast<std::size_t>(4 * threads),
          tbb::make_filter<void, std::uint64_t>(tbb::filter_mode::serial_in_order,
                                                [&](tbb::flow_control& fc) -> std::uint64_t {
                                                  if (next == g.tasks) {
                                                    fc.stop();
                                                    return 0;
                                                  }
                                                  return next++;
                                                }) &
              tbb::make_filter<std::uint64_t, std::uint64_t>(
                  tbb::filter_mode::parallel,
                  [&](std::uint64_t i) -> std::uint64_t { return ((void)work(i), i + 1); }) &
              tbb::make_filter<std::uint64_t, void>(tbb::filter_mode::serial_out_of_order,
                                                    [&](std::uint64_t r) { t[0].add(r); }));
    });
  });
}

// Names: pool/<method>/grain:<ns>/threads:<T>.
Name pool_name(const char* method, const Grain& g, int threads) {
  return std::move(Name("pool", method).key("grain", g.ns).key("threads", threads));
}

void register_all() {
  for (const Grain g : grains) {
    bench::add(pool_name("serial", g, 1), [g](benchmark::State& s) { bm_pool_serial(s, g); });
    for (const int t : bench::thread_axis()) {
      bench::add(pool_name("thread_per_task", g, t),
                 [g, t](benchmark::State& s) { bm_pool_thread_per_task(s, g, t); });
      bench::add(pool_name("channel_workers", g, t),
                 [g, t](benchmark::State& s) { bm_pool_channel_workers(s, g, t); });
      bench::add(pool_name("tbb_task_group", g, t),
                 [g, t](benchmark::State& s) { bm_pool_tbb_task_group(s, g, t); });
      bench::add(pool_name("tbb_parallel_for", g, t),
                 [g, t](benchmark::State& s) { bm_pool_tbb_parallel_for(s, g, t); });
      bench::add(pool_name("tbb_pipeline", g, t),
                 [g, t](benchmark::State& s) { bm_pool_tbb_pipeline(s, g, t); });
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  return bench::run(argc, argv, [] {
    bench::workload::calibrate();  // before anything is timed
    benchmark::AddCustomContext("workload_steps_per_ns",
                                std::to_string(bench::workload::steps_per_ns()));
    benchmark::AddCustomContext("workload_fixed_ns", std::to_string(bench::workload::fixed_ns()));
    register_all();
  });
}
