//! Family `channel`: what moving a message costs through Rust's channels, with the
//! scenarios, message counts, checks and names of bench/channel_bench.cpp:
//!
//!   channel/<scenario>/impl:<impl>/cap:<0|1|1024|unbounded>/producers:<P>/consumers:<C>/
//!           payload:<8|64|1024|boxed>            (keys that do not apply are left out)
//!
//! Contenders (impl): crossbeam (crossbeam_channel::bounded(n) / unbounded()), flume
//! (flume::bounded(n) / unbounded()), rust_std (std::sync::mpsc::sync_channel(n) /
//! channel()). cap:0 is each crate's rendezvous (bounded(0), sync_channel(0)). std's
//! Receiver has one owner and cannot be cloned, so rust_std has no mpmc rows: a capability
//! it lacks is left out, never emulated. Note that std's mpsc is crossbeam's code since
//! Rust 1.67; the context's rustc says which one a run measured.
//!
//! Each scenario is written once, generic over the Channel trait below (one small adapter
//! per crate) and over the payload. As in idiomatic Rust (and unlike the C++ adapters,
//! which share one queue object by reference), every producer thread owns its own Sender
//! clone and every consumer its own Receiver (a clone, for mpmc).
//!
//! Method, common to the throughput scenarios (the same as channel_bench.cpp):
//!  * Threads are created before timing starts and parked at a start gate (crew.rs, the
//!    protocol of the C++ bench::Crew and the Go crew). Only the messages are timed: the
//!    clock starts when the benchmark thread releases the crew and stops when it sees the
//!    last consumer report, right after that consumer's last message; the crew's return to
//!    the gate and the checks are untimed. What remains of the harness inside the interval
//!    (one wake-up of the parked crew, noticing the last consumer) is measured alone by the
//!    crew rows, channel/crew/impl:rust_thread/producers:P/consumers:C: the same round with
//!    nothing to send.
//!  * Producers send keys 1..N (disjoint ranges per producer), then one end marker each;
//!    consumers keep count and sum. The consumer that takes the last marker sends one
//!    stop message per other consumer (per-producer FIFO order is all this relies on).
//!  * Every iteration checks count == N and sum == N(N+1)/2: a lost or duplicated message
//!    ends the program with exit status 1 and a line that says which benchmark and what
//!    was received (no JSON is written). --fault lose-message proves the check fires.
//!  * items_per_second = messages per second of timed wall time (real_time is the mean
//!    timed interval per iteration: gbench::Bencher::time_laps).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;

use crate::crew::{Crew, Role};
use crate::gbench::{fail, Bencher, Registry, Unit};
use crate::sys;

/// None = unbounded; Some(0) = rendezvous; Some(n) = at most n buffered messages.
pub type Cap = Option<usize>;

fn cap_label(cap: Cap) -> String {
    match cap {
        Some(n) => n.to_string(),
        None => "unbounded".to_string(),
    }
}

// ---- contenders ---------------------------------------------------------------------------

/// A channel crate: its impl:<name> and what it can do.
pub trait Flavor: 'static {
    const NAME: &'static str;
    /// Can several threads receive from one channel (a Receiver that can be cloned)?
    const MULTI_CONSUMER: bool;
}

/// One crate's channel for messages of type T: how to make one, send, receive.
pub trait Channel<T: Send + 'static>: Flavor {
    type Tx: Clone + Send + 'static;
    type Rx: Send + 'static;
    fn pair(cap: Cap) -> (Self::Tx, Self::Rx);
    /// Blocks while the channel is full (rendezvous: until a receiver takes it).
    fn send(tx: &Self::Tx, v: T);
    /// Blocks until a message arrives.
    fn recv(rx: &Self::Rx) -> T;
    /// A second receiving handle on the same channel; None where the crate has none.
    fn another_rx(rx: &Self::Rx) -> Option<Self::Rx>;
}

// Neither can happen while the benchmark holds both ends; if it does, say so and stop.
fn send_failed() -> ! {
    fail("send failed: every receiver is gone")
}
fn recv_failed() -> ! {
    fail("recv failed: every sender is gone")
}

