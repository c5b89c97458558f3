//! Calibrated CPU work ("burn about N ns") for the pool benchmarks: the same kernel and
//! the same calibration as bench/workload.hpp, so a grain means the same
//! thing in the C++ and the Rust rows.
//!
//! The kernel is a chain of dependent 64-bit multiply-adds (Knuth's MMIX LCG). Each step
//! depends on the last, and an empty asm statement that "modifies" the value makes it
//! opaque to the optimiser (no closed form, no vectorisation, no hoisting). It touches no
//! memory, so its speed does not depend on caches or other threads. lfence on both ends
//! keeps the out-of-order core from overlapping one task's chain with the next (without
//! it, back-to-back 100 ns tasks run in ~65 ns).
//!
//! Calibration fits cost = fixed + steps / rate from short (32-step) and long (4096-step)
//! calls made back to back, each point the fastest of 7 trials of ~2 ms of the thread's
//! own CPU time (CLOCK_THREAD_CPUTIME_ID: time another process held the core does not
//! count; the fastest trial is the least disturbed one). ~30 ms, once per process.

use std::arch::asm;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

use crate::sys::thread_cpu_ns;

#[inline(always)]
fn fence() {
    // SAFETY: lfence / an empty asm have no operands and no effect on memory safety.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        asm!("lfence", options(nostack, preserves_flags))
    };
    #[cfg(not(target_arch = "x86_64"))]
    unsafe {
        asm!("", options(nostack, preserves_flags))
    };
}

/// n dependent LCG steps from seed; returns the last value. The loop always runs.
#[inline(always)]
pub fn spin(n: u64, seed: u64) -> u64 {
    let mut x = seed;
    fence();
    for _ in 0..n {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        // SAFETY: an empty asm that claims to change x: every step must really run.
        unsafe { asm!("/* {0} */", inout(reg) x, options(nomem, nostack, preserves_flags)) };
    }
    fence();
    x
}

// Thread CPU ns per spin(n) call, from `calls` back-to-back calls (the way tasks run).
fn ns_per_call(n: u64, calls: u64) -> f64 {
    let mut sink = 0u64;
    let t0 = thread_cpu_ns();
    for i in 0..calls {
        sink = sink.wrapping_add(spin(n, i));
    }
    let t1 = thread_cpu_ns();
    // SAFETY: an empty asm that reads sink, so the calls are kept.
    unsafe { asm!("/* {0} */", in(reg) sink, options(nomem, nostack, preserves_flags)) };
    (t1 - t0) / calls as f64
}

static ONCE: Once = Once::new();
static STEPS_PER_NS: AtomicU64 = AtomicU64::new(0);
static FIXED_NS: AtomicU64 = AtomicU64::new(0);

fn measure() -> (f64, f64) {
    const N_SHORT: u64 = 32;
    const N_LONG: u64 = 4096;
    let _ = ns_per_call(N_LONG, 256); // warm-up
    let guess = ns_per_call(N_LONG, 256).max(1.0);
    let calls_long = (2e6 / guess).max(16.0) as u64;
    let calls_short = calls_long * (N_LONG / N_SHORT) / 2;
    let mut t_short = f64::MAX;
    let mut t_long = f64::MAX;
    for _ in 0..7 {
        t_short = t_short.min(ns_per_call(N_SHORT, calls_short));
        t_long = t_long.min(ns_per_call(N_LONG, calls_long));
    }
    let rate = (N_LONG - N_SHORT) as f64 / (t_long - t_short).max(1e-3);
    let fixed = (t_short - N_SHORT as f64 / rate).max(0.0);
    (rate, fixed)
}

/// Runs the calibration now (call before anything is timed); later calls are free.
pub fn calibrate() {
    ONCE.call_once(|| {
        let (rate, fixed) = measure();
        STEPS_PER_NS.store(rate.to_bits(), Ordering::Relaxed);
        FIXED_NS.store(fixed.to_bits(), Ordering::Relaxed);
    });
}

/// Kernel steps per nanosecond on this machine.
pub fn steps_per_ns() -> f64 {
    calibrate();
    f64::from_bits(STEPS_PER_NS.load(Ordering::Relaxed))
}

/// The cost of one call beyond its steps (fences, loop exit), in ns.
pub fn fixed_ns() -> f64 {
    calibrate();
    f64::from_bits(FIXED_NS.load(Ordering::Relaxed))
}

/// A fixed amount of calibrated CPU work: Work::of_ns(g) runs for about g ns.
#[derive(Clone, Copy)]
pub struct Work {
    steps: u64,
}

impl Work {
    pub fn of_ns(ns: u64) -> Work {
        let steps = ((ns as f64 - fixed_ns()) * steps_per_ns()).round().max(0.0);
        Work { steps: steps as u64 }
    }

    #[inline(always)]
    pub fn run(&self, seed: u64) -> u64 {
        spin(self.steps, seed)
    }
}
