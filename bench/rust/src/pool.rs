//! Family `pool`: the job of bench/pool_bench.cpp run by rayon.
//!
//!   pool/<method>/grain:<ns>/threads:<T>
//!
//! The job: M independent tasks, each `grain` ns of calibrated CPU work (workload.rs, the
//! kernel and calibration of threadbench/workload.hpp); grain = 100 ns, 1 us, 10 us,
//! 100 us with M = 20000, 4000, 500, 64 (a 2-6.4 ms serial job), as in pool_bench.cpp.
//! Threads: a rayon::ThreadPool of T threads per benchmark (built untimed), T over the
//! suite's thread axis. The whole timed loop runs inside the pool (ThreadPool::install,
//! as the C++ TBB rows run inside a task_arena of T slots), so each job starts on a
//! worker and no job crosses from an outside thread; the benchmark's own thread sleeps
//! meanwhile (TBB's is one of its T slots instead). One untimed warm-up job first.
//!
//! Counters, as in pool_bench.cpp:
//!  * items_per_second = tasks per second of wall time.
//!  * efficiency = (M x grain) / (T x wall time per iteration): the fraction of T
//!    threads' time spent on the work itself (1.0 = perfect; above the core count the
//!    ceiling is cores / T).
//!
//! Every task adds 1 and its index + 1 into its thread's cache-line-sized accumulator;
//! each iteration checks count == M and sum == M(M+1)/2 (a lost or repeated task ends
//! the program with exit status 1).

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use crate::gbench::{fail, Bencher, Registry, Unit};
use crate::workload::Work;

#[derive(Clone, Copy)]
struct Grain {
    ns: u64,
    tasks: u64,
}

const GRAINS: [Grain; 4] = [
    Grain { ns: 100, tasks: 20000 },
    Grain { ns: 1000, tasks: 4000 },
    Grain { ns: 10000, tasks: 500 },
    Grain { ns: 100000, tasks: 64 },
];

/// One thread's accumulator, alone on its cache line. Only its own thread writes it (a
/// relaxed load + store, no read-modify-write: plain adds, as in the C++ Tally).
#[repr(align(64))]
#[derive(Default)]
struct Tally {
    count: AtomicU64,
    sum: AtomicU64,
}

impl Tally {
    #[inline]
    fn add(&self, i: u64) {
        self.count.store(self.count.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        self.sum.store(self.sum.load(Ordering::Relaxed) + i + 1, Ordering::Relaxed);
    }
}

/// The accumulator of the pool thread running this code.
#[inline]
fn my_tally(t: &[Tally]) -> &Tally {
    match rayon::current_thread_index() {
        Some(i) if i < t.len() => &t[i],
        _ => fail("a task ran outside the benchmark's pool"),
    }
}

#[inline]
fn run_task(work: Work, i: u64, t: &Tally) {
    let _ = work.run(i);
    t.add(i);
}

/// Shared driver: warm-up, timed loop, per-iteration check, counters. job(tallies) runs
/// one whole job, using tallies[thread index].
fn drive(b: &mut Bencher, g: Grain, threads: usize, job: impl Fn(&[Tally])) {
    let tallies: Vec<Tally> = (0..threads).map(|_| Tally::default()).collect();
    let want_sum = g.tasks * (g.tasks + 1) / 2;
    let one_job = || {
        for t in &tallies {
            t.count.store(0, Ordering::Relaxed);
            t.sum.store(0, Ordering::Relaxed);
        }
        job(&tallies);
        // The job has joined every task (scope end / for_each return): their writes are
        // visible here.
        let count: u64 = tallies.iter().map(|t| t.count.load(Ordering::Relaxed)).sum();
        let sum: u64 = tallies.iter().map(|t| t.sum.load(Ordering::Relaxed)).sum();
        if count != g.tasks || sum != want_sum {
            fail(&format!(
                "tasks lost or run twice: {} tasks with index sum {}, want {} and {}",
                count, sum, g.tasks, want_sum
            ));
        }
    };
    one_job(); // warm-up (untimed)
    b.time(|iters| {
        for _ in 0..iters {
            one_job();
        }
    });
    let iters = b.iters as f64;
    let efficiency = iters * (g.tasks * g.ns) as f64 / (threads as f64 * b.real_ns().max(1.0));
    b.counter("efficiency", efficiency);
    b.items(b.iters * g.tasks);
}

fn in_pool(b: &mut Bencher, threads: usize, body: impl FnOnce(&mut Bencher) + Send) {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap_or_else(|e| {
        fail(&format!("cannot build a rayon pool of {} threads: {}", threads, e))
    });
    pool.install(|| body(b));
}

/// rayon_scope: M Scope::spawn calls inside one rayon::scope, which returns when all
/// have run: one heap-allocated job per task, scheduled by work stealing. The
/// counterpart of tbb_task_group (and of spawning a thread per task).
fn bm_rayon_scope(b: &mut Bencher, g: Grain, threads: usize) {
    let work = Work::of_ns(g.ns);
    in_pool(b, threads, |b| {
        drive(b, g, threads, |t| {
            rayon::scope(|s| {
                for i in 0..g.tasks {
                    s.spawn(move |_| run_task(work, i, my_tally(t)));
                }
            });
        });
    });
}

/// rayon_par_iter: the same M tasks as (0..M).into_par_iter().for_each(..), which splits
/// the range only as threads steal (rayon's adaptive splitting): the lowest-overhead way
/// to run independent tasks. The counterpart of tbb_parallel_for; the accumulator is
/// looked up once per piece of the range (for_each_init), as the C++ does per range.
fn bm_rayon_par_iter(b: &mut Bencher, g: Grain, threads: usize) {
    let work = Work::of_ns(g.ns);
    in_pool(b, threads, |b| {
        drive(b, g, threads, |t| {
            (0..g.tasks)
                .into_par_iter()
                .for_each_init(|| my_tally(t), |mine, i| run_task(work, i, mine));
        });
    });
}

pub fn register(reg: &mut Registry, threads: &[usize]) {
    for g in GRAINS {
        for &t in threads {
            let tail = format!("/grain:{}/threads:{}", g.ns, t);
            reg.add(format!("pool/rayon_scope{}", tail), Unit::Ns, move |b| {
                bm_rayon_scope(b, g, t)
            });
            reg.add(format!("pool/rayon_par_iter{}", tail), Unit::Ns, move |b| {
                bm_rayon_par_iter(b, g, t)
            });
        }
    }
}
