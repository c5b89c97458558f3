#!/bin/sh
# run.sh of a threadbench bundle (made by ./scripts/bench.sh --pack DIR): runs the packed
# benchmark binaries on this machine with no compiler, no package and no network. Each C++
# binary starts through the packed dynamic loader against the packed shared libraries, so
# only the kernel (x86-64 Linux) and a POSIX shell with the usual tools (awk, sed, grep,
# timeout) are taken from the machine. It writes one Google Benchmark JSON per binary into
# OUT (the machine, CPU, cores, kernel, governor/turbo, preflight verdict and the build's
# commit, compiler and TBB version in its context) and nothing else. Plot it back home:
#   /usr/bin/python3 scripts/plot.py OUT
#
#   ./run.sh                     the suite, with the settings chosen when it was packed
#   ./run.sh --out DIR           write DIR (default ./threadbench-<host>-<date>); must not exist
#   ./run.sh --quick             1 repetition, short minimum time
#   ./run.sh --filter REGEX      only the benchmarks whose name matches (Google Benchmark's filter)
#   ./run.sh --repetitions N --min-time SECONDS
#   ./run.sh --timeout SECONDS   per binary (default 1800, 300 with --quick); a binary that
#                                runs longer is stopped and the run fails
#   ./run.sh --wait-quiet N      wait up to N s for a quiet machine before timing
#   ./run.sh --pin               pin each binary to one logical CPU per physical core (taskset)
#   ./run.sh --no-peers          leave out the Rust/Go peers, if the bundle has them
#
# Settings given here replace those given at pack time (pack.conf). OUT is written as
# OUT.partial and renamed when complete; a failed run is left as OUT.partial with its logs.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
say() { printf '[run.sh] %s\n' "$*"; }
die() { printf '[run.sh] error: %s\n' "$*" >&2; exit 1; }
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$here/run.sh"; }
. "$here/preflight.sh"
. "$here/pack.conf"

quick=$PACK_QUICK filter=$PACK_FILTER reps=$PACK_REPS min_time=$PACK_MIN_TIME
wait_quiet=${PACK_WAIT_QUIET:-0} pin=${PACK_PIN:-0} out="" timeout_s="" peers=1
# need OPTION ARGS...: OPTION's value is the next argument, which must not be an option.
need() { [ $# -ge 2 ] && case $2 in --*) false ;; esac || die "$1 needs a value (see --help)"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --out) need "$@"; out=$2; shift ;;
    --quick) quick=1 ;;
    --filter) need "$@"; filter=$2; shift ;;
    --repetitions) need "$@"; reps=$2; shift ;;
    --min-time) need "$@"; min_time=$2; shift ;;
    --timeout) need "$@"; timeout_s=$2; shift ;;
    --wait-quiet) need "$@"; wait_quiet=$2; shift ;;
    --pin) pin=1 ;;
    --no-peers) peers=0 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  shift
done
[ -n "$reps" ] || reps=$([ "$quick" = 1 ] && echo 1 || echo 5)
[ -n "$min_time" ] || min_time=$([ "$quick" = 1 ] && echo 0.01 || echo 0.1)
[ -n "$timeout_s" ] || timeout_s=$([ "$quick" = 1 ] && echo 300 || echo 1800)
echo "$reps" | grep -Eqx '[1-9][0-9]*' || die "--repetitions must be a positive integer, got '$reps'"
echo "$min_time" | grep -Eqx '[0-9]+([.][0-9]+)?' || die "--min-time must be a number of seconds, got '$min_time'"
echo "$timeout_s" | grep -Eqx '[1-9][0-9]*' || die "--timeout must be a positive number of seconds, got '$timeout_s'"
echo "$wait_quiet" | grep -Eqx '[0-9]+' || die "--wait-quiet must be a number of seconds, got '$wait_quiet'"
command -v timeout >/dev/null 2>&1 || die "this machine has no 'timeout' command (coreutils or busybox)"
[ "$(uname -m)" = x86_64 ] || die "this bundle holds x86-64 binaries; this machine is $(uname -m)"
[ -n "$out" ] || out="$PWD/threadbench-$(tb_hostname)-$(date +%Y%m%d-%H%M%S)"
[ -e "$out" ] && die "$out already exists: choose another --out (nothing was overwritten)"
part="$out.partial"
[ -e "$part" ] && die "$part exists (an earlier failed run): remove it or choose another --out"

