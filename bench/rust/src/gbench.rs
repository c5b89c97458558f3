//! The one place that knows Google Benchmark's rules: how long a benchmark runs
//! (--benchmark_min_time, --benchmark_repetitions), what one repetition reports, the
//! mean/median/stddev/cv aggregates, and the JSON shape (context + benchmarks) that
//! scripts/ reads for the C++ binaries. Benchmarks only register a name, a time unit and
//! a function; they never see the JSON.
//!
//! Timing follows Google Benchmark 1.7 (Debian 12's libbenchmark): a benchmark function
//! is called with an iteration count, sets up untimed, and times exactly one loop of that
//! many iterations through Bencher::time. The first repetition starts at 1 iteration and
//! grows the count (x min_time x 1.4 / elapsed, at most x10 while a run is under 10% of
//! min_time) until one run lasts min_time of wall time; that run is the repetition, and
//! every later repetition reuses its count. All times are wall-clock (Google Benchmark's
//! UseRealTime, hence the /real_time every name ends with): the work runs on other threads.
//! A benchmark that times only part of each iteration (the channel flows: Bencher::time_laps)
//! reports the sum of its timed intervals, as Google Benchmark does for a loop with
//! PauseTiming/ResumeTiming: that sum is the real_time, the rates and the min_time test.

use std::sync::Mutex;
use std::time::Instant;

use crate::json::Json;
use crate::sys;

/// Google Benchmark's kMaxIterations.
const MAX_ITERATIONS: u64 = 1_000_000_000;

#[derive(Clone, Copy)]
pub enum Unit {
    Ns,
    Us,
}

impl Unit {
    fn ns(self) -> f64 {
        match self {
            Unit::Ns => 1.0,
            Unit::Us => 1e3,
        }
    }
    fn label(self) -> &'static str {
        match self {
            Unit::Ns => "ns",
            Unit::Us => "us",
        }
    }
}

/// What a benchmark function gets: the iteration count to run, and where to put what it
/// measured.
pub struct Bencher {
    /// How many iterations the one timed loop must run.
    pub iters: u64,
    real_ns: Option<f64>,
    cpu_ns: f64,
    items: Option<u64>,
    bytes: Option<u64>,
    counters: Vec<(String, f64)>,
}

impl Bencher {
    fn new(iters: u64) -> Bencher {
        Bencher { iters, real_ns: None, cpu_ns: 0.0, items: None, bytes: None, counters: vec![] }
    }

    /// Times body(iters): wall clock, and the calling thread's CPU time (cpu_time, as
    /// Google Benchmark reports it: the benchmark thread only). Call it exactly once.
    pub fn time<R>(&mut self, body: impl FnOnce(u64) -> R) -> R {
        let c0 = sys::thread_cpu_ns();
        let t0 = Instant::now();
        let r = body(self.iters);
        let wall = t0.elapsed();
        let c1 = sys::thread_cpu_ns();
        self.real_ns = Some(wall.as_nanos() as f64);
        self.cpu_ns = c1 - c0;
        r
    }

    /// Times only the intervals body marks with Laps::start / Laps::stop inside the loop
    /// of iters iterations (Google Benchmark's ResumeTiming / PauseTiming; Laps reads
    /// Instant, the monotonic clock, and nothing else). real_time is their sum; cpu_time is
    /// the calling thread's CPU time over the whole loop, untimed parts included (Google
    /// Benchmark leaves those out; no script reads cpu_time). Call it, or time, exactly once.
    pub fn time_laps<R>(&mut self, body: impl FnOnce(u64, &mut Laps) -> R) -> R {
        let mut laps = Laps { total_ns: 0.0, t0: None };
        let c0 = sys::thread_cpu_ns();
        let r = body(self.iters, &mut laps);
        let c1 = sys::thread_cpu_ns();
        if laps.t0.is_some() {
            fail("Laps::start without Laps::stop (a bug in the benchmark)");
        }
        self.real_ns = Some(laps.total_ns);
        self.cpu_ns = c1 - c0;
        r
    }

    /// Wall-clock ns of the timed loop (after time()).
    pub fn real_ns(&self) -> f64 {
        self.real_ns.unwrap_or(0.0)
    }

    /// Items processed by the whole timed loop: reported as items_per_second of wall time.
    pub fn items(&mut self, n: u64) {
        self.items = Some(n);
    }

