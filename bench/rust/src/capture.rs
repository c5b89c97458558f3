//! Family `capture`: what it costs to give a new thread the bytes it works on, in each of
//! the ways Rust offers; the Rust rows of bench/capture_bench.cpp, with its scenario names
//! so the two land on the same chart:
//!
//!   capture/<mode>/impl:rust_thread/size:<bytes>
//!
//!  move        thread::spawn(move || ..) takes the Vec<u8> (three words move into the
//!              closure), and the thread hands it back through its JoinHandle<Vec<u8>>, so
//!              no iteration allocates, copies or frees; the one copy that makes this
//!              benchmark's own Vec happens before the timing (checked: the Vec's buffer
//!              never changes address). C++: move.
//!  copy        `let v = data.clone(); thread::spawn(move || ..)`: an allocation and a memcpy
//!              on the spawning thread, the free on the other. C++: copy.
//!  shared_ptr  `let a = Arc::clone(&data); thread::spawn(move || ..)`: one atomic increment
//!              here, one decrement on the other thread, no byte copied. Arc is Rust's
//!              shared_ptr, hence the C++ name. C++: shared_ptr.
//!  scoped_ref  thread::scope(|s| s.spawn(|| ..)) borrowing the caller's data, which
//!              outlives the scope: spawn, read, join, and the scope's own bookkeeping.
//!              C++: scoped_ref (a std::thread capturing a reference).
//!
//! Every mode spawns one fresh OS thread that sums every byte, then joins it: the time
//! per iteration is spawn + hand-over + reading the bytes + dropping what was captured.
//! Sizes 64 B .. 64 MiB in powers of 4, as in capture_bench.cpp: from under a cache line
//! to far beyond any cache. Each closure must return the payload's byte sum (computed
//! once, untimed); a wrong sum ends the program with exit status 1. items/s = hand-overs
//! per second, bytes/s = payload bytes handed over per second; times in microseconds.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::thread;

use crate::gbench::{fail, Bencher, Registry, Unit};

fn sum_of(bytes: &[u8]) -> u64 {
    bytes.iter().map(|&b| b as u64).sum()
}

/// Payload bytes (shared, for mode shared_ptr) and their byte sum, by size.
type PayloadCache = HashMap<usize, (Arc<Vec<u8>>, u64)>;

thread_local! {
    // The data handed over, built once per size (untimed) and kept for the whole run,
    // with its byte sum. The benchmarks run one at a time on the main thread.
    static PAYLOADS: RefCell<PayloadCache> = RefCell::new(HashMap::new());
}

fn payload(size: usize) -> (Arc<Vec<u8>>, u64) {
    PAYLOADS.with(|cache| {
        cache
            .borrow_mut()
            .entry(size)
            .or_insert_with(|| {
                let bytes: Vec<u8> = (0..size).map(|i| (i.wrapping_mul(131) + 7) as u8).collect();
                let sum = sum_of(&bytes);
                (Arc::new(bytes), sum)
            })
            .clone()
    })
}

#[derive(Clone, Copy)]
enum Mode {
    Move,
    Copy,
    SharedPtr,
    ScopedRef,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Move => "move",
            Mode::Copy => "copy",
            Mode::SharedPtr => "shared_ptr",
            Mode::ScopedRef => "scoped_ref",
        }
    }
}

fn join<T>(h: thread::JoinHandle<T>) -> T {
    h.join().unwrap_or_else(|_| fail("the capturing thread panicked"))
}

fn spawn<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> thread::JoinHandle<T> {
    thread::Builder::new().spawn(f).unwrap_or_else(|e| fail(&format!("thread spawn failed: {}", e)))
}

fn capture(b: &mut Bencher, mode: Mode, size: usize) {
    let (data, want) = payload(size);
    let mut mine: Vec<u8> = match mode {
        Mode::Move => data.as_ref().clone(), // the one copy, untimed
        _ => Vec::new(),
    };
    let mine_at = mine.as_ptr();
    b.time(|iters| {
        for _ in 0..iters {
            let got = match mode {
                Mode::Move => {
                    let v = std::mem::take(&mut mine);
                    let (got, v) = join(spawn(move || (sum_of(&v), v)));
                    mine = v;
                    got
                }
                Mode::Copy => {
                    let v: Vec<u8> = data.as_ref().clone();
                    join(spawn(move || sum_of(&v)))
                }
                Mode::SharedPtr => {
                    let a = Arc::clone(&data);
                    join(spawn(move || sum_of(&a)))
                }
                Mode::ScopedRef => {
                    let v: &[u8] = &data;
                    thread::scope(|s| {
                        let h = thread::Builder::new()
                            .spawn_scoped(s, || sum_of(v))
                            .unwrap_or_else(|e| fail(&format!("thread spawn failed: {}", e)));
                        h.join().unwrap_or_else(|_| fail("the capturing thread panicked"))
                    })
                }
            };
            if got != want {
                fail(&format!("the thread saw byte sum {}, the payload's is {}", got, want));
            }
            if mine.as_ptr() != mine_at {
                fail("mode move copied the payload instead of moving it");
            }
        }
    });
    b.items(b.iters);
    b.bytes(b.iters * size as u64);
}

pub fn register(reg: &mut Registry) {
    for mode in [Mode::Move, Mode::Copy, Mode::SharedPtr, Mode::ScopedRef] {
        let mut size = 64usize;
        while size <= 64 << 20 {
            let name = format!("capture/{}/impl:rust_thread/size:{}", mode.name(), size);
            reg.add(name, Unit::Us, move |b| capture(b, mode, size));
            size *= 4;
        }
    }
}