load_start=$(tb_load_avg)
tb_wait_quiet "$wait_quiet" "$load_start"
pin_cpus=""
if [ "$pin" = 1 ]; then
  if command -v taskset >/dev/null 2>&1; then pin_cpus=$(tb_pin_cpus); say "pinning every binary to CPUs $pin_cpus"
  else say "no taskset on this machine: running unpinned"; fi
fi
context="$(tb_machine_context),compiler=$BUILD_COMPILER,tbb_version=$BUILD_TBB,git_commit=$BUILD_COMMIT"
context="$context,repetitions=$reps,min_time_s=$min_time,mode=$([ "$quick" = 1 ] && echo quick || echo default)"
context="$context,pinned=$(echo "${pin_cpus:-no}" | tr , " "),bundle=packed $BUILD_DATE$(tb_preflight_context)"

mkdir -p "$part"
ld="$here/lib/ld-linux-x86-64.so.2"
# run_one NAME CMD...: one binary under the per-binary timeout, its output in a log kept
# only when it fails.
run_one() {
  n=$1; shift
  t=$(date +%s)
  if [ -n "$pin_cpus" ]; then set -- taskset -c "$pin_cpus" "$@"; fi
  rc=0
  THREADBENCH_PIN=$pin_cpus timeout "$timeout_s" "$@" >"$part/$n.log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    tail -5 "$part/$n.log" >&2
    [ "$rc" -eq 124 ] && die "$n ran past --timeout $timeout_s s and was stopped (log: $part/$n.log)"
    die "$n failed with exit status $rc (log: $part/$n.log)"
  fi
}
# check_json NAME: drop a JSON that holds no benchmark (the filter matched none), fail on a
# benchmark that reported an error, and drop the log of a binary that succeeded.
check_json() {
  if grep -q '"name"' "$part/$1.json" 2>/dev/null; then
    ! grep -q '"error_occurred": true' "$part/$1.json" || die "$1: a benchmark reported an error (log: $part/$1.log)"
    say "  $1 done in $(( $(date +%s) - t )) s"
  else
    rm -f "$part/$1.json"; say "  $1: no benchmark matched the filter"
  fi
  rm -f "$part/$1.log"
}
set -- "$here"/bin/*_bench
total=$#
say "$total binaries, repetitions=$reps, min_time=${min_time}s, timeout ${timeout_s}s each${filter:+, filter=$filter}"
t0=$(date +%s) i=0
for bin in "$here"/bin/*_bench; do
  n=$(basename "$bin") i=$((i + 1))
  say "[$i/$total] $n ... elapsed $(( $(date +%s) - t0 )) s"
  set -- --benchmark_out="$part/$n.json" --benchmark_out_format=json \
    --benchmark_repetitions="$reps" --benchmark_min_time="$min_time" --benchmark_context="$context"
  [ "$reps" -gt 1 ] && set -- "$@" --benchmark_display_aggregates_only=true
  [ -n "$filter" ] && set -- "$@" --benchmark_filter="$filter"
  run_one "$n" "$ld" --library-path "$here/lib" "$bin" "$@"
  check_json "$n"
done
if [ "$peers" = 1 ]; then
  for bin in "$here"/peers/*_bench; do
    [ -x "$bin" ] || continue
    n=$(basename "$bin")
    say "peer $n ... elapsed $(( $(date +%s) - t0 )) s"
    # The peer programs take bench/<lang>/run.sh's options; --quick is resolved above.
    set -- --out "$part/$n.json" --repetitions "$reps" --min-time "$min_time" --context "$context"
    [ -n "$filter" ] && set -- "$@" --filter "$filter"
    # A peer that is not fully static starts through the packed loader too.
    if [ -e "$here/peers/$n.dynamic" ]; then set -- "$ld" --library-path "$here/lib" "$bin" "$@"; else set -- "$bin" "$@"; fi
    run_one "$n" "$@"
    check_json "$n"
  done
fi
ls "$part"/*.json >/dev/null 2>&1 || { rmdir "$part"; die "no benchmark matched the filter: nothing written"; }
mv "$part" "$out"
say "done in $(( $(date +%s) - t0 )) s: $out (one JSON per binary; plot it with scripts/plot.py)"