    /// Bytes processed by the whole timed loop: reported as bytes_per_second of wall time.
    pub fn bytes(&mut self, n: u64) {
        self.bytes = Some(n);
    }

    /// A user counter, reported as it is (like a plain benchmark::Counter).
    pub fn counter(&mut self, name: &str, value: f64) {
        self.counters.push((name.to_string(), value));
    }
}

/// The timed intervals of one Bencher::time_laps loop: start() reads the clock where an
/// interval begins, stop() where it ends, and adds it to the total.
pub struct Laps {
    total_ns: f64,
    t0: Option<Instant>,
}

impl Laps {
    #[inline]
    pub fn start(&mut self) {
        self.t0 = Some(Instant::now());
    }
    #[inline]
    pub fn stop(&mut self) {
        let now = Instant::now();
        match self.t0.take() {
            Some(t0) => self.total_ns += now.duration_since(t0).as_nanos() as f64,
            None => fail("Laps::stop without Laps::start (a bug in the benchmark)"),
        }
    }
}

pub type BenchFn = Box<dyn Fn(&mut Bencher)>;

struct Registered {
    name: String,
    unit: Unit,
    run: BenchFn,
}

/// The benchmarks of this program, in registration order (the order they run in).
#[derive(Default)]
pub struct Registry {
    benches: Vec<Registered>,
}

impl Registry {
    /// Registers `name` (family/scenario/key:value/...; "/real_time" is appended, as
    /// Google Benchmark does for UseRealTime).
    pub fn add(&mut self, name: String, unit: Unit, run: impl Fn(&mut Bencher) + 'static) {
        self.benches.push(Registered {
            name: format!("{}/real_time", name),
            unit,
            run: Box::new(run),
        });
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.benches.iter().map(|b| b.name.as_str())
    }

    pub fn len(&self) -> usize {
        self.benches.len()
    }

    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.benches.retain(|b| keep(&b.name));
    }
}

// ---- failing ----------------------------------------------------------------------------

static CURRENT: Mutex<String> = Mutex::new(String::new());

/// A benchmark's result check failed (or its machinery broke): one line naming the
/// benchmark on stderr, exit status 1, no JSON written.
pub fn fail(message: &str) -> ! {
    let name = CURRENT.lock().map(|n| n.clone()).unwrap_or_default();
    eprintln!("[rust_bench] error: {}: {}", if name.is_empty() { "?" } else { &name }, message);
    std::process::exit(1);
}

/// The benchmark now running, for fail() and the panic hook.
pub fn current() -> String {
    CURRENT.lock().map(|n| n.clone()).unwrap_or_default()
}

// ---- running ----------------------------------------------------------------------------

pub struct Settings {
    pub min_time_s: f64,
    pub repetitions: u32,
}

/// One repetition: the run that lasted min_time.
struct Sample {
    iters: u64,
    real_ns: f64, // whole loop
    cpu_ns: f64,
    counters: Vec<(String, f64)>, // sorted by name, rates included
}

fn run_once(b: &Registered, iters: u64) -> Sample {
    let mut bencher = Bencher::new(iters);
    (b.run)(&mut bencher);
    let real_ns = match bencher.real_ns {
        Some(ns) => ns.max(1.0),
        None => fail("the benchmark never called Bencher::time (a bug in the benchmark)"),
    };
    let mut counters = bencher.counters;
    let seconds = real_ns / 1e9;
    if let Some(n) = bencher.items {
        counters.push(("items_per_second".to_string(), n as f64 / seconds));
    }
    if let Some(n) = bencher.bytes {
        counters.push(("bytes_per_second".to_string(), n as f64 / seconds));
    }
    counters.sort_by(|a, b| a.0.cmp(&b.0)); // Google Benchmark keeps counters in a std::map
    Sample { iters, real_ns, cpu_ns: bencher.cpu_ns, counters }
}

// Google Benchmark's PredictNumItersNeeded.
fn next_iters(last: &Sample, min_time_s: f64) -> u64 {
    let seconds = last.real_ns / 1e9;
    let mut multiplier = min_time_s * 1.4 / seconds.max(1e-9);
    if seconds / min_time_s <= 0.1 {
        multiplier = 10.0;
    }
    let grown = (multiplier * last.iters as f64).max(last.iters as f64 + 1.0).round();
    (grown as u64).min(MAX_ITERATIONS)
}

