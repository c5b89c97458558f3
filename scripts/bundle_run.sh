#!/bin/sh
# run.sh of a threadbench bundle (made by ./scripts/pack.sh DIR): runs the packed
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
#   ./run.sh --quick             1 process, 1 repetition, short minimum time
#   ./run.sh --filter REGEX      only the benchmarks whose name matches (Google Benchmark's filter)
#   ./run.sh --repetitions N --min-time SECONDS   (N repetitions in each process)
#   ./run.sh --processes N       run each binary in N fresh processes (default 8, of 1 repetition each)
#   ./run.sh --timeout SECONDS   per binary (default 1800, 300 with --quick); a binary that
#                                runs longer is stopped and the run fails
#   ./run.sh --wait-quiet N      wait up to N s for a quiet machine before timing
#   ./run.sh --pin               pin each binary to one logical CPU per physical core (taskset)
#   ./run.sh --no-peers          leave out the Rust/Go peers, if the bundle has them
# Every option that takes a value takes it as --option VALUE or --option=VALUE.
#
# Settings given here replace those given at pack time (pack.conf). OUT is written as
# OUT.partial and renamed when complete; a failed run is left as OUT.partial with its logs.
# Processes are interleaved: round 1 runs every binary and peer once, then round 2, ...;
# each program's N part files are then merged into its one JSON (every repetition, each
# with "process_index"; the context says processes=N). With no python here the merge is a small awk
# program that keeps the samples and drops the per-process aggregates (mean, median,
# stddev, cv of one process): the results scripts compute median, spread and cv from the
# samples. With N = 1 the binaries' own JSON is kept as it is.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
say() { printf '[run.sh] %s\n' "$*"; }
die() { printf '[run.sh] error: %s\n' "$*" >&2; exit 1; }
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$here/run.sh"; }
. "$here/preflight.sh"
. "$here/pack.conf"

quick=$PACK_QUICK filter=$PACK_FILTER reps=$PACK_REPS min_time=$PACK_MIN_TIME processes=${PACK_PROCESSES:-}
wait_quiet=${PACK_WAIT_QUIET:-0} pin=${PACK_PIN:-0} out="" timeout_s="" peers=1
# need OPTION ARGS...: OPTION's value is the next argument, which must not be an option.
need() { [ $# -ge 2 ] && case $2 in --*) false ;; esac || die "$1 needs a value (see --help)"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --*=*) # --option=value: the same as --option value
      tb_opt=${1%%=*} tb_val=${1#*=}
      shift
      set -- "$tb_opt" "$tb_val" "$@"
      continue ;;
    --out) need "$@"; out=$2; shift ;;
    --quick) quick=1 ;;
    --filter) need "$@"; filter=$2; shift ;;
    --repetitions) need "$@"; reps=$2; shift ;;
    --processes) need "$@"; processes=$2; shift ;;
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
# Unset: 1 x 1 at 0.01 s with --quick, else pack.conf's PACK_DEFAULT_* (scripts/lib.sh
# tb_sample_defaults when it was packed).
[ -n "$processes" ] || processes=$([ "$quick" = 1 ] && echo 1 || echo "$PACK_DEFAULT_PROCESSES")
[ -n "$reps" ] || reps=$([ "$quick" = 1 ] && echo 1 || echo "$PACK_DEFAULT_REPS")
[ -n "$min_time" ] || min_time=$([ "$quick" = 1 ] && echo 0.01 || echo "$PACK_DEFAULT_MIN_TIME")
[ -n "$timeout_s" ] || timeout_s=$([ "$quick" = 1 ] && echo 300 || echo 1800)
echo "$reps" | grep -Eqx '[1-9][0-9]*' || die "--repetitions must be a positive integer, got '$reps'"
echo "$processes" | grep -Eqx '[1-9][0-9]{0,5}' || die "--processes must be a positive integer, got '$processes'"
echo "$min_time" | grep -Eqx '[0-9]+([.][0-9]+)?' && echo "$min_time" | grep -q '[1-9]' ||
  die "--min-time must be a positive number of seconds, got '$min_time'"
if [ -n "$filter" ]; then
  tb_rc=0; printf '' | grep -E -- "$filter" >/dev/null 2>&1 || tb_rc=$?
  [ $tb_rc -le 1 ] || die "--filter '$filter' is not a valid regular expression"