// crossbeam-channel and flume have the same surface (bounded(n) with n = 0 a rendezvous,
// unbounded(), cloneable Receivers, send/recv returning Result): one adapter shape for both.
macro_rules! multi_consumer_crate {
    ($(#[$doc:meta])* $flavor:ident, $name:literal, $krate:ident) => {
        $(#[$doc])*
        pub struct $flavor;
        impl Flavor for $flavor {
            const NAME: &'static str = $name;
            const MULTI_CONSUMER: bool = true;
        }
        impl<T: Send + 'static> Channel<T> for $flavor {
            type Tx = $krate::Sender<T>;
            type Rx = $krate::Receiver<T>;
            fn pair(cap: Cap) -> (Self::Tx, Self::Rx) {
                match cap {
                    Some(n) => $krate::bounded(n),
                    None => $krate::unbounded(),
                }
            }
            #[inline]
            fn send(tx: &Self::Tx, v: T) {
                if tx.send(v).is_err() {
                    send_failed()
                }
            }
            #[inline]
            fn recv(rx: &Self::Rx) -> T {
                rx.recv().unwrap_or_else(|_| recv_failed())
            }
            fn another_rx(rx: &Self::Rx) -> Option<Self::Rx> {
                Some(rx.clone())
            }
        }
    };
}

multi_consumer_crate!(
    /// crossbeam-channel: bounded(n) is an array queue (bounded(0) its zero-capacity
    /// rendezvous flavour), unbounded() a linked list of blocks.
    Crossbeam, "crossbeam", crossbeam_channel
);
multi_consumer_crate!(
    /// flume: one mutex-protected queue plus wait lists of blocked senders and receivers,
    /// for every capacity (bounded(0) is a rendezvous).
    Flume, "flume", flume
);

/// std::sync::mpsc: sync_channel(n) (n = 0: rendezvous) hands out a SyncSender,
/// channel() a Sender, hence the two-way sender below. One Receiver, never cloned.
pub struct StdMpsc;
impl Flavor for StdMpsc {
    const NAME: &'static str = "rust_std";
    const MULTI_CONSUMER: bool = false;
}

pub enum StdTx<T> {
    Unbounded(mpsc::Sender<T>),
    Bounded(mpsc::SyncSender<T>),
}
impl<T> Clone for StdTx<T> {
    fn clone(&self) -> Self {
        match self {
            StdTx::Unbounded(tx) => StdTx::Unbounded(tx.clone()),
            StdTx::Bounded(tx) => StdTx::Bounded(tx.clone()),
        }
    }
}

impl<T: Send + 'static> Channel<T> for StdMpsc {
    type Tx = StdTx<T>;
    type Rx = mpsc::Receiver<T>;
    fn pair(cap: Cap) -> (Self::Tx, Self::Rx) {
        match cap {
            Some(n) => {
                let (tx, rx) = mpsc::sync_channel(n);
                (StdTx::Bounded(tx), rx)
            }
            None => {
                let (tx, rx) = mpsc::channel();
                (StdTx::Unbounded(tx), rx)
            }
        }
    }
    #[inline]
    fn send(tx: &Self::Tx, v: T) {
        let sent = match tx {
            StdTx::Unbounded(tx) => tx.send(v).is_ok(),
            StdTx::Bounded(tx) => tx.send(v).is_ok(),
        };
        if !sent {
            send_failed()
        }
    }
    #[inline]
    fn recv(rx: &Self::Rx) -> T {
        rx.recv().unwrap_or_else(|_| recv_failed())
    }
    fn another_rx(_: &Self::Rx) -> Option<Self::Rx> {
        None
    }
}

/// Runs $body once per contender with the type name $f bound to it: the one list of
/// contenders (adding one = its adapter above + one line here).
macro_rules! for_each_flavor {
    ($f:ident => $body:block) => {{
        {
            type $f = Crossbeam;
            $body
        }
        {
            type $f = Flume;
            $body
        }
        {
            type $f = StdMpsc;
            $body
        }
    }};
}

// ---- payloads -----------------------------------------------------------------------------
// Each payload carries a 64-bit key (what the checks add up). Keys 1..N are data; the two
// largest values are the in-band end-of-stream messages.
const MARKER: u64 = u64::MAX; // "this producer is done"
const STOP: u64 = u64::MAX - 1; // "consumer: leave now"

