#!/usr/bin/env bash
# scripts/bench.sh: the main job. Installs what is missing, builds Release, checks that the
# machine is quiet, runs every C++ benchmark binary and then the Rust and Go peers, and
# writes results/<run-id>/ with one Google Benchmark JSON per binary (rust_bench.json and
# go_bench.json for the peers), and plots/*.png, report.md, tables.md and goals.txt from plot.py.
#
#   ./scripts/bench.sh                  default suite: 8 fresh processes x 1 repetition per binary
#   ./scripts/bench.sh --quick          1 process, 1 repetition, short minimum time
#   ./scripts/bench.sh --out NAME       results/NAME instead of results/<host>-<date>
#   ./scripts/bench.sh --filter REGEX   only benchmarks whose name matches (C++ and peers)
#   ./scripts/bench.sh --repetitions N --min-time SECONDS   (N repetitions in each process)
#   ./scripts/bench.sh --processes N    run each binary and peer in N fresh processes (or --processes=N)
#   ./scripts/bench.sh --no-peers       C++ only: leave out bench/rust and bench/go
#   ./scripts/bench.sh --wait-quiet N   wait up to N s for a quiet machine before timing
#   ./scripts/bench.sh --pin            pin each binary to one logical CPU per physical core
#   ./scripts/bench.sh --no-build       use the existing build/release binaries as they are
#   ./scripts/bench.sh --bin-dir DIR    run the *_bench binaries found in DIR (implies --no-build)
#   ./scripts/bench.sh --pack DIR       run nothing: write DIR, a bundle that runs the suite on
#                                       another x86-64 Linux without toolchain (DIR/run.sh --help);
#                                       runs scripts/pack.sh DIR with the other options given
#   ./scripts/bench.sh --list           run nothing: print the benchmark names (C++ and peers) that
#                                       --filter selects (all without it), one a line
# Every option that takes a value takes it as --option VALUE or --option=VALUE.
#
# How long, on the 2-vCPU development VM: the first run installs packages and builds the
# benchmarks (about 5 minutes) and the peers (about 2); the default suite then runs about 11
# minutes; --quick about 2 minutes. Progress: one line per program and process, and every
# 15 s the rows done out of the rows to run with an estimate of the time left; the programs'
# own output goes to the logs (kept with a partial run).
#
# Runs that survive: a second run into the same --out NAME refuses (one line naming the
# first run's pid) while the first is writing; Ctrl-C, INT or TERM stop the running
# benchmark or peer (its whole process tree) and keep what was written so far, logs
# included, in results/NAME.partial/ (one per name: the next attempt at NAME replaces it,
# and a completed run removes it); results/ is checked as writable before anything is built.
# THREADBENCH_RESULTS_DIR=DIR writes the runs into DIR instead of results/.
#
# Before timing, a preflight check (scripts/preflight.sh) prints the load average, the other
# busy processes, governor, turbo and cores, warns when the machine is not quiet, and records
# its verdict in every JSON's context (preflight=quiet|busy, load_avg, busy_procs). A peer
# whose toolchain cannot be had is left out with one line; the C++ run still completes.
# A run is written to results/.tmp-<run-id>/ and moved into place only when complete, so
# results/ never holds a half-written run; an existing results/<run-id> is never replaced.
#
# Fresh processes: a process's placement (its cores, its memory layout) is baked into every
# repetition it runs, so each binary and each peer runs in N fresh processes of R
# repetitions each: every row has N x R samples. The processes are interleaved: round 1 runs
# every binary and peer once, then round 2, ..., so a slow drift of the machine hits every
# program alike. Each process writes a part file; scripts/merge_processes.py merges each
# program's parts into its one JSON: every repetition kept with its process_index, the
# aggregates (mean, median, stddev, cv) recomputed over all N x R samples, context
# processes=N. Default 8 x 1 at 0.05 s (lib.sh tb_sample_defaults, which says why): 8
# samples a row, the fewest that let a ratio of two rows reach a 95% verdict (interval.py:
# n samples bound a median with 1 - 2^(1-n) confidence), each from its own process and its
# own moment of the run; about 620 s here. --quick 1 x 1 at 0.01 s.
set -euo pipefail
TB_SELF=$(readlink -f "$0")
cd "$(dirname "$0")/.."
. scripts/lib.sh
tb_reset_signals "$@"
. scripts/preflight.sh
# Read before this script installs or builds anything, so it measures the others' load.
load_start=$(tb_load_avg)

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }

tb_run_defaults
out="" pack="" list=0
tb_split_options "$@"
set -- ${TB_ARGS[@]+"${TB_ARGS[@]}"}
while [ $# -gt 0 ]; do
  if tb_run_option "$@"; then shift "$TB_TAKEN"; continue; fi
  case "$1" in
    --out) tb_value --out "a NAME" "$@"; out=$2; shift ;;
    --pack) tb_value --pack "a folder" "$@"; pack=$2; shift ;;
    --list) list=1 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  shift
done
tb_check_run_options
if [ -n "$pack" ]; then
  [ -z "$out" ] || die "--pack writes a bundle, not a run: drop --out (the bundle's run.sh takes --out)"
  [ ! -e "$pack" ] || { [ -d "$pack" ] && [ -z "$(ls -A "$pack")" ]; } ||
    die "$pack exists and is not an empty folder: choose another --pack DIR (nothing was overwritten)"
else
  # 8 samples a row (see "Default 8 x 1" above; compare.py's Mann-Whitney U test can then
  # reach p = 2/C(16,8) = 0.00016, though a row alone fails its gate only below 0.05 / rows:
  # with --filter, under ~320 rows; a whole run's ~550 rows leave that to the geomean).
  tb_sample_defaults
  [ -n "$out" ] || out="$(tb_hostname)-$(date +%Y%m%d-%H%M%S)"
  [[ "$out" =~ ^[A-Za-z0-9._-]+$ ]] || die "--out NAME may hold only letters, digits, '.', '_' and '-'"
  [[ "$out" != *.partial ]] || die "--out NAME may not end in .partial (the name an interrupted run's folder gets)"
  results_dir=${THREADBENCH_RESULTS_DIR:-results}
  final="$results_dir/$out"
  [ -e "$final" ] && [ $list -eq 0 ] && die "$final already exists: choose another --out NAME (nothing was overwritten)"
fi
# --pack DIR: scripts/pack.sh writes the bundle, with the same options.
if [ -n "$pack" ] && [ $list -eq 0 ]; then
  pack_args=("$pack")
  [ $quick -eq 0 ] || pack_args+=(--quick)
  [ -z "$filter" ] || pack_args+=(--filter "$filter")
  [ -z "$reps" ] || pack_args+=(--repetitions "$reps")
  [ -z "$processes" ] || pack_args+=(--processes "$processes")
  [ -z "$min_time" ] || pack_args+=(--min-time "$min_time")
  [ $peers -eq 1 ] || pack_args+=(--no-peers)
  [ "$wait_quiet" = 0 ] || pack_args+=(--wait-quiet "$wait_quiet")
  [ $pin -eq 0 ] || pack_args+=(--pin)
  [ $build -eq 1 ] || pack_args+=(--no-build --bin-dir "$bin_dir")
  exec bash scripts/pack.sh "${pack_args[@]}"
fi

# ---- the run's folder, claimed before anything is installed or built ----
# tmp is the run being written, and its lock: mkdir is atomic, so of two runs into one NAME
# only one creates it; the other finds the owner's pid in it and refuses (or, when that
# process is gone, removes what it left). An interrupted or failed attempt keeps what it
# wrote in NAME.partial (keep_partial), which the next attempt at NAME replaces.
claim_run() {
  local pid probe waited=0
  mkdir -p "$results_dir" 2>/dev/null && probe=$(mktemp "$results_dir/.write-test-XXXXXX" 2>/dev/null) ||
    die "cannot write into $results_dir/ (check its permissions and free space, or set THREADBENCH_RESULTS_DIR to a writable folder); nothing was built"
  rm -f "$probe"
  tmp="$results_dir/.tmp-$out"
  partial="$results_dir/$out.partial"
  while ! mkdir "$tmp" 2>/dev/null; do
    pid=$(cat "$tmp/.pid" 2>/dev/null || true)
    if [ -z "$pid" ] && [ $waited -lt 20 ]; then   # its owner may be between mkdir and pid file
      sleep 0.1; waited=$((waited + 1)); continue
    fi
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
       tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'bench\.sh'; then
      die "$final is being written by another bench.sh run (pid $pid): wait for it, stop it (kill $pid), or choose another --out NAME"
    fi
    say "removing $tmp, left by a run that is gone${pid:+ (pid $pid)}"
    rm -rf "$tmp"
  done
  echo $$ >"$tmp/.pid"
  trap keep_partial EXIT
}
# keep_partial: on any exit before the run is complete. What was written (part files, logs)
# moves to NAME.partial, replacing an older attempt's; a run that wrote nothing leaves nothing.
keep_partial() {
  [ -n "${tmp:-}" ] && [ -d "$tmp" ] || return 0
  rm -f "$tmp/.pid"
  if [ -z "$(find "$tmp" -type f -print -quit)" ]; then rm -rf "$tmp"; return 0; fi
  rm -rf "$partial"
  mv "$tmp" "$partial" && printf '[bench.sh] the partial run (what was written so far, logs included) is in %s\n' "$partial" >&2
}
tmp=""
[ -n "$pack" ] || [ $list -eq 1 ] || claim_run
# Ctrl-C, INT or TERM stop the program now running (its whole process tree: lib.sh
# tb_run_child), then the EXIT trap keeps the partial run.
trap 'tb_stop_child; exit 130' INT
trap 'tb_stop_child; exit 143' TERM