fi
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
context="$context,processes=$processes,repetitions=$reps,min_time_s=$min_time,mode=$([ "$quick" = 1 ] && echo quick || echo default)"
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
# check_json NAME FILE: drop FILE.json when it holds no benchmark (the filter matched none:
# returns 1), fail on a benchmark that reported an error, and drop the log of NAME when it
# succeeded.
check_json() {
  if grep -q '"name"' "$part/$2.json" 2>/dev/null; then
    ! grep -q '"error_occurred": true' "$part/$2.json" || die "$1: a benchmark reported an error (log: $part/$1.log)"
    say "    $1 done in $(( $(date +%s) - t )) s"
    rm -f "$part/$1.log"
  else
    rm -f "$part/$2.json" "$part/$1.log"; say "    $1: no benchmark matched the filter"
    return 1
  fi
}
# merge_parts OUT PART...: the awk merge described at the top (Google Benchmark's JSON layout:
# one field a line, each benchmark entry opened by "    {" and closed by "    }").
merge_parts() {
  m_out=$1; shift
  awk '
    FNR == 1 { file++; in_bench = 0 }
    !in_bench { if (file == 1) head = head $0 "\n"; if ($0 ~ /"benchmarks": \[/) in_bench = 1; next }
    /^    \{$/ { entry = ""; run = ""; agg = 0; next }
    /^    \},?$/ {
      if (agg) next
      if (!(run in count)) { order[++runs] = run; count[run] = 0 }
      k = ++count[run]; text[run, k] = entry; proc[run, k] = file - 1; next }
    /^      "run_name": / { run = $0 }
    /^      "run_type": "aggregate"/ { agg = 1 }
    /^      "/ { entry = entry $0 "\n" }
    END {
      printf "%s", head
      for (r = 1; r <= runs; r++) {
        run = order[r]
        for (k = 1; k <= count[run]; k++) {
          m = split(text[run, k], line, "\n")
          print "    {"
          for (j = 1; j < m; j++) {
            l = line[j]
            if (l ~ /^      "repetitions": /) l = "      \"repetitions\": " count[run] ","
            if (l ~ /^      "repetition_index": /) l = "      \"repetition_index\": " (k - 1) ","
            print l
            if (l ~ /^      "run_type": /) print "      \"process_index\": " proc[run, k] ","
          }
          print ((r == runs && k == count[run]) ? "    }" : "    },")
        }
      }
      print "  ]"; print "}"
    }' "$@" >"$m_out.tmp" && mv "$m_out.tmp" "$m_out"
}
set -- "$here"/bin/*_bench
total=$#
say "$total binaries, $processes process(es) x $reps repetition(s) = $((processes * reps)) samples a row, min_time=${min_time}s, timeout ${timeout_s}s each${filter:+, filter=$filter}"
t0=$(date +%s) p=0 skip=" "
while [ $p -lt "$processes" ]; do
  say "[round $((p + 1))/$processes] every binary once, in a fresh process ... elapsed $(( $(date +%s) - t0 )) s"
  i=0
  for bin in "$here"/bin/*_bench; do
    n=$(basename "$bin") i=$((i + 1))
    case "$skip" in *" $n "*) continue ;; esac
    say "  [$i/$total] $n ... elapsed $(( $(date +%s) - t0 )) s"
    set -- --benchmark_out="$part/$n.p$p.json" --benchmark_out_format=json \
      --benchmark_repetitions="$reps" --benchmark_min_time="$min_time" --benchmark_context="$context"
    [ "$reps" -gt 1 ] && set -- "$@" --benchmark_display_aggregates_only=true
    [ -n "$filter" ] && set -- "$@" --benchmark_filter="$filter"
    run_one "$n" "$ld" --library-path "$here/lib" "$bin" "$@"
    check_json "$n" "$n.p$p" || skip="$skip$n "
  done
  if [ "$peers" = 1 ]; then
    for bin in "$here"/peers/*_bench; do
      [ -x "$bin" ] || continue
      n=$(basename "$bin")
      case "$skip" in *" $n "*) continue ;; esac
      say "  peer $n ... elapsed $(( $(date +%s) - t0 )) s"
      # The peer programs take bench/<lang>/run.sh's options; --quick is resolved above.
      set -- --out "$part/$n.p$p.json" --repetitions "$reps" --min-time "$min_time" --context "$context"
      [ -n "$filter" ] && set -- "$@" --filter "$filter"
      # A peer that is not fully static starts through the packed loader too.
      if [ -e "$here/peers/$n.dynamic" ]; then set -- "$ld" --library-path "$here/lib" "$bin" "$@"; else set -- "$bin" "$@"; fi
      run_one "$n" "$@"
      check_json "$n" "$n.p$p" || skip="$skip$n "
    done
  fi
  p=$((p + 1))
done
# One JSON per program: its parts as they are (1 process) or merged.
for f in "$part"/*.p0.json; do
  [ -e "$f" ] || continue
  n=$(basename "$f" .p0.json)
  if [ "$processes" -eq 1 ]; then mv "$f" "$part/$n.json"; continue; fi
  set --
  p=0
  while [ $p -lt "$processes" ]; do
    [ -e "$part/$n.p$p.json" ] || die "$n: process $((p + 1)) wrote no JSON while process 1 did"
    set -- "$@" "$part/$n.p$p.json"; p=$((p + 1))
  done
  merge_parts "$part/$n.json" "$@" || die "merging the $processes process files of $n failed"
  rm -f "$@"
done
[ "$processes" -eq 1 ] || say "merged each program's $processes process files into one JSON"
ls "$part"/*.json >/dev/null 2>&1 || { rmdir "$part"; die "no benchmark matched the filter: nothing written"; }
mv "$part" "$out"
say "done in $(( $(date +%s) - t0 )) s: $out (one JSON per binary; plot it with scripts/plot.py)"
