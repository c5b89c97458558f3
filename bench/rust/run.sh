#!/usr/bin/env bash
# bench/rust/run.sh: builds the Rust peers (offline, release, against Debian's packaged
# crates) and runs them, writing one Google Benchmark JSON file that scripts/ reads like
# the C++ binaries' output (names, repetitions, aggregates, counters, context).
#
#   bench/rust/run.sh --out FILE.json                  the default run (8 processes x 1 repetition)
#   bench/rust/run.sh --out FILE.json --quick          1 process, 1 repetition, min time 0.01 s
#   bench/rust/run.sh --out F.json --filter REGEX      only the benchmarks whose name matches (ERE)
#   bench/rust/run.sh --out F.json --repetitions N --min-time SECONDS   (N repetitions per process)
#   bench/rust/run.sh --out F.json --processes N       N fresh processes, one after another, merged
#                                                      into FILE (every repetition with its
#                                                      process_index; needs python3 when N > 1)
#   bench/rust/run.sh --out F.json --context k=v,k=v   extra context keys (scripts/bench.sh's machine facts)
#   bench/rust/run.sh --list [--filter REGEX]         print the benchmark names (after --filter) and exit
#   bench/rust/run.sh --check [--out F.json]           a few benchmarks of each family, their JSON read
#                                                      back by the result scripts' loader, and a planted
#                                                      lost message that must make the run fail
#
# Options mean what they mean for Google Benchmark (--benchmark_filter, _repetitions,
# _min_time). The thread axis is 1, 2, 4, ... up to max(8, 2 x cores), or up to
# THREADBENCH_MAX_THREADS when that is set. FILE is written whole or not at all, and an
# existing FILE is never replaced. Build output goes to build/rust/ (CARGO_HOME, a copy of
# this folder, the target directory); nothing is written into this folder or ~/.cargo.
#
# Exit status: 0 done; 2 usage error; 3 the Rust toolchain (rustc/cargo >= 1.63) or the
# Debian crate packages cannot be had (one line says so: scripts/bench.sh goes on
# without Rust); 1 anything else (a build failure, a failed count/sum check).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
. "$root/scripts/lib.sh"

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
usage_error() { printf '[%s] error: %s (see --help)\n' "$(basename "$0")" "$*" >&2; exit 2; }
unavailable() { printf '[%s] Rust peers skipped: %s\n' "$(basename "$0")" "$*" >&2; exit 3; }

peer_lists=1
peer_options "$@"
if [ $check -eq 1 ]; then
  [ -z "$filter" ] || usage_error "--check runs its own subset: no --filter with it"
  # One of each kind: seq, the hand-off caps and a buffered one, 2-thread mpsc and mpmc
  # (one consumer is all std has), ping_pong, every spawn, each capture mode at 4 KiB,
  # both pools at 2 threads, and the 1x1 crew floor row.
  filter='^(channel/(seq|spsc|mpsc|mpmc)/impl:[a-z_]+/cap:(0|1024)/(producers:[12]/consumers:[12]/)?payload:8/'
  filter+='|channel/crew/.*/producers:1/consumers:1/|channel/ping_pong/impl:[a-z_]+/cap:1/|spawn/|capture/[a-z_]+/impl:rust_thread/size:4096/'
  filter+='|pool/rayon_[a-z_]+/grain:1000/threads:2/)'
  quick=1
fi
tb_peer_defaults || usage_error "--processes must be a positive integer, got '$processes'"
[ $check -eq 0 ] || processes=1
if [ -z "$min_time" ]; then
  if [ $check -eq 1 ]; then min_time=0.001; elif [ $quick -eq 1 ]; then min_time=0.01; else min_time=$tb_default_min_time; fi
fi
[[ "$reps" =~ ^[1-9][0-9]*$ ]] || usage_error "--repetitions must be a positive integer, got '$reps'"
tb_is_seconds "$min_time" || usage_error "--min-time must be a positive number of seconds, got '$min_time'"
if [ $list -eq 1 ]; then
  [ $check -eq 0 ] || usage_error "--list prints names: no --check with it"
elif [ -z "$out" ]; then
  [ $check -eq 1 ] || usage_error "--out FILE is required"
