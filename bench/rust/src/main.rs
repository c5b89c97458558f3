//! rust_bench: the Rust peers of threadbench's benchmarks (families spawn, capture,
//! channel, pool), with the C++ suite's scenario names, written as Google Benchmark's
//! JSON so that scripts/ (plots, report, compare, goals) read it like the C++ output.
//! bench/rust/run.sh builds and runs it; see there for the options as users give them.
//!
//!   rust_bench --out FILE [--filter REGEX] [--repetitions N] [--min-time SECONDS]
//!              [--context k=v,k=v] [--fault lose-message]
//!   rust_bench --list [--filter REGEX]
//!
//! Exit status: 0 done; 1 a benchmark's check failed (lost/duplicated message, a task
//! not run, a wrong sum) or anything else broke: one line says what, no JSON is written;
//! 2 usage error (one line).

mod capture;
mod channel;
mod crew;
mod gbench;
mod json;
mod pool;
mod spawn;
mod sys;
mod workload;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::exit;

use gbench::{Registry, Settings};
use json::Json;

struct Options {
    out: Option<PathBuf>,
    filter: Option<String>,
    repetitions: u32,
    min_time_s: f64,
    context: Vec<(String, String)>,
    list: bool,
    fault: bool,
}

fn usage_error(message: &str) -> ! {
    eprintln!("rust_bench: error: {} (see bench/rust/run.sh --help)", message);
    exit(2);
}

fn parse_args() -> Options {
    // Google Benchmark's defaults would be 1 repetition of 0.5 s; these are
    // scripts/bench.sh's defaults, so that a plain run matches a suite run.
    let mut o = Options {
        out: None,
        filter: None,
        repetitions: 5,
        min_time_s: 0.1,
        context: vec![],
        list: false,
        fault: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |what: &str| -> String {
            match inline.clone().or_else(|| args.next()) {
                Some(v) => v,
                None => usage_error(&format!("{} needs {}", flag, what)),
            }
        };
        match flag.as_str() {
            "--out" => o.out = Some(PathBuf::from(value("a FILE"))),
            "--filter" => o.filter = Some(value("a REGEX")),
            "--repetitions" => {
                let v = value("a number");
                o.repetitions = match v.parse::<u32>() {
                    Ok(n) if n > 0 => n,
                    _ => usage_error(&format!(
                        "--repetitions must be a positive integer, got '{}'",
                        v
                    )),
                }
            }
            "--min-time" => {
                let v = value("a number of seconds");
                o.min_time_s = match v.parse::<f64>() {
                    Ok(s) if s > 0.0 && s.is_finite() => s,
                    _ => usage_error(&format!(
                        "--min-time must be a positive number of seconds, got '{}'",
                        v
                    )),
                }
            }
            "--context" => {
                let v = value("k=v,k=v");
                for pair in v.split(',').filter(|p| !p.is_empty()) {
                    match pair.split_once('=') {
                        Some((k, val)) if !k.is_empty() => {
                            o.context.push((k.to_string(), val.to_string()))
                        }
                        _ => {
                            usage_error(&format!("--context wants key=value pairs, got '{}'", pair))
                        }
                    }
                }
            }
            "--fault" => {
                let v = value("a fault name");
                if v != "lose-message" {
                    usage_error(&format!("--fault knows only lose-message, got '{}'", v));
                }
                o.fault = true;
            }
            "--list" => o.list = true,
            _ => usage_error(&format!("unknown option '{}'", arg)),
        }
    }
    if !o.list && o.out.is_none() {
        usage_error("--out FILE is required");
    }
    o
}

fn register_all(reg: &mut Registry, threads: &[usize]) {
    spawn::register(reg);
    capture::register(reg);
    channel::register(reg, threads);
    pool::register(reg, threads);
}

