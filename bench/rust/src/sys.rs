//! What the benchmarks need from the machine: clocks, the thread axis, the name filter,
//! and the machine facts Google Benchmark puts into a report's context.

use std::ffi::CString;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use crate::json::Json;

// ---- clocks --------------------------------------------------------------------------------

/// CPU time of the calling thread in ns (CLOCK_THREAD_CPUTIME_ID): what Google Benchmark
/// reports as cpu_time, and what the workload calibration counts.
/// The process's context switches so far, voluntary and involuntary (getrusage), as
/// channel_bench.cpp's context_switches(); 0 when it cannot be read.
pub fn context_switches() -> i64 {
    // SAFETY: getrusage fills the zeroed struct it is given; RUSAGE_SELF is always valid.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return 0;
    }
    ru.ru_nvcsw as i64 + ru.ru_nivcsw as i64
}

pub fn thread_cpu_ns() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1e9 + ts.tv_nsec as f64
}

/// Round-trip timestamps: the TSC where there is one (one ~11 ns read on the reference VM,
/// against ~27 ns for a clock_gettime through kvm-clock), as in channel_bench.cpp; else
/// nanoseconds of a monotonic clock. ns_per_tick() converts.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(unused_unsafe)]
pub fn ticks() -> u64 {
    // SAFETY: rdtsc has no preconditions on x86_64.
    unsafe { core::arch::x86_64::_rdtsc() }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
pub fn ticks() -> u64 {
    epoch().elapsed().as_nanos() as u64
}

#[cfg(not(target_arch = "x86_64"))]
fn epoch() -> Instant {
    use std::sync::Mutex;
    static START: Mutex<Option<Instant>> = Mutex::new(None);
    *START.lock().unwrap().get_or_insert_with(Instant::now)
}

static TICK_ONCE: Once = Once::new();
static NS_PER_TICK_BITS: AtomicU64 = AtomicU64::new(0);

/// ns per ticks() unit, measured once against the monotonic clock over 20 ms (call it
/// before anything is timed: the first call spends those 20 ms).
pub fn ns_per_tick() -> f64 {
    TICK_ONCE.call_once(|| {
        let v = if cfg!(target_arch = "x86_64") {
            let w0 = Instant::now();
            let t0 = ticks();
            while w0.elapsed() < Duration::from_millis(20) {}
            let wall = w0.elapsed();
            let t1 = ticks();
            wall.as_nanos() as f64 / (t1.wrapping_sub(t0)).max(1) as f64
        } else {
            1.0
        };
        NS_PER_TICK_BITS.store(v.to_bits(), Ordering::Relaxed);
    });
    f64::from_bits(NS_PER_TICK_BITS.load(Ordering::Relaxed))
}

// ---- thread axis ---------------------------------------------------------------------------

/// The cores this process may use (sched affinity and cgroup quota included).
pub fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// The suite's thread axis: 1, 2, 4, ... up to max(8, 2 x cores), or up to
/// THREADBENCH_MAX_THREADS when that is set to a positive integer (CI and smoke runs).
pub fn thread_axis() -> Vec<usize> {
    let mut top = (2 * cores()).max(8);
    if let Ok(text) = std::env::var("THREADBENCH_MAX_THREADS") {
        match text.trim().parse::<usize>() {
            Ok(n) if n > 0 => top = n,
            _ => eprintln!(
                "[rust_bench] warning: THREADBENCH_MAX_THREADS='{}' is not a positive integer; \
                 using {}",
                text, top
            ),
        }
    }
    let mut axis = vec![];
    let mut t = 1;
    while t <= top {
        axis.push(t);
        t *= 2;
    }
    axis
}

// ---- per-thread pinning --------------------------------------------------------------------
//
// THREADBENCH_PIN (scripts/bench.sh --pin exports it: "0,2,4,6" or "0-3"; empty or unset = no
// per-thread pinning) is the CPU list that crew member k (producers first, then consumers)
// and the ping_pong responder take their core from: list[k % n]. --pin already confines the
// whole process (taskset), but inside that set the scheduler places each thread where it
// likes, and a thread's placement is baked into every repetition it runs; per-thread pins
// make a row's threads land on the same cores in every process. The same as bench/pin.hpp
// (C++) and bench/go/crew.go (Go).

/// Parses a CPU list: comma-separated CPUs and ranges a-b (a <= b), as taskset -c takes it.
/// Empty = no CPUs.
pub fn parse_cpu_list(list: &str) -> Result<Vec<usize>, String> {
    let mut cpus = vec![];
    if list.is_empty() {
        return Ok(cpus);
    }
    let number = |s: &str| -> Result<usize, String> {
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err("expected CPUs and ranges a-b, separated by commas".into());
        }
        match s.parse::<usize>() {
            Ok(n) if n < libc::CPU_SETSIZE as usize => Ok(n),
            _ => Err("CPU number too large".into()),
        }
    };
    for item in list.split(',') {
        match item.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (number(a)?, number(b)?);
                if a > b {
                    return Err("a range a-b needs a <= b".into());
                }
                cpus.extend(a..=b);
            }
            None => cpus.push(number(item)?),
        }
    }
    Ok(cpus)
}