# ---- tools and binaries ----
[ $build -eq 1 ] && ensure_packages "${TB_BUILD_PACKAGES[@]}"
if [ -z "$pack" ]; then
  ensure_packages "${TB_PYTHON_PACKAGES[@]}"
  py=$(find_python) || die "no python3 with matplotlib and scipy; install python3-matplotlib python3-scipy and use /usr/bin/python3"
fi
[ $build -eq 1 ] && tb_build_benchmarks
tb_find_bins "$bin_dir"

# ---- --list: the names, then stop ----
if [ $list -eq 1 ]; then
  for bin in "${bins[@]}"; do
    # (Google Benchmark says on stderr when a program has no match: not news here)
    "$bin" --benchmark_list_tests=true ${filter:+--benchmark_filter="$filter"} 2>/dev/null ||
      die "$(basename "$bin") --benchmark_list_tests failed"
  done
  if [ $peers -eq 1 ]; then
    for lang in rust go; do
      rc=0
      bash "bench/$lang/run.sh" --list ${filter:+--filter "$filter"} 2>"build/list-$lang.log" || rc=$?
      case $rc in
        0) ;;
        3) say "peer $lang left out: its toolchain cannot be had ($(tail -1 "build/list-$lang.log"))" >&2 ;;
        *) tail -3 "build/list-$lang.log" >&2; die "bench/$lang/run.sh --list failed with exit status $rc" ;;
      esac
    done
  fi
  exit 0
fi
# ---- what the build is, for every JSON's context: compiler, tbb_version, commit ----
tb_build_facts


# ---- preflight: is the machine quiet? ----
tb_wait_quiet "$wait_quiet" "$load_start"
pin_cpus="" pin_cmd=()
if [ $pin -eq 1 ]; then
  command -v taskset >/dev/null 2>&1 || ensure_packages util-linux
  pin_cpus=$(tb_pin_cpus)
  pin_cmd=(taskset -c "$pin_cpus")
  say "--pin: every binary runs on CPUs $pin_cpus (one logical CPU per physical core); THREADBENCH_PIN=$pin_cpus is exported for per-thread pinning"
fi
export THREADBENCH_PIN=$pin_cpus

# ---- context that travels with every JSON ----
# Google Benchmark takes --benchmark_context=k=v,k=v: commas inside values are dropped.
# load_avg replaces Google Benchmark's own, which each binary reads when it starts and which
# therefore counts the load of the benchmarks that ran before it.
context="$(tb_machine_context),compiler=$compiler,tbb_version=${tbb_version:-unknown},git_commit=$commit"
context+=",processes=$processes,repetitions=$reps,min_time_s=$min_time,mode=$([ $quick -eq 1 ] && echo quick || echo default)"
context+=",pinned=$(echo "${pin_cpus:-no}" | tr , " ")$(tb_preflight_context)"

mkdir -p "$tmp/parts"
n_peers=$([ $peers -eq 1 ] && echo 2 || echo 0)
say "run $out: ${#bins[@]} binaries + $n_peers peers, each in $processes fresh process(es) x $reps repetition(s) = $((processes * reps)) samples a row, min_time=${min_time}s${filter:+, filter=$filter}"
t0=$SECONDS
# Programs left out of the later rounds: their filter matched nothing, or (peers) their
# toolchain cannot be had. Each program's part files: parts/<name>.p<k>.json, k = 0..N-1.
declare -A skip=()