pub trait Payload: 'static {
    type T: Send + 'static;
    const LABEL: &'static str;
    fn make(k: u64) -> Self::T;
    fn key(v: &Self::T) -> u64;
}

/// payload:8, a machine word: the channel's own cost, nothing else.
pub struct Word;
impl Payload for Word {
    type T = u64;
    const LABEL: &'static str = "8";
    #[inline]
    fn make(k: u64) -> u64 {
        k
    }
    #[inline]
    fn key(v: &u64) -> u64 {
        *v
    }
}

/// A message of 8 + PAD bytes moved by value (payload:64 = Blob<56>, payload:1024 =
/// Blob<1016>); the producer writes every byte of it.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Blob<const PAD: usize> {
    key: u64,
    #[allow(dead_code)] // written by every producer, read by no one: it is the weight
    pad: [u8; PAD],
}

/// payload:64 and payload:1024: a Blob whose padding makes it that many bytes.
pub struct Bytes<const PAD: usize>;
pub type Bytes64 = Bytes<56>;
pub type Bytes1024 = Bytes<1016>;
impl<const PAD: usize> Payload for Bytes<PAD> {
    type T = Blob<PAD>;
    const LABEL: &'static str = if PAD == 56 { "64" } else { "1024" };
    #[inline]
    fn make(k: u64) -> Blob<PAD> {
        Blob { key: k, pad: [(k & 0xff) as u8; PAD] }
    }
    #[inline]
    fn key(v: &Blob<PAD>) -> u64 {
        v.key
    }
}

/// payload:boxed, Box<u64>: one allocation per message in the producer, freed by the
/// consumer (the C++ rows use std::unique_ptr).
pub struct Boxed;
impl Payload for Boxed {
    type T = Box<u64>;
    const LABEL: &'static str = "boxed";
    #[inline]
    fn make(k: u64) -> Box<u64> {
        Box::new(k)
    }
    #[inline]
    fn key(v: &Box<u64>) -> u64 {
        **v
    }
}

/// One consumer's count and key sum, alone on its cache line. Written by the consumer at
/// the end of its role, read by the benchmark thread once the consumer has reported done.
#[repr(align(64))]
#[derive(Default)]
struct Tally {
    count: AtomicU64,
    sum: AtomicU64,
}

// ---- scenarios ----------------------------------------------------------------------------

/// Messages moved by one iteration of spsc/mpsc/mpmc, as in channel_bench.cpp: 2^16
/// divides evenly among 1..8 producers (and any power of two up to 2^16), is 64 laps of
/// a 1024-slot ring (a bounded run really exercises "full"), and at 20-2000 ns a message
/// makes an iteration 1.3-130 ms, long against the crew's own round (the crew rows).
const FLOW_MESSAGES: u64 = 65536;

/// seq: one thread sends SEQ_MESSAGES, then receives them all; no other thread exists.
/// The channel's single-threaded fast path (no contention, no blocking, buffer warm in
/// L1/L2). 1000 messages fit in cap 1024, so the sender never blocks; smaller caps would
/// deadlock and are not registered (as in crossbeam's own benchmarks).
const SEQ_MESSAGES: u64 = 1000;

fn bm_seq<F: Channel<P::T>, P: Payload>(b: &mut Bencher, cap: Cap) {
    let (tx, rx) = F::pair(cap);
    let want = SEQ_MESSAGES * (SEQ_MESSAGES + 1) / 2;
    b.time(|iters| {
        for _ in 0..iters {
            for k in 1..=SEQ_MESSAGES {
                F::send(&tx, P::make(k));
            }
            let mut sum = 0u64;
            for _ in 0..SEQ_MESSAGES {
                sum += P::key(&F::recv(&rx));
            }
            if sum != want {
                fail(&format!("seq: received keys add up to {}, sent ones to {}", sum, want));
            }
        }
    });
    b.items(b.iters * SEQ_MESSAGES);
}