fn run_repetitions(b: &Registered, s: &Settings) -> Vec<Sample> {
    let mut samples = vec![];
    let mut iters = 1;
    loop {
        let sample = run_once(b, iters);
        let enough = sample.real_ns / 1e9 >= s.min_time_s || sample.iters >= MAX_ITERATIONS;
        if enough {
            iters = sample.iters;
            samples.push(sample);
            break;
        }
        iters = next_iters(&sample, s.min_time_s);
    }
    for _ in 1..s.repetitions {
        samples.push(run_once(b, iters));
    }
    samples
}

// ---- the report -------------------------------------------------------------------------

fn entry_head(
    name: &str,
    run_name: &str,
    index: usize,
    run_type: &str,
    reps: u32,
) -> Vec<(String, Json)> {
    vec![
        ("name".into(), Json::str(name)),
        ("family_index".into(), Json::Int(index as i64)),
        ("per_family_instance_index".into(), Json::Int(0)),
        ("run_name".into(), Json::str(run_name)),
        ("run_type".into(), Json::str(run_type)),
        ("repetitions".into(), Json::Int(reps as i64)),
    ]
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

// Sample standard deviation (n - 1), as Google Benchmark's StatisticsStdDev.
fn stddev(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    let m = mean(xs);
    (xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
}

fn cv(xs: &[f64]) -> f64 {
    let m = mean(xs);
    if m == 0.0 {
        0.0
    } else {
        stddev(xs) / m
    }
}

/// The entries of one benchmark: one "iteration" row per repetition, then (with more
/// than one repetition) the mean, median, stddev and cv aggregates over them, of the
/// times and of every counter.
fn entries(b: &Registered, index: usize, samples: &[Sample]) -> Vec<Json> {
    let reps = samples.len() as u32;
    let unit = b.unit;
    let per_iter = |s: &Sample, ns: f64| ns / s.iters as f64 / unit.ns();
    let mut out = vec![];
    for (i, s) in samples.iter().enumerate() {
        let mut e = entry_head(&b.name, &b.name, index, "iteration", reps);
        e.push(("repetition_index".into(), Json::Int(i as i64)));
        e.push(("threads".into(), Json::Int(1)));
        e.push(("iterations".into(), Json::Int(s.iters as i64)));
        e.push(("real_time".into(), Json::Num(per_iter(s, s.real_ns))));
        e.push(("cpu_time".into(), Json::Num(per_iter(s, s.cpu_ns))));
        e.push(("time_unit".into(), Json::str(unit.label())));
        for (k, v) in &s.counters {
            e.push((k.clone(), Json::Num(*v)));
        }
        out.push(Json::Obj(e));
    }
    if reps < 2 {
        return out;
    }
    let real: Vec<f64> = samples.iter().map(|s| per_iter(s, s.real_ns)).collect();
    let cpu: Vec<f64> = samples.iter().map(|s| per_iter(s, s.cpu_ns)).collect();
    let names: Vec<String> = samples[0].counters.iter().map(|(k, _)| k.clone()).collect();
    type Statistic = fn(&[f64]) -> f64;
    let stats: [(&str, &str, Statistic); 4] = [
        ("mean", "time", mean),
        ("median", "time", median),
        ("stddev", "time", stddev),
        ("cv", "percentage", cv),
    ];
    for (agg, agg_unit, f) in stats {
        let mut e = entry_head(&format!("{}_{}", b.name, agg), &b.name, index, "aggregate", reps);
        e.push(("threads".into(), Json::Int(1)));
        e.push(("aggregate_name".into(), Json::str(agg)));
        e.push(("aggregate_unit".into(), Json::str(agg_unit)));
        e.push(("iterations".into(), Json::Int(reps as i64)));
        e.push(("real_time".into(), Json::Num(f(&real))));
        e.push(("cpu_time".into(), Json::Num(f(&cpu))));
        e.push(("time_unit".into(), Json::str(unit.label())));
        for name in &names {
            let xs: Vec<f64> = samples
                .iter()
                .filter_map(|s| s.counters.iter().find(|(k, _)| k == name).map(|(_, v)| *v))
                .collect();
            e.push((name.clone(), Json::Num(f(&xs))));
        }
        out.push(Json::Obj(e));
    }
    out
}

// One console line per benchmark, after its repetitions: median time per iteration and
// the median of each counter (what the JSON's median aggregate says).
fn progress_line(position: usize, total: usize, b: &Registered, samples: &[Sample]) -> String {
    let real: Vec<f64> = samples.iter().map(|s| s.real_ns / s.iters as f64).collect();
    let mut line = format!(
        "[rust_bench] [{}/{}] {}  {} per iteration",
        position,
        total,
        b.name,
        fmt_ns(median(&real))
    );
    for (name, _) in &samples[0].counters {
        let xs: Vec<f64> = samples
            .iter()
            .filter_map(|s| s.counters.iter().find(|(k, _)| k == name).map(|(_, v)| *v))
            .collect();
        let v = median(&xs);
        let text = if name.ends_with("_ns") || name.starts_with("ns_") {
            fmt_ns(v)
        } else if name.ends_with("_per_second") {
            fmt_si(v) + "/s"
        } else {
            format!("{:.3}", v)
        };
        line.push_str(&format!("  {}={}", name, text));
    }
    line
}

fn fmt_si(v: f64) -> String {
    for (factor, prefix) in [(1e9, "G"), (1e6, "M"), (1e3, "k")] {
        if v.abs() >= factor {
            return format!("{:.3}{}", v / factor, prefix);
        }
    }
    format!("{:.3}", v)
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.3} us", ns / 1e3)
    } else {
        format!("{:.1} ns", ns)
    }
}