static PIN_CPUS: Mutex<Option<Vec<usize>>> = Mutex::new(None);

/// THREADBENCH_PIN's CPUs, read and checked once (main reads them before anything runs, so a
/// malformed list stops the program there: one line, exit 2).
pub fn pin_cpus() -> Vec<usize> {
    let mut slot = PIN_CPUS.lock().unwrap_or_else(|e| e.into_inner());
    slot.get_or_insert_with(|| {
        let text = std::env::var("THREADBENCH_PIN").unwrap_or_default();
        parse_cpu_list(&text).unwrap_or_else(|why| {
            eprintln!("[rust_bench] error: THREADBENCH_PIN='{}': {}", text, why);
            std::process::exit(2)
        })
    })
    .clone()
}

/// The `pin_threads` context value: "per-thread:<list as given>" or "off".
pub fn pin_context() -> String {
    if pin_cpus().is_empty() {
        "off".into()
    } else {
        format!("per-thread:{}", std::env::var("THREADBENCH_PIN").unwrap_or_default())
    }
}

/// Pins the calling thread to pin_cpus()[index % n] (sched_setaffinity on thread 0 = the
/// caller); nothing when the list is empty. Call it from inside the thread before it reaches
/// the start gate. A CPU the process may not use is an error (exit 2): the row would
/// otherwise run unpinned without a word.
pub fn pin_this_thread(index: usize) {
    let cpus = pin_cpus();
    if cpus.is_empty() {
        return;
    }
    let cpu = cpus[index % cpus.len()];
    // SAFETY: cpu_set_t is plain bits (all-zero is the empty set); CPU_SET writes one bit
    // inside it (cpu < CPU_SETSIZE, checked by the parser); sched_setaffinity reads
    // size_of::<cpu_set_t>() bytes of it.
    let rc = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    if rc != 0 {
        eprintln!("[rust_bench] error: THREADBENCH_PIN: cannot pin a thread to CPU {}", cpu);
        std::process::exit(2);
    }
}

// ---- fault injection (for the test that proves the checks can fail) ------------------------

static FAULT: AtomicBool = AtomicBool::new(false);

/// --fault lose-message: every producer of the channel scenarios holds back its first
/// message, so every count/sum check there must fail and the program must exit 1.
pub fn set_fault(on: bool) {
    FAULT.store(on, Ordering::Relaxed);
}
pub fn fault() -> bool {
    FAULT.load(Ordering::Relaxed)
}

// ---- the name filter -----------------------------------------------------------------------

/// --benchmark_filter's semantics: a POSIX extended regular expression searched for
/// anywhere in the full benchmark name (Google Benchmark uses std::regex in extended mode
/// or POSIX regcomp, the same language); a leading '-' negates it.
pub struct Filter {
    regex: Box<libc::regex_t>,
    negate: bool,
}

impl Filter {
    pub fn new(spec: &str) -> Result<Filter, String> {
        let (negate, pattern) = match spec.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, spec),
        };
        let c = CString::new(pattern).map_err(|_| "the filter holds a NUL byte".to_string())?;
        // SAFETY: regex_t is plain data that regcomp initialises; zeroed is a valid start.
        let mut regex: Box<libc::regex_t> = Box::new(unsafe { std::mem::zeroed() });
        // SAFETY: valid pointers; REG_NOSUB: only match / no match is asked for.
        let rc =
            unsafe { libc::regcomp(&mut *regex, c.as_ptr(), libc::REG_EXTENDED | libc::REG_NOSUB) };
        if rc != 0 {
            return Err(format!("invalid regular expression '{}'", pattern));
        }
        Ok(Filter { regex, negate })
    }

    pub fn matches(&self, name: &str) -> bool {
        let c = match CString::new(name) {
            Ok(c) => c,
            Err(_) => return false,
        };
        // SAFETY: the regex was compiled by regcomp; no match array is requested.
        let hit =
            unsafe { libc::regexec(&*self.regex, c.as_ptr(), 0, std::ptr::null_mut(), 0) } == 0;
        hit != self.negate
    }
}

impl Drop for Filter {
    fn drop(&mut self) {
        // SAFETY: compiled by regcomp in new(), freed once.
        unsafe { libc::regfree(&mut *self.regex) };
    }
}

// ---- machine facts for the context ---------------------------------------------------------

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