/// spsc / mpsc / mpmc: `producers` producers and `consumers` consumers move
/// FLOW_MESSAGES per iteration (see the method notes at the top of the file).
fn bm_flow<F: Channel<P::T>, P: Payload>(
    b: &mut Bencher,
    cap: Cap,
    producers: usize,
    consumers: usize,
) {
    let per_producer = FLOW_MESSAGES / producers as u64;
    let total = per_producer * producers as u64;
    let want_sum = total * (total + 1) / 2;
    // --fault lose-message: each producer starts one key late (the test of the check).
    let skip = if sys::fault() { 1 } else { 0 };

    let (tx, rx) = F::pair(cap);
    let markers = Arc::new(AtomicUsize::new(0));
    let tallies: Arc<Vec<Tally>> = Arc::new((0..consumers).map(|_| Tally::default()).collect());
    let mut roles: Vec<Role> = vec![];
    for i in 0..producers {
        let tx = tx.clone();
        let first = i as u64 * per_producer + 1;
        roles.push(Box::new(move || {
            for k in first + skip..first + per_producer {
                F::send(&tx, P::make(k));
            }
            F::send(&tx, P::make(MARKER));
        }));
    }
    let mut receivers = vec![];
    for _ in 1..consumers {
        match F::another_rx(&rx) {
            Some(r) => receivers.push(r),
            None => fail("this channel has a single receiver (a bug in the registration)"),
        }
    }
    receivers.insert(0, rx);
    for (c, rx) in receivers.into_iter().enumerate() {
        // The stop messages come from a consumer: it needs a sender when there are others.
        let stop_tx = if consumers > 1 { Some(tx.clone()) } else { None };
        let (markers, tallies) = (markers.clone(), tallies.clone());
        roles.push(Box::new(move || {
            let (mut count, mut sum) = (0u64, 0u64);
            loop {
                let k = P::key(&F::recv(&rx));
                if k == STOP {
                    break;
                }
                if k == MARKER {
                    // Per-producer FIFO: once all markers are taken, every data message
                    // has been taken too, so the other consumers may be told to stop.
                    if markers.fetch_add(1, Ordering::AcqRel) + 1 == producers {
                        if let Some(tx) = &stop_tx {
                            for _ in 1..consumers {
                                F::send(tx, P::make(STOP));
                            }
                        }
                        break;
                    }
                    continue;
                }
                count += 1;
                sum += k;
            }
            tallies[c].count.store(count, Ordering::Relaxed);
            tallies[c].sum.store(sum, Ordering::Relaxed);
        }));
    }
    drop(tx);
    // Roles 0..P-1 produce, P..P+C-1 consume; the consumers' return ends a timed round.
    let crew = Crew::new(roles, consumers);

    let switches_before = sys::context_switches();
    b.time_laps(|iters, laps| {
        for _ in 0..iters {
            // published by the gate's release
            crew.round(laps, || markers.store(0, Ordering::Relaxed));
            // untimed from here: the round's clock stopped at the last consumer's report
            let count: u64 = tallies.iter().map(|t| t.count.load(Ordering::Relaxed)).sum();
            let sum: u64 = tallies.iter().map(|t| t.sum.load(Ordering::Relaxed)).sum();
            if count != total || sum != want_sum {
                fail(&format!(
                    "messages lost or duplicated: received {} messages with key sum {}, \
                     sent {} with key sum {}",
                    count, sum, total, want_sum
                ));
            }
        }
    });
    b.items(b.iters * total);
    // switches_per_1k_msgs, as the C++ flow rows: context switches of the whole process (every
    // thread, voluntary and not: a park, a yield that ran another thread, a preemption) per
    // 1000 messages moved, over all iterations, timed parts and untimed alike. High: the row
    // is bound by sleeping and waking; near the crew's floor ((threads + 2) / 64 per 1000
    // messages): by cache-line traffic.
    let moved = (b.iters * total) as f64;
    if moved > 0.0 {
        let switched = (sys::context_switches() - switches_before) as f64;
        b.counter("switches_per_1k_msgs", 1000.0 * switched / moved);
    }
}

/// crew: the floor under every spsc/mpsc/mpmc row of the same P x C, and of no channel:
/// the flow's round (crew.rs: release the parked crew, wait until the C consumers report)
/// with roles that return at once. real_time is ns per round: the release store and the
/// futex wake of P + C parked threads, their getting a CPU, the last consumer's report and
/// the benchmark thread noticing it (a wake-up of its own when it had parked).
fn bm_crew(b: &mut Bencher, producers: usize, consumers: usize) {
    let roles: Vec<Role> = (0..producers + consumers).map(|_| Box::new(|| {}) as Role).collect();
    let crew = Crew::new(roles, consumers);
    b.time_laps(|iters, laps| {
        for _ in 0..iters {
            crew.round(laps, || {});
        }
    });
}