/// Runs every registered benchmark and returns the report's "benchmarks" list.
pub fn run_all(registry: &Registry, settings: &Settings) -> Vec<Json> {
    let mut out = vec![];
    let total = registry.benches.len();
    for (i, b) in registry.benches.iter().enumerate() {
        if let Ok(mut name) = CURRENT.lock() {
            *name = b.name.clone();
        }
        let t0 = Instant::now();
        let samples = run_repetitions(b, settings);
        let spent = t0.elapsed().as_secs_f64();
        println!("{}  ({:.1} s)", progress_line(i + 1, total, b, &samples), spent);
        out.extend(entries(b, i, &samples));
    }
    out
}

/// The whole document: {"context": {...}, "benchmarks": [...]}.
pub fn document(context: Vec<(String, Json)>, benchmarks: Vec<Json>) -> String {
    Json::Obj(vec![
        ("context".into(), Json::Obj(context)),
        ("benchmarks".into(), Json::Arr(benchmarks)),
    ])
    .render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_match_google_benchmark() {
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert_eq!(mean(&xs), 5.0);
        assert_eq!(median(&xs), 4.5);
        assert!((stddev(&xs) - 2.138089935).abs() < 1e-6);
        assert!((cv(&xs) - 0.427617987).abs() < 1e-6);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
    }

    #[test]
    fn iteration_growth() {
        let s = |iters, real_ns| Sample { iters, real_ns, cpu_ns: 0.0, counters: vec![] };
        // under 10% of min_time: x10
        assert_eq!(next_iters(&s(1, 1e6), 0.1), 10);
        // 50% of min_time: x 1.4 / 0.5 = 2.8
        assert_eq!(next_iters(&s(100, 0.05e9), 0.1), 280);
        assert_eq!(next_iters(&s(MAX_ITERATIONS, 1.0), 0.1), MAX_ITERATIONS);
    }

    #[test]
    fn rows_and_aggregates() {
        let b = Registered { name: "x/y/real_time".into(), unit: Unit::Us, run: Box::new(|_| {}) };
        let samples: Vec<Sample> = (1..=3)
            .map(|i| Sample {
                iters: 10,
                real_ns: 10_000.0 * i as f64,
                cpu_ns: 5_000.0,
                counters: vec![("items_per_second".into(), i as f64)],
            })
            .collect();
        let text = Json::Arr(entries(&b, 0, &samples)).render();
        assert_eq!(text.matches("\"run_type\": \"iteration\"").count(), 3);
        assert!(text.contains("\"name\": \"x/y/real_time_median\""));
        assert!(text.contains("\"aggregate_name\": \"cv\""));
        assert!(text.contains("\"real_time\": 2,")); // median of 1, 2, 3 us
        assert!(text.contains("\"time_unit\": \"us\""));
    }
}