# ---- progress: rows done out of rows to run, and the time left ----
# A program's console output goes to its log. While it runs, every 15 s (lib.sh
# tb_run_child) one line says how many of its rows are done, read from that log: Google
# Benchmark prints a line when a row is done (with repetitions, its _median line), a peer
# "[i/n] name" (rust_bench, go_bench). The time left for the process: its time so far per
# row done, times the rows left. The run's: from round 2 on, the first round's time of
# every program still to run.
declare -A rows_of=() secs_of=()
now_log="" now_label="" now_name="" now_t1=0
# rows_done: "DONE TOTAL" for the program now running (TOTAL 0 when not known yet).
rows_done() {
  local n
  case $now_name in
    rust_bench|go_bench)
      sed -n 's/.*\[\([0-9][0-9]*\)\/\([0-9][0-9]*\)\].*/\1 \2/p' "$now_log" 2>/dev/null | tail -1 | grep . || echo "0 0" ;;
    *)
      if [ "$reps" -gt 1 ]; then n=$(grep -c '_median ' "$now_log" 2>/dev/null || true)
      else n=$(grep -cE '^[A-Za-z][^ ]*/[^ ]* +[0-9]' "$now_log" 2>/dev/null || true); fi
      echo "${n:-0} ${rows_of[$now_name]:-0}" ;;
  esac
}
fmt_secs() { [ "$1" -lt 120 ] && echo "$1 s" || echo "$(( ($1 + 30) / 60 )) min"; }
# run_left P NAME: seconds the run has left after program NAME of round P (NAME empty: at
# the start of round P), from round 1's times; fails in round 1, when they are not known.
run_left() {
  local p=$1 after=0 total=0 n seen=0
  [ "$p" -gt 0 ] || return 1
  [ -n "$2" ] || seen=1   # at the start of round P: all of it is left
  for n in "${order[@]}"; do
    [ -n "${secs_of[$n]:-}" ] || continue
    total=$((total + secs_of[$n]))
    [ $seen -eq 1 ] && after=$((after + secs_of[$n]))
    [ "$n" = "$2" ] && seen=1
  done
  echo $((after + total * (processes - p - 1)))
}
show_progress() {
  local done total el left run=""
  read -r done total < <(rows_done)
  el=$((SECONDS - now_t1))
  if [ "${done:-0}" -gt 0 ] && [ "${total:-0}" -ge "$done" ]; then
    left=$((el * (total - done) / done))
    if run=$(run_left "$now_p" "$now_name"); then run="; the run about $(fmt_secs $((run + left))) left"; else run=""; fi
    say "    $now_label: $done/$total rows in $el s, about $(fmt_secs $left) left$run"
  else
    say "    $now_label: $el s, no row done yet"
  fi
}
# running P NAME LOG: what show_progress reports on.
running() { now_p=$1 now_name=$2 now_log=$3 now_label="$2 process $(($1 + 1))/$processes" now_t1=$SECONDS; TB_PROGRESS=show_progress; }
# ran P NAME: the process finished; round 1's time is kept for the estimates.
ran() { [ "$1" -gt 0 ] || secs_of[$2]=$((SECONDS - now_t1)); TB_PROGRESS=""; }
order=()
for bin in "${bins[@]}"; do order+=("$(basename "$bin")"); done
[ $peers -eq 0 ] || order+=(rust_bench go_bench)
nothing_matched="nothing matched --filter '$filter' (the names: ./scripts/bench.sh --list, or --list --filter REGEX)"

# run_binary BIN P: process P of one C++ binary.
run_binary() {
  local name t1=$SECONDS
  name=$(basename "$1")
  [ -z "${skip[$name]:-}" ] || return 0
  if [ -z "${rows_of[$name]:-}" ]; then
    rows_of[$name]=$("$1" --benchmark_list_tests=true ${filter:+--benchmark_filter="$filter"} 2>/dev/null | grep -c . || true)
    if [ "${rows_of[$name]}" -eq 0 ]; then skip[$name]=1; say "  $name: no row matches the filter: left out"; return 0; fi
  fi
  say "  $name: ${rows_of[$name]} rows ... elapsed $((SECONDS - t0)) s"
  running "$2" "$name" "$tmp/$name.p$2.log"
  if tb_bench_process "$1" "$tmp/parts/$name.p$2.json" "$tmp/$name.p$2.log" "$reps" "$min_time" "$context" "$filter"; then
    ran "$2" "$name"
    say "    $name process $(($2 + 1)) done in $((SECONDS - t1)) s"
  else
    ran "$2" "$name"
    skip[$name]=1; say "    $name: $nothing_matched"
  fi
}