/// ping_pong: the benchmark thread sends a word on one channel, a responder thread
/// (started before timing) echoes it + 1 on a second, ROUNDS times per iteration.
/// items_per_second is round trips per second; p50_ns / p99_ns / p999_ns are percentiles
/// of the per-round round-trip time (one TSC stamp per round: RTT = difference of
/// consecutive stamps). Latency, not throughput: each message waits for the previous
/// one, so the waiting strategy (spin, yield, park) is what is measured. Each reply is
/// checked (== sent + 1); a wrong one ends the program with exit status 1.
const ROUNDS: u64 = 1000;

fn bm_ping_pong<F: Channel<u64>>(b: &mut Bencher, cap: Cap) {
    let (there_tx, there_rx) = <F as Channel<u64>>::pair(cap);
    let (back_tx, back_rx) = <F as Channel<u64>>::pair(cap);
    let responder = thread::Builder::new()
        .spawn(move || {
            // With THREADBENCH_PIN (--pin) the responder takes the list's first CPU before
            // its first message, as crew member 0 would: its placement is baked into every
            // repetition, so a per-thread pin keeps it on the same core every process.
            sys::pin_this_thread(0);
            loop {
                let v = F::recv(&there_rx);
                if v == STOP {
                    return;
                }
                F::send(&back_tx, v + 1);
            }
        })
        .unwrap_or_else(|e| fail(&format!("cannot start the responder: {}", e)));
    let mut rtt = RttRecorder::new();
    let mut next = 1u64;
    for _ in 0..ROUNDS {
        // warm-up: responder running, caches hot
        F::send(&there_tx, next);
        let _ = F::recv(&back_rx);
        next += 2;
    }
    let ok = b.time(|iters| {
        let mut ok = true;
        for _ in 0..iters {
            rtt.start();
            for _ in 0..ROUNDS {
                F::send(&there_tx, next);
                ok &= F::recv(&back_rx) == next + 1;
                next += 2;
                rtt.lap();
            }
        }
        ok
    });
    F::send(&there_tx, STOP);
    let _ = responder.join();
    if !ok {
        fail("ping_pong: a reply was not request + 1");
    }
    rtt.report(b);
    b.items(b.iters * ROUNDS);
}

/// Per-round round-trip times in ticks; keeps the first 2^21 of a run (more than a 0.1 s
/// repetition produces at >= 50 ns a round) and reports percentiles in ns.
struct RttRecorder {
    samples: Vec<u64>,
    prev: u64,
}

impl RttRecorder {
    const MAX_SAMPLES: usize = 1 << 21;
    fn new() -> RttRecorder {
        RttRecorder { samples: Vec::with_capacity(Self::MAX_SAMPLES), prev: 0 }
    }
    #[inline]
    fn start(&mut self) {
        self.prev = sys::ticks();
    }
    #[inline]
    fn lap(&mut self) {
        let now = sys::ticks();
        if self.samples.len() < Self::MAX_SAMPLES {
            self.samples.push(now.wrapping_sub(self.prev));
        }
        self.prev = now;
    }
    // The q-quantile as channel_bench.cpp takes it: element floor(q x n) in sorted order.
    fn report(&mut self, b: &mut Bencher) {
        if self.samples.is_empty() {
            return;
        }
        let k = sys::ns_per_tick();
        for (name, q) in [("p50_ns", 0.50), ("p99_ns", 0.99), ("p999_ns", 0.999)] {
            let n = self.samples.len();
            let i = ((q * n as f64) as usize).min(n - 1);
            let (_, v, _) = self.samples.select_nth_unstable(i);
            b.counter(name, *v as f64 * k);
        }
    }
}

// ---- registration -------------------------------------------------------------------------

fn flow_name(
    scenario: &str,
    impl_name: &str,
    cap: Cap,
    p: usize,
    c: usize,
    payload: &str,
) -> String {
    format!(
        "channel/{}/impl:{}/cap:{}/producers:{}/consumers:{}/payload:{}",
        scenario,
        impl_name,
        cap_label(cap),
        p,
        c,
        payload
    )
}

