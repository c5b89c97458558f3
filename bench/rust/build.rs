// build.rs: records which toolchain and which crate versions built the benchmarks, so
// that the JSON context can say so (the program itself cannot find out at run time).
//   TB_RUSTC_VERSION     `rustc --version` of the compiler cargo uses for this build
//   TB_VERSION_<CRATE>   the version Cargo.lock resolved for each crate measured
use std::env;
use std::fs;
use std::path::Path;
use std::process::Command;

const CRATES: [(&str, &str); 4] = [
    ("crossbeam-channel", "TB_VERSION_CROSSBEAM_CHANNEL"),
    ("flume", "TB_VERSION_FLUME"),
    ("rayon", "TB_VERSION_RAYON"),
    ("rayon-core", "TB_VERSION_RAYON_CORE"),
];

fn main() {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let version = Command::new(&rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=TB_RUSTC_VERSION={}", version);

    // Cargo.lock sits next to Cargo.toml (this package is its own workspace) and is
    // written before any build script runs.
    let manifest_dir = env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".to_string());
    let lock_path = Path::new(&manifest_dir).join("Cargo.lock");
    let lock = fs::read_to_string(&lock_path).unwrap_or_default();
    for (krate, var) in CRATES {
        let found = locked_version(&lock, krate).unwrap_or_else(|| "unknown".to_string());
        println!("cargo:rustc-env={}={}", var, found);
    }
    println!("cargo:rerun-if-changed=Cargo.lock");
    println!("cargo:rerun-if-changed=build.rs");
}

// The version of `krate` in Cargo.lock's [[package]] entries: `name = "x"` followed by
// `version = "y"` (the order cargo writes them in).
fn locked_version(lock: &str, krate: &str) -> Option<String> {
    let want = format!("name = \"{}\"", krate);
    let mut lines = lock.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if line == want {
            let next = lines.next()?;
            return next
                .strip_prefix("version = \"")
                .and_then(|v| v.strip_suffix('"'))
                .map(str::to_string);
        }
    }
    None
}
