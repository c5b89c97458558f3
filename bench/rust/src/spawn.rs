//! Family `spawn`: what a fresh OS thread costs in Rust, and what a rayon task costs
//! instead; the Rust rows of bench/spawn_join_bench.cpp's chart.
//!
//! Every body does one relaxed atomic increment and nothing else: a few nanoseconds
//! against the tens of microseconds a thread costs, and it lets each benchmark prove that
//! every thread it started really ran before it was waited for (a short count ends the
//! program with exit status 1). Times are wall-clock, in microseconds, as in the C++ rows.

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

use crate::gbench::{fail, Bencher, Registry, Unit};

fn bump(ran: &AtomicU64) {
    ran.fetch_add(1, Ordering::Relaxed);
}

// Shared ending: the result check, threads (or tasks) per second as items/s, and
// ns_per_thread where one iteration is one thread (the counter the C++ thread rows have).
fn finish(b: &mut Bencher, ran: u64, per_thread_counter: bool) {
    if ran != b.iters {
        fail(&format!("{} bodies ran for {} spawned (each must run exactly once)", ran, b.iters));
    }
    b.items(b.iters);
    if per_thread_counter {
        let ns = b.real_ns() / b.iters as f64;
        b.counter("ns_per_thread", ns);
    }
}

/// spawn/rust_thread: std::thread::spawn + JoinHandle::join of one thread per iteration,
/// the counterpart of spawn/std_thread: clone(), stack and TLS setup (glibc reuses a
/// cached stack), the new thread's first schedule, its exit, and the join. On top of
/// pthread, Rust allocates the thread's shared state (an Arc holding its name and
/// result slot) and boxes the closure. The counter is a static, so the closure captures
/// nothing (thread::spawn needs 'static: no reference to a local).
fn spawn_thread(b: &mut Bencher) {
    static RAN: AtomicU64 = AtomicU64::new(0);
    let before = RAN.load(Ordering::Relaxed);
    b.time(|iters| {
        for _ in 0..iters {
            match thread::Builder::new().spawn(|| bump(&RAN)) {
                Ok(h) => {
                    if h.join().is_err() {
                        fail("a spawned thread panicked");
                    }
                }
                Err(e) => fail(&format!("thread spawn failed: {}", e)),
            }
        }
    });
    finish(b, RAN.load(Ordering::Relaxed) - before, true);
}

/// spawn/rust_scope: std::thread::scope with one scoped thread per iteration, which may
/// borrow the caller's locals (here the counter): the spawn and join of rust_thread plus
/// the scope's bookkeeping (a shared count of running threads, and the wait for it).
fn spawn_scope(b: &mut Bencher) {
    let ran = AtomicU64::new(0);
    b.time(|iters| {
        for _ in 0..iters {
            thread::scope(|s| {
                s.spawn(|| bump(&ran));
            });
        }
    });
    finish(b, ran.load(Ordering::Relaxed), true);
}

/// spawn/rayon_task: one rayon task per iteration, spawned with rayon::scope +
/// Scope::spawn and waited for at the scope's end: no thread is created (the pool's
/// workers exist already: a warm-up task starts them before the timing). The timed loop
/// runs on one of the pool's threads (ThreadPool::install), as spawn/tbb_task's loop runs
/// in TBB's arena, so this is a task allocation, a push onto the local deque, and usually
/// the waiting thread running the task itself (another worker may steal it). The pool
/// has rayon's default size (one thread per core).
fn spawn_rayon_task(b: &mut Bencher) {
    let pool = rayon::ThreadPoolBuilder::new()
        .build()
        .unwrap_or_else(|e| fail(&format!("cannot build a rayon pool: {}", e)));
    let ran = AtomicU64::new(0);
    pool.install(|| {
        rayon::scope(|s| s.spawn(|_| bump(&ran))); // warm-up
        ran.store(0, Ordering::Relaxed);
        b.time(|iters| {
            for _ in 0..iters {
                rayon::scope(|s| s.spawn(|_| bump(&ran)));
            }
        });
    });
    finish(b, ran.load(Ordering::Relaxed), false);
}

pub fn register(reg: &mut Registry) {
    reg.add("spawn/rust_thread".to_string(), Unit::Us, spawn_thread);
    reg.add("spawn/rust_scope".to_string(), Unit::Us, spawn_scope);
    reg.add("spawn/rayon_task".to_string(), Unit::Us, spawn_rayon_task);
}
