//! The crew of the flow benchmarks (spsc, mpsc, mpmc and the crew floor rows) and its start
//! gate: threads started once that run one role per round, and how a round is timed so that
//! the timed interval is the messages' movement only. The protocol is bench/kit.hpp's
//! bench::Crew (C++), written the same way here and in bench/go/crew.go:
//!
//!  1. Gate: a member back from its role counts itself in (ready) and parks on the gate's
//!     generation word until the generation changes (a futex wait on the word, as in C++;
//!     Go: sync.Cond). It never spins there: a member that finishes early must not take CPU
//!     from those still moving messages, and every release finds every member parked.
//!  2. Release (coordinator = the benchmark thread): untimed, it waits until ready == n,
//!     runs the scenario's between-rounds step and resets the counts; then reads the clock
//!     (t0, Laps::start), bumps the generation with one store and wakes every member with
//!     one futex wake.
//!  3. Done: the last `reporters` members (the consumers) count themselves in (done) the
//!     moment their role returns, right after their last message; the one that completes the
//!     count wakes the coordinator if it parked.
//!  4. Stop: the coordinator waits for done == reporters (SPIN_POLLS polls one CPU pause
//!     apart, YIELD_POLLS yields, then a futex wait) and reads the clock (t1, Laps::stop).
//!     The round's time is t1 - t0. The members' return to the gate and the checks are
//!     outside it.
//!  5. With empty roles the same round is the crew floor (channel/crew/... rows).
//!
//! Clocks: Instant (CLOCK_MONOTONIC) at t0 and t1, nothing else inside the interval (the C++
//! side's ResumeTiming also reads the thread's CPU clock there; its crew rows include that).

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use crate::gbench::{fail, Laps};
use crate::sys;

/// What one member does in a round.
pub type Role = Box<dyn FnMut() + Send>;

/// Polls of the coordinator's wait before it yields, then yields before it parks: about a
/// microsecond or two of spinning (a PAUSE is 10-140 cycles); the C++ and Go crews use the
/// same two numbers.
const SPIN_POLLS: u32 = 64;
const YIELD_POLLS: u32 = 4;

/// A count of members that reached a point (back at the gate; done with the last message)
/// that the coordinator waits on. Value and flag share a cache line: they are touched
/// together.
#[repr(align(64))]
struct Arrivals {
    /// How many have arrived this round; the futex word the coordinator parks on.
    value: AtomicU32,
    /// The coordinator sleeps (or is about to) on value.
    parked: AtomicBool,
}

impl Arrivals {
    fn new() -> Arrivals {
        Arrivals { value: AtomicU32::new(0), parked: AtomicBool::new(false) }
    }

    fn reset(&self) {
        self.value.store(0, Ordering::Relaxed);
    }

    /// A member arrives; the one that makes the count `target` wakes a parked coordinator.
    /// SeqCst here and on `parked` in wait_for: either the coordinator sees the count or
    /// this sees the flag, so no wake-up is lost.
    fn arrive(&self, target: u32) {
        if self.value.fetch_add(1, Ordering::SeqCst) + 1 == target
            && self.parked.load(Ordering::SeqCst)
        {
            futex_wake(&self.value, 1);
        }
    }

    /// The coordinator waits until `target` members have arrived: polls, yields, then parks.
    fn wait_for(&self, target: u32) {
        for _ in 0..SPIN_POLLS {
            if self.value.load(Ordering::Acquire) >= target {
                return;
            }
            std::hint::spin_loop();
        }
        for _ in 0..YIELD_POLLS {
            if self.value.load(Ordering::Acquire) >= target {
                return;
            }
            thread::yield_now();
        }
        self.parked.store(true, Ordering::SeqCst);
        loop {
            let v = self.value.load(Ordering::SeqCst);
            if v >= target {
                break;
            }
            futex_wait(&self.value, v); // returns at once if the count moved since it was read
        }
        self.parked.store(false, Ordering::Relaxed);
    }
}

/// The gate's generation word: +1 releases a round. Alone on its line (every member reads
/// it; only the coordinator writes it).
#[repr(align(64))]
struct Generation(AtomicU32);

struct Shared {
    generation: Generation,
    /// Members parked at the gate.
    ready: Arrivals,
    /// Reporters finished with this round.
    done: Arrivals,
    /// Set before the last release: members leave.
    quit: AtomicBool,
    /// Members.
    n: u32,
    /// The last members, whose return ends a round.
    reporters: u32,
}

pub struct Crew {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl Crew {
    /// One thread per role; the last `reporters` of them (1 <= reporters <= roles) report
    /// done when their role returns, and a round ends when all of those have.
    pub fn new(roles: Vec<Role>, reporters: usize) -> Crew {
        let n = roles.len();
        let shared = Arc::new(Shared {
            generation: Generation(AtomicU32::new(0)),
            ready: Arrivals::new(),
            done: Arrivals::new(),
            quit: AtomicBool::new(false),
            n: n as u32,
            reporters: reporters as u32,
        });
        let threads = roles
            .into_iter()
            .enumerate()
            .map(|(i, mut role)| {
                let shared = shared.clone();
                let reports = i >= n - reporters;
                thread::Builder::new()
                    .spawn(move || {
                        // With THREADBENCH_PIN (--pin), member i (producers first, then
                        // consumers) takes CPU list[i % n] before it first reaches the gate:
                        // a thread's placement is baked into every repetition, and per-thread
                        // pins put a row's threads on the same cores every process.
                        sys::pin_this_thread(i);
                        let s = &*shared;
                        let mut seen = 0u32;
                        loop {
                            s.ready.arrive(s.n);
                            while s.generation.0.load(Ordering::Acquire) == seen {
                                futex_wait(&s.generation.0, seen);
                            }
                            seen = seen.wrapping_add(1);
                            if s.quit.load(Ordering::Relaxed) {
                                return;
                            }
                            role();
                            if reports {
                                s.done.arrive(s.reporters);
                            }
                        }
                    })
                    .unwrap_or_else(|e| fail(&format!("cannot start a thread: {}", e)))
            })
            .collect();
        Crew { shared, threads }
    }

    /// One round: wait (untimed) until every member is parked at the gate, run between()
    /// (the scenario's resets), reset the counts, then timed: release, wait for the last
    /// reporter.
    pub fn round(&self, laps: &mut Laps, between: impl FnOnce()) {
        let s = &*self.shared;
        s.ready.wait_for(s.n);
        between();
        s.ready.reset();
        s.done.reset();
        laps.start();
        self.release();
        s.done.wait_for(s.reporters);
        laps.stop();
    }

    /// Every member is counted in at the gate (parked, or about to): one store, one wake.
    fn release(&self) {
        self.shared.generation.0.fetch_add(1, Ordering::Release);
        futex_wake(&self.shared.generation.0, i32::MAX);
    }
}

impl Drop for Crew {
    fn drop(&mut self) {
        self.shared.ready.wait_for(self.shared.n);
        self.shared.quit.store(true, Ordering::Relaxed); // published by the release
        self.release();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn futex_wait(word: &AtomicU32, seen: u32) {
    // SAFETY: FUTEX_WAIT reads the aligned u32 behind a live AtomicU32, sleeps only while
    // it still equals `seen`, and has no timeout; it writes nothing.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word as *const AtomicU32 as *const u32,
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            seen,
            std::ptr::null::<libc::timespec>(),
        );
    }
}

fn futex_wake(word: &AtomicU32, count: i32) {
    // SAFETY: FUTEX_WAKE only uses the address as a key; it reads and writes no memory.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word as *const AtomicU32 as *const u32,
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            count,
        );
    }
}
