#!/usr/bin/env bash
# bench/go/run.sh: the Go peer. Builds bench/go (go_bench) with the Go toolchain on PATH, or
# Debian's golang-go installed when there is none, into build/go/, runs it and writes one
# Google Benchmark JSON file.
#
#   bench/go/run.sh --out FILE.json     default run: 8 processes x 1 repetition, min time 0.05 s
#   bench/go/run.sh --quick             1 process, 1 repetition, min time 0.01 s (~10 s)
#   bench/go/run.sh --filter REGEX      only the benchmarks whose names match (--benchmark_filter)
#   bench/go/run.sh --repetitions N --min-time SECONDS   (N repetitions in each process)
#   bench/go/run.sh --processes N       N fresh processes, merged into FILE.json (python3 when N > 1)
#   bench/go/run.sh --context k=v,k=v   added to the JSON's context (as --benchmark_context)
#   bench/go/run.sh --check             smoke test: go test, then a small subset, 2 repetitions
#   bench/go/run.sh --list              print the benchmark names (after --filter) and exit
#
# FILE.json is written whole or not at all, and never replaces an existing file.
# THREADBENCH_MAX_THREADS=N caps the thread axis (1, 2, 4, ... up to max(8, 2 x cores));
# GO=/path/to/go picks the toolchain (else go on PATH, else Debian's golang-go is installed).
# Exit status: 0 ok; 2 usage error; 3 no usable Go toolchain (>= 1.19) can be had;
# 1 anything else (a failed build, or a benchmark whose count/sum check failed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/scripts/lib.sh"

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }
usage_error() { printf '[run.sh] usage error: %s (see --help)\n' "$*" >&2; exit 2; }
no_go() { printf '[run.sh] no Go toolchain: %s; the Go peer is skipped\n' "$*" >&2; exit 3; }

peer_lists=1
peer_options "$@"
mode=$last_mode
# Defaults: scripts/bench.sh's (lib.sh tb_sample_defaults; --quick 1 x 1 and 0.01 s).
tb_peer_defaults || usage_error "--processes must be a positive integer, got '$processes'"
[ -n "$min_time" ] || min_time=$([ $mode = quick ] && echo 0.01 || echo "$tb_default_min_time")
# --check: go test, then one or two rows of each family at a tiny min time, 2 repetitions
# (so the aggregates are written too), threads up to 2: a few seconds.
if [ "$mode" = check ]; then
  reps=2 min_time=0.001 processes=1
  [ -n "$filter" ] || filter='spawn/goroutine|channel/(seq|ping_pong)/impl:go_chan/cap:1024/'\
'|channel/spsc/.*/cap:(0|1024)/.*payload:(8|boxed)|channel/mpmc/.*producers:2/'\
'|channel/crew/.*/producers:1/consumers:1/|pool/go_workers/grain:1000/threads:2/'
  export THREADBENCH_MAX_THREADS=${THREADBENCH_MAX_THREADS:-2}
fi
[[ "$reps" =~ ^[1-9][0-9]*$ ]] || usage_error "--repetitions must be a positive integer, got '$reps'"
[[ "$min_time" =~ ^([0-9]+([.][0-9]*)?|[.][0-9]+)$ ]] && [[ "$min_time" =~ [1-9] ]] ||
  usage_error "--min-time must be a positive number of seconds, got '$min_time'"
[[ -z "$context" || "$context" =~ ^[^=,]+=[^,]*(,[^=,]+=[^,]*)*$ ]] ||
  usage_error "--context wants k=v,k=v, got '$context'"
if [ $list -eq 0 ]; then
  [ -n "$out" ] || usage_error "--out FILE.json is required"
  [ -e "$out" ] && usage_error "$out already exists: choose another file (nothing was overwritten)"
  [ -d "$(dirname "$out")" ] || usage_error "no folder $(dirname "$out") for --out"
fi

# ---- the toolchain: go on PATH (or Debian's /usr/lib/go/bin), else install golang-go ----
find_go() {
  local g
  for g in "$(command -v go 2>/dev/null || true)" /usr/lib/go/bin/go; do
    [ -n "$g" ] && [ -x "$g" ] && { echo "$g"; return 0; }
  done
  return 1
}
if [ -n "${GO:-}" ]; then  # GO=/path/to/go picks the toolchain; nothing is installed then
  [ -x "$GO" ] || no_go "GO=$GO is not an executable"
  go=$GO
else
  go=$(find_go) || {
    ( ensure_packages golang-go ) >&2 || true
    go=$(find_go) || no_go "'go' is not on PATH and Debian's golang-go could not be installed"
  }
fi
# Everything the toolchain writes stays in build/go/: no $HOME, no network.
build="$root/build/go"
mkdir -p "$build"
export GOPATH="$build/gopath" GOCACHE="$build/cache" GOMODCACHE="$build/gopath/pkg/mod"
export GOENV=off GOPROXY=off GOTOOLCHAIN=local GOFLAGS=-buildvcs=false GO111MODULE=on
export XDG_CONFIG_HOME="$build/config" GOWORK=off  # newer go keeps telemetry under it
version=$("$go" env GOVERSION 2>/dev/null) || no_go "$go does not run"
[[ "$version" =~ ^go1\.([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -ge 19 ] ||
  no_go "$go is $version; the Go peer needs go1.19 or newer (generics, atomic.Int64)"

bin="$build/go_bench"
# --list: the names alone on stdout; what the script says goes to stderr.
[ $list -eq 0 ] || exec 3>&1 1>&2
if [ "$mode" = check ]; then
  say "go test (bench/go, $version)"
  (cd "$here" && "$go" test -count=1 .) >&2 || die "go test failed in bench/go"
fi
say "building bench/go with $version -> build/go/go_bench"
(cd "$here" && "$go" build -trimpath -o "$bin" .) || die "go build failed in bench/go"

args=(--repetitions "$reps" --min-time "$min_time")
[ -n "$filter" ] && args+=(--filter "$filter")
if [ $list -eq 1 ]; then
  "$bin" --list "${args[@]}" >&3
  exit
fi
# A usage error the script cannot see (a bad regular expression) is go_bench's exit 2.
rc=0; "$bin" --list "${args[@]}" >/dev/null || rc=$?
[ $rc -eq 0 ] || { [ $rc -eq 2 ] && exit 2; die "go_bench --list failed (exit $rc)"; }
say "running the Go peer ($mode: $processes process(es) x $reps repetition(s) = $((processes * reps)) samples a row, min_time=${min_time}s${filter:+, filter=$filter}) -> $out"
tb_peer_processes "$processes" "$out" "$bin" "${args[@]}" ${context:+--context "$context"} ||
  die "go_bench failed (see the line above)"