# ---- peers: bench/<lang>/run.sh writes <lang>_bench.json ----
# Exit status 3 = its toolchain cannot be had: one line, and the run goes on without it.
# run_peer LANG P: process P of one peer (its run.sh builds, a no-op after the first round,
# and runs one process). Its output, a line per row, goes to its log.
run_peer() {
  local lang=$1 p=$2 script=bench/$1/run.sh name=$1_bench rc=0 t1=$SECONDS
  local json=$tmp/parts/$1_bench.p$2.json log=$tmp/$1_bench.p$2.log args=()
  [ -z "${skip[$name]:-}" ] || return 0
  if [ ! -f "$script" ]; then say "peer $lang: no $script in this tree: left out"; skip[$name]=1; return 0; fi
  [ $quick -eq 1 ] && args+=(--quick)
  args+=(--out "$json" --processes 1 --repetitions "$reps" --min-time "$min_time" --context "$context")
  [ -n "$filter" ] && args+=(--filter "$filter")
  say "  peer $lang: $script$([ "$p" -gt 0 ] || echo " (builds first: about 2 min the first time)") ... elapsed $((SECONDS - t0)) s"
  running "$p" "$name" "$log"
  tb_run_child "$log" "${pin_cmd[@]}" bash "$script" "${args[@]}" || rc=$?
  ran "$p" "$name"
  case $rc in
    0) ;;
    3) say "peer $lang left out of this run: its toolchain cannot be had (it said: $(tail -1 "$log"))"
       rm -f "$json"; skip[$name]=1; return 0 ;;
    *) tail -5 "$log" >&2; die "peer $lang failed with exit status $rc (its log: $partial/$(basename "$log"))" ;;
  esac
  if ! grep -q '"name"' "$json" 2>/dev/null; then
    rm -f "$json"; skip[$name]=1; say "    peer $lang: $nothing_matched"
  else
    say "    peer $lang process $((p + 1)) done in $((SECONDS - t1)) s"
  fi
}

for ((p = 0; p < processes; p++)); do
  left=""; [ "$p" -eq 0 ] || left=", about $(fmt_secs "$(run_left "$p" "")") left"
  say "[round $((p + 1))/$processes] every program once, in a fresh process ... elapsed $((SECONDS - t0)) s$left"
  for bin in "${bins[@]}"; do run_binary "$bin" $p; done
  if [ $peers -eq 1 ]; then
    run_peer rust $p
    run_peer go $p
  fi
  [ "$p" -gt 0 ] || ls "$tmp"/parts/*.p0.json >/dev/null 2>&1 || die "no benchmark ran: $nothing_matched"
done

# ---- one JSON per program: its processes' parts merged ----
mapfile -t names < <(cd "$tmp/parts" && ls -- *.p0.json 2>/dev/null | sed 's/[.]p0[.]json$//')
for name in "${names[@]}"; do
  parts=()
  for ((p = 0; p < processes; p++)); do
    [ -f "$tmp/parts/$name.p$p.json" ] || die "$name: process $((p + 1)) wrote no JSON while process 1 did"
    parts+=("$tmp/parts/$name.p$p.json")
  done
  tb_merge_parts "$py" "$tmp/$name.json" "${parts[@]}"
done
[ ${#names[@]} -eq 0 ] || say "merged ${#names[@]} programs' $processes process(es) each into one JSON per program"
rm -rf "$tmp/parts"
ls "$tmp"/*.json >/dev/null 2>&1 || die "no benchmark ran: $nothing_matched"
say "benchmarks done in $((SECONDS - t0)) s; plotting with $py"
# plot.py alone writes the whole report.md (busy-machine warning, summary, charts, headline
# ratios, speed goals), tables.md (every row) and goals.txt, so re-running it on this run
# reproduces them.
MPLBACKEND=Agg "$py" scripts/plot.py --title "$out" "$tmp" || die "plot.py failed"
rm -f "$tmp"/*.log "$tmp/.pid"
mv "$tmp" "$final"
trap - EXIT
if [ -d "$partial" ]; then rm -rf "$partial"; say "removed $partial, an earlier attempt's partial run (this one completed)"; fi
say "done in $((SECONDS - t0)) s: $final (report.md, tables.md, goals.txt, plots/, one JSON per binary)"