fn add_flow<F: Channel<P::T>, P: Payload>(
    reg: &mut Registry,
    scenario: &str,
    cap: Cap,
    p: usize,
    c: usize,
) {
    if scenario == "mpmc" && !F::MULTI_CONSUMER {
        return; // std's single Receiver: no mpmc rows (1 x 1 included: that is spsc)
    }
    let name = flow_name(scenario, F::NAME, cap, p, c, P::LABEL);
    reg.add(name, Unit::Ns, move |b| bm_flow::<F, P>(b, cap, p, c));
}

/// The grid, as channel_bench.cpp registers it: each axis once, not the cross product.
///   cap axis      spsc and ping_pong: 0, 1, 1024, unbounded (payload 8)
///   payload axis  spsc at cap 1024 and unbounded: 8, 64, 1024, boxed
///   thread axis   mpsc (P x 1) and mpmc (P x P) over `threads`, cap 1024 and unbounded
///   crew          channel/crew/impl:rust_thread/producers:P/consumers:C for each P x 1
///                 and P x P above: the flow round with nothing to send (the floor)
pub fn register(reg: &mut Registry, threads: &[usize]) {
    let caps: [Cap; 4] = [Some(0), Some(1), Some(1024), None];
    let buffered: [Cap; 2] = [Some(1024), None];

    // seq at cap 1024 and unbounded, word payload (see bm_seq).
    for_each_flavor!(F => {
        for cap in buffered {
            let name = format!("channel/seq/impl:{}/cap:{}/payload:8", F::NAME, cap_label(cap));
            reg.add(name, Unit::Ns, move |b| bm_seq::<F, Word>(b, cap));
        }
    });

    // spsc, cap axis (payload 8): cap 0 and 1 make every message a hand-off between
    // running threads (wake-up and waiting cost); 1024 and unbounded let the two sides
    // run apart (the steady-state cost of a slot and the cache traffic between cores).
    for_each_flavor!(F => {
        for cap in caps {
            add_flow::<F, Word>(reg, "spsc", cap, 1, 1);
        }
    });

    // spsc, payload axis at cap 1024 and unbounded: 64 B (one cache line), 1 KiB (the
    // copy dominates) and boxed (8 bytes moved, but an allocation and a free per message).
    for_each_flavor!(F => {
        for cap in buffered {
            add_flow::<F, Bytes64>(reg, "spsc", cap, 1, 1);
            add_flow::<F, Bytes1024>(reg, "spsc", cap, 1, 1);
            add_flow::<F, Boxed>(reg, "spsc", cap, 1, 1);
        }
    });

    // mpsc, thread axis: P producers into one consumer. With more threads than cores the
    // consumer must get CPU time among the producers: waiting strategy matters as much as
    // the fast path.
    for_each_flavor!(F => {
        for &p in threads {
            for cap in buffered {
                add_flow::<F, Word>(reg, "mpsc", cap, p, 1);
            }
        }
    });

    // mpmc, thread axis: P producers and P consumers (crossbeam and flume only).
    for_each_flavor!(F => {
        for &p in threads {
            for cap in buffered {
                add_flow::<F, Word>(reg, "mpmc", cap, p, p);
            }
        }
    });

    // crew: one floor row per crew shape the flows above use (1 x 1 is spsc's), named
    // after the threads it runs on (impl:rust_thread): the crew is the same for every crate.
    let mut shapes: Vec<(usize, usize)> = vec![];
    for &p in threads {
        for shape in [(p, 1), (p, p)] {
            if !shapes.contains(&shape) {
                shapes.push(shape);
            }
        }
    }
    shapes.sort();
    for (p, c) in shapes {
        let name = format!("channel/crew/impl:rust_thread/producers:{}/consumers:{}", p, c);
        reg.add(name, Unit::Ns, move |b| bm_crew(b, p, c));
    }

    // ping_pong across the cap axis (see bm_ping_pong).
    for_each_flavor!(F => {
        for cap in caps {
            let name = format!("channel/ping_pong/impl:{}/cap:{}/payload:8", F::NAME, cap_label(cap));
            reg.add(name, Unit::Ns, move |b| bm_ping_pong::<F>(b, cap));
        }
    });
}