else
  [ -e "$out" ] && usage_error "$out already exists: choose another --out FILE (nothing was overwritten)"
  [ -d "$(dirname "$out")" ] || usage_error "no folder $(dirname "$out") for --out $out"
fi

# --list: the names alone on stdout; what the script says (and the build) goes to stderr.
[ $list -eq 0 ] || exec 3>&1 1>&2

# ---- toolchain: rustc and cargo >= 1.63 (std::thread::scope), else Debian's ----
rust_ok() {   # the rustc on PATH is >= 1.63 and cargo is there
  command -v cargo >/dev/null 2>&1 && command -v rustc >/dev/null 2>&1 || return 1
  local v major minor
  v=$(rustc --version 2>/dev/null | sed -n 's/^rustc \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
  [ -n "$v" ] || return 1
  read -r major minor <<<"$v"
  [ "$major" -gt 1 ] || { [ "$major" -eq 1 ] && [ "$minor" -ge 63 ]; }
}
# ensure_packages dies (exit 1) when apt cannot help; here that means "cannot be had".
try_packages() {
  local log
  if ! log=$( (ensure_packages "$@") 2>&1); then
    unavailable "cannot install $* ($(printf '%s\n' "$log" | tail -1 | sed 's/^\[[^]]*\] //'))"
  fi
  log=$(printf '%s\n' "$log" | grep -v '^debconf:' || true)   # apt's note that it has no dialog
  [ -z "$log" ] || printf '%s\n' "$log"
}
if ! rust_ok; then
  say "no rustc/cargo >= 1.63 on PATH: installing Debian's"
  try_packages rustc cargo
  hash -r
  # A rustup proxy without a toolchain may still shadow Debian's: then use Debian's.
  rust_ok || { PATH="/usr/bin:$PATH"; hash -r; }
  rust_ok || unavailable "rustc >= 1.63 with cargo is needed (PATH has $(rustc --version 2>/dev/null || echo none))"
fi
try_packages librust-crossbeam-channel-dev librust-flume-dev librust-rayon-dev librust-libc-dev

# The directory registry Debian's librust-*-dev packages install into (where dpkg put
# crossbeam-channel), taken from the package itself rather than assumed.
registry=$(dpkg -L librust-crossbeam-channel-dev 2>/dev/null \
  | grep -m1 '/crossbeam-channel-[0-9][^/]*$' | xargs -r dirname || true)
[ -n "$registry" ] && [ -d "$registry" ] ||
  unavailable "cannot find the crate registry of librust-crossbeam-channel-dev"

# ---- build in build/rust/: a copy of this folder, its own CARGO_HOME ----
build="$root/build/rust"
pkg="$build/pkg"
export CARGO_HOME="$build/cargo-home"
export CARGO_TARGET_DIR="$build/target"
mkdir -p "$pkg" "$CARGO_HOME"
# One build at a time (a ctest check and a bench.sh run may start together): the copy,
# the lock file and cargo's output are shared. flock is util-linux, in every Debian.
exec 9>"$build/.build.lock"
flock 9
# Cargo writes Cargo.lock next to Cargo.toml; building a copy keeps it (and the registry
# address cargo records in it) out of the source tree. cp -p keeps the modification
# times cargo's change detection looks at.
rm -rf "$pkg/src"
cp -p "$here/Cargo.toml" "$here/build.rs" "$pkg/"
cp -pR "$here/src" "$pkg/src"
cat >"$CARGO_HOME/config.toml" <<CONFIG
# Written by bench/rust/run.sh: crates come only from Debian's packages, never a network.
[source.crates-io]
replace-with = "debian-packages"

[source.debian-packages]
directory = "$registry"

[net]
offline = true
CONFIG
rustc_version=$(rustc --version)
# A lock from another cargo may be in a format this one cannot read: resolve afresh (offline,
# instant); the crate versions then follow whatever Debian has installed.
# A lock that resolves to the same text is put back as it was (its old modification time),
# so build.rs, which reads it, does not rerun and a repeated run (scripts/bench.sh runs this
# once per round of --processes) does not rebuild.
[ ! -f "$pkg/Cargo.lock" ] || cp -p "$pkg/Cargo.lock" "$build/Cargo.lock.prev"
rm -f "$pkg/Cargo.lock"
if ! log=$(cd "$pkg" && cargo generate-lockfile 2>&1); then
  unavailable "the crates do not resolve from $registry ($(printf '%s\n' "$log" | grep -m1 -i 'error' || printf '%s\n' "$log" | tail -1))"
fi
if [ -f "$build/Cargo.lock.prev" ] && cmp -s "$build/Cargo.lock.prev" "$pkg/Cargo.lock"; then
  mv "$build/Cargo.lock.prev" "$pkg/Cargo.lock"
fi
rm -f "$build/Cargo.lock.prev"
say "building the Rust peers with $rustc_version into build/rust/ (first build ~1 min)"
if ! (cd "$pkg" && cargo build --release --quiet 2>"$build/build.log"); then
  tail -20 "$build/build.log" >&2
  die "cargo build failed (full log: $build/build.log)"
fi
if [ $check -eq 1 ]; then
  say "check 0/3: the harness's own unit tests (statistics, JSON, filter)"
  (cd "$pkg" && cargo test --release --quiet 2>&1 | tail -3) \
    || die "cargo test failed (run: cd $pkg && cargo test --release)"
fi
exec 9>&-   # a later build replaces the file, never the copy this run executes
bin="$CARGO_TARGET_DIR/release/rust_bench"

# ---- run ----
args=(--repetitions "$reps" --min-time "$min_time")
[ -n "$filter" ] && args+=(--filter "$filter")
[ -n "$context" ] && args+=(--context "$context")
# rust_bench's own usage errors (a bad regex, a bad --context) keep exit status 2.
run_bench() { "$bin" "$@" || { rc=$?; [ $rc -eq 2 ] && exit 2; die "rust_bench failed (exit $rc)"; }; }
if [ $list -eq 1 ]; then
  lf=(); [ -z "$filter" ] || lf=(--filter "$filter")
  run_bench --list ${lf[@]+"${lf[@]}"} >&3
  exit 0
fi
if [ $check -eq 0 ]; then
  say "running: $processes process(es) x $reps repetition(s) = $((processes * reps)) samples a row, min_time=${min_time}s${filter:+, filter=$filter}"
  tb_peer_processes "$processes" "$out" run_bench "${args[@]}"
  say "done: $out"
  exit 0
fi

# --check: the subset, its JSON through the loader of scripts/, then the planted fault.
tmpdir=$(mktemp -d)
trap 'rm -rf "$tmpdir"' EXIT
json="${out:-$tmpdir/rust_bench.json}"
say "check 1/3: a quick subset of every family"
run_bench --out "$json" "${args[@]}"
say "check 2/3: the JSON through the result scripts' loader"
py=$(find_python sys) || die "no python3 to read the JSON back"
"$py" - "$json" "$root/scripts" <<'PY' || die "the loader rejected $json"
import sys
sys.path.insert(0, sys.argv[2])
from threadbench_results.load import load_files
run = load_files([sys.argv[1]], sys.argv[1])
families = {b.family for b in run.benches.values()}
errors = [b.name for b in run.benches.values() if b.error]
missing = {"spawn", "capture", "channel", "pool"} - families
empty = [b.name for b in run.benches.values() if not b.samples]
if errors or missing or empty:
    sys.exit(f"errors: {errors}, families missing: {sorted(missing)}, no samples: {empty}")
if run.context.get("language") != ["rust"]:
    sys.exit(f"context language is {run.context.get('language')}, not rust")
print(f"  {len(run.benches)} benchmarks, families {sorted(families)}, read back fine")
PY
say "check 3/3: a planted lost message must fail the run with exit status 1"
set +e
"$bin" --out "$tmpdir/fault.json" --repetitions 1 --min-time 0.001 --fault lose-message \
  --filter '^channel/spsc/impl:crossbeam/cap:1024/producers:1/consumers:1/payload:8/' \
  >"$tmpdir/fault.log" 2>&1
rc=$?
set -e
if [ $rc -ne 1 ] || [ -e "$tmpdir/fault.json" ] || ! grep -q 'messages lost or duplicated' "$tmpdir/fault.log"; then
  cat "$tmpdir/fault.log" >&2
  die "the planted lost message was not caught (exit $rc)"
fi
say "  caught: $(grep -m1 'messages lost' "$tmpdir/fault.log" | sed 's/^\[rust_bench\] error: //')"
say "check passed"