fn context(o: &Options, threads: &[usize]) -> Vec<(String, Json)> {
    let exe = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default();
    let axis: Vec<String> = threads.iter().map(|t| t.to_string()).collect();
    let mut c: Vec<(String, Json)> = vec![
        ("date".into(), Json::str(sys::local_date())),
        ("host_name".into(), Json::str(sys::host_name())),
        ("executable".into(), Json::str(exe)),
        ("num_cpus".into(), Json::Int(sys::cores() as i64)),
        ("mhz_per_cpu".into(), Json::Int(sys::mhz_per_cpu())),
        ("cpu_scaling_enabled".into(), Json::Bool(sys::cpu_scaling_enabled())),
        ("caches".into(), sys::caches()),
        ("load_avg".into(), sys::load_avg()),
        (
            "library_build_type".into(),
            Json::str(if cfg!(debug_assertions) { "debug" } else { "release" }),
        ),
        ("language".into(), Json::str("rust")),
        ("rustc".into(), Json::str(env!("TB_RUSTC_VERSION"))),
        ("std_mpsc".into(), Json::str(std_mpsc_kind(env!("TB_RUSTC_VERSION")))),
        ("crossbeam_channel_version".into(), Json::str(env!("TB_VERSION_CROSSBEAM_CHANNEL"))),
        ("flume_version".into(), Json::str(env!("TB_VERSION_FLUME"))),
        ("rayon_version".into(), Json::str(env!("TB_VERSION_RAYON"))),
        ("rayon_core_version".into(), Json::str(env!("TB_VERSION_RAYON_CORE"))),
        ("thread_axis".into(), Json::str(axis.join(" "))),
        // "per-thread:<THREADBENCH_PIN>" when crew members and ping_pong responders run
        // pinned one CPU each (sys::pin_this_thread), "off" otherwise.
        ("pin_threads".into(), Json::str(sys::pin_context())),
        ("tsc_ns_per_tick".into(), Json::str(format!("{:.6}", sys::ns_per_tick()))),
        ("workload_steps_per_ns".into(), Json::str(format!("{:.6}", workload::steps_per_ns()))),
        ("workload_fixed_ns".into(), Json::str(format!("{:.6}", workload::fixed_ns()))),
    ];
    // --context pairs last; one that names a key already present replaces its value.
    for (k, v) in &o.context {
        match c.iter_mut().find(|(key, _)| key == k) {
            Some(slot) => slot.1 = Json::str(v.clone()),
            None => c.push((k.clone(), Json::str(v.clone()))),
        }
    }
    c
}

/// Which std::sync::mpsc the rust_std rows measured: Rust 1.67 replaced the original
/// implementation with a port of crossbeam-channel.
fn std_mpsc_kind(rustc_version: &str) -> &'static str {
    let minor = rustc_version
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.split('.').nth(1))
        .and_then(|m| m.parse::<u32>().ok());
    match minor {
        Some(m) if m >= 67 => "crossbeam-channel port (Rust >= 1.67)",
        Some(_) => "original mpsc (Rust < 1.67)",
        None => "unknown",
    }
}

/// Writes `text` to `out` without ever replacing an existing file: first into a
/// temporary file next to it, then a hard link to the final name (which fails if the
/// name exists), then the temporary name is removed.
fn write_new(out: &Path, text: &str) -> Result<(), String> {
    let tmp = PathBuf::from(format!("{}.tmp-{}", out.display(), std::process::id()));
    let result = (|| -> Result<(), String> {
        let mut f =
            fs::File::create(&tmp).map_err(|e| format!("cannot write {}: {}", tmp.display(), e))?;
        f.write_all(text.as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| format!("cannot write {}: {}", tmp.display(), e))?;
        fs::hard_link(&tmp, out).map_err(|e| {
            if out.exists() {
                format!("{} already exists: not overwritten", out.display())
            } else {
                format!("cannot create {}: {}", out.display(), e)
            }
        })
    })();
    let _ = fs::remove_file(&tmp);
    result
}

fn main() {
    let o = parse_args();
    // A panic anywhere (a worker thread included) ends the run at once with status 1,
    // instead of leaving the benchmark thread waiting on a barrier forever.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("[rust_bench] error: {}: {}", gbench::current(), info);
        exit(1);
    }));
    sys::set_fault(o.fault);
    let _ = sys::pin_cpus(); // a malformed THREADBENCH_PIN stops here (one line, exit 2)
    let filter = match &o.filter {
        Some(spec) => match sys::Filter::new(spec) {
            Ok(f) => Some(f),
            Err(e) => usage_error(&format!("--filter: {}", e)),
        },
        None => None,
    };
    let threads = sys::thread_axis();
    let mut reg = Registry::default();
    register_all(&mut reg, &threads);
    if let Some(f) = &filter {
        reg.retain(|name| f.matches(name));
    }
    if o.list {
        for name in reg.names() {
            println!("{}", name);
        }
        return;
    }
    let out = o.out.clone().unwrap_or_default();
    if out.exists() {
        usage_error(&format!(
            "{} already exists: choose another --out FILE (nothing was overwritten)",
            out.display()
        ));
    }

    // Calibrate before anything is timed: the TSC (20 ms) and the workload (~30 ms).
    let _ = sys::ns_per_tick();
    workload::calibrate();
    println!(
        "[rust_bench] {} benchmarks, repetitions={}, min_time={}s, thread axis {:?}{}",
        reg.len(),
        o.repetitions,
        o.min_time_s,
        threads,
        if o.fault { ", FAULT INJECTED (lose-message)" } else { "" }
    );
    if reg.len() == 0 {
        println!("[rust_bench] no benchmark matched the filter");
    }
    let settings = Settings { min_time_s: o.min_time_s, repetitions: o.repetitions };
    let benchmarks = gbench::run_all(&reg, &settings);
    let text = gbench::document(context(&o, &threads), benchmarks);
    if let Err(e) = write_new(&out, &text) {
        eprintln!("[rust_bench] error: {}", e);
        exit(1);
    }
    println!("[rust_bench] wrote {}", out.display());
}