/// Local time as Google Benchmark writes it: 2026-11-20T10:12:03+00:00.
pub fn local_date() -> String {
    // SAFETY: time/localtime_r/strftime with valid buffers; strftime returns the length.
    unsafe {
        let now = libc::time(std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&now, &mut tm);
        let mut buf = [0u8; 64];
        let fmt = b"%Y-%m-%dT%H:%M:%S%z\0";
        let n = libc::strftime(
            buf.as_mut_ptr() as *mut libc::c_char,
            buf.len(),
            fmt.as_ptr() as *const libc::c_char,
            &tm,
        );
        let mut s = String::from_utf8_lossy(&buf[..n]).into_owned();
        if s.len() >= 5 {
            s.insert(s.len() - 2, ':'); // +0000 -> +00:00
        }
        s
    }
}

pub fn host_name() -> String {
    read("/proc/sys/kernel/hostname").unwrap_or_else(|| "unknown".to_string())
}

/// MHz of the first CPU in /proc/cpuinfo (0 when unreadable).
pub fn mhz_per_cpu() -> i64 {
    read("/proc/cpuinfo")
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("cpu MHz"))
                .and_then(|l| l.split(':').nth(1))
                .and_then(|v| v.trim().parse::<f64>().ok())
        })
        .map(|v| v.round() as i64)
        .unwrap_or(0)
}

/// Google Benchmark's test: a cpufreq governor other than "performance" scales.
pub fn cpu_scaling_enabled() -> bool {
    match read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor") {
        Some(g) => g != "performance",
        None => false,
    }
}

pub fn load_avg() -> Json {
    let loads = read("/proc/loadavg")
        .map(|t| {
            t.split_whitespace()
                .take(3)
                .filter_map(|v| v.parse::<f64>().ok())
                .map(Json::Num)
                .collect()
        })
        .unwrap_or_default();
    Json::Arr(loads)
}

/// CPU 0's caches from sysfs: type, level, size in bytes, CPUs sharing it.
pub fn caches() -> Json {
    let mut out = vec![];
    for i in 0.. {
        let dir = format!("/sys/devices/system/cpu/cpu0/cache/index{}", i);
        let kind = match read(&format!("{}/type", dir)) {
            Some(k) => k,
            None => break,
        };
        let level = read(&format!("{}/level", dir)).and_then(|v| v.parse::<i64>().ok());
        let size = read(&format!("{}/size", dir)).and_then(|v| {
            let (num, mul) = match v.strip_suffix('K') {
                Some(n) => (n, 1024),
                None => match v.strip_suffix('M') {
                    Some(n) => (n, 1024 * 1024),
                    None => (v.as_str(), 1),
                },
            };
            num.parse::<i64>().ok().map(|n| n * mul)
        });
        let sharing = read(&format!("{}/shared_cpu_list", dir)).map(|l| cpu_list_len(&l));
        if let (Some(level), Some(size)) = (level, size) {
            out.push(Json::Obj(vec![
                ("type".into(), Json::str(kind)),
                ("level".into(), Json::Int(level)),
                ("size".into(), Json::Int(size)),
                ("num_sharing".into(), Json::Int(sharing.unwrap_or(1))),
            ]));
        }
    }
    Json::Arr(out)
}

// "0-3,8" -> 5
fn cpu_list_len(list: &str) -> i64 {
    list.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('-') {
            Some((a, b)) => match (a.parse::<i64>(), b.parse::<i64>()) {
                (Ok(a), Ok(b)) if b >= a => b - a + 1,
                _ => 1,
            },
            None => 1,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_is_an_extended_regex_searched_anywhere() {
        let f = Filter::new("^channel/(spsc|mpsc)/impl:crossbeam/").unwrap();
        assert!(f.matches("channel/spsc/impl:crossbeam/cap:0/real_time"));
        assert!(f.matches("channel/mpsc/impl:crossbeam/cap:1024/real_time"));
        assert!(!f.matches("channel/mpmc/impl:crossbeam/cap:1024/real_time"));
        assert!(Filter::new("cap:[0-9]+/").unwrap().matches("channel/spsc/impl:x/cap:1024/"));
        let not = Filter::new("-^spawn/").unwrap();
        assert!(!not.matches("spawn/rust_thread/real_time"));
        assert!(not.matches("pool/rayon_scope/grain:100/threads:1/real_time"));
        assert!(Filter::new("(").is_err());
    }

    #[test]
    fn pin_lists() {
        assert_eq!(parse_cpu_list(""), Ok(vec![]));
        assert_eq!(parse_cpu_list("0,2,4"), Ok(vec![0, 2, 4]));
        assert_eq!(parse_cpu_list("0-3,8"), Ok(vec![0, 1, 2, 3, 8]));
        for bad in ["x", "0,", ",1", "3-1", "1-", "-1", "0 1", "99999"] {
            assert!(parse_cpu_list(bad).is_err(), "{}", bad);
        }
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(cpu_list_len("0-3,8"), 5);
        assert_eq!(cpu_list_len("0"), 1);
        assert_eq!(cpu_list_len("0-1"), 2);
    }
}
