#!/usr/bin/env bash
# scripts/bench.sh: the main job. Installs what is missing, builds Release, runs every
# benchmark binary, and writes results/<run-id>/ with one Google Benchmark JSON per binary,
# plots/*.png, report.md and goals.txt.
#
#   ./scripts/bench.sh                  default suite (5 repetitions, ~5-6 min on 2 cores)
#   ./scripts/bench.sh --quick          1 repetition, short minimum time (~1 min)
#   ./scripts/bench.sh --out NAME       results/NAME instead of results/<host>-<date>
#   ./scripts/bench.sh --filter REGEX   passed to --benchmark_filter of every binary
#   ./scripts/bench.sh --repetitions N --min-time SECONDS
#   ./scripts/bench.sh --no-build       use the existing build/release binaries as they are
#   ./scripts/bench.sh --bin-dir DIR    run the *_bench binaries found in DIR (implies --no-build)
#
# A run is written to results/.tmp-<run-id>/ and moved into place only when complete, so
# results/ never holds a half-written run; an existing results/<run-id> is never replaced.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }

quick=0 out="" filter="" reps="" min_time="" build=1 bin_dir=build/release/bench
is_number() { [[ "$1" =~ ^[0-9]+([.][0-9]+)?$ ]]; }
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --out) [ $# -ge 2 ] || die "--out needs a NAME"; out=$2; shift ;;
    --out=*) out=${1#--out=} ;;
    --filter) [ $# -ge 2 ] || die "--filter needs a REGEX"; filter=$2; shift ;;
    --filter=*) filter=${1#--filter=} ;;
    --repetitions) [ $# -ge 2 ] || die "--repetitions needs a number"; reps=$2; shift ;;
    --min-time) [ $# -ge 2 ] || die "--min-time needs a number of seconds"; min_time=$2; shift ;;
    --no-build) build=0 ;;
    --bin-dir) [ $# -ge 2 ] || die "--bin-dir needs a folder"; bin_dir=$2; build=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  shift
done
# 5 repetitions: the fewest with which compare.py's Mann-Whitney U test can reach p < 0.05.
[ -z "$reps" ] && reps=$([ $quick -eq 1 ] && echo 1 || echo 5)
[ -z "$min_time" ] && min_time=$([ $quick -eq 1 ] && echo 0.01 || echo 0.1)
[[ "$reps" =~ ^[1-9][0-9]*$ ]] || die "--repetitions must be a positive integer, got '$reps'"
is_number "$min_time" || die "--min-time must be a number of seconds, got '$min_time'"
[ -n "$out" ] || out="$(hostname -s 2>/dev/null || echo host)-$(date +%Y%m%d-%H%M%S)"
[[ "$out" =~ ^[A-Za-z0-9._-]+$ ]] || die "--out NAME may hold only letters, digits, '.', '_' and '-'"
final="results/$out"
[ -e "$final" ] && die "$final already exists: choose another --out NAME (nothing was overwritten)"

# ---- tools ----
ensure_packages "${TB_BUILD_PACKAGES[@]}" "${TB_PYTHON_PACKAGES[@]}"
py=$(find_python) || die "no python3 with matplotlib and scipy; install python3-matplotlib python3-scipy and use /usr/bin/python3"

if [ $build -eq 1 ]; then
  say "building Release (build/release)"
  cmake --preset release >/dev/null || die "configure failed"
  cmake --build --preset release -j "$(tb_jobs)" >/dev/null || die "build failed (run: cmake --build --preset release)"
fi
[ -d "$bin_dir" ] || die "no benchmark folder $bin_dir (build first, or drop --no-build)"
mapfile -t bins < <(find "$bin_dir" -maxdepth 1 -type f -name '*_bench' -perm -u+x | sort)
[ ${#bins[@]} -gt 0 ] || die "no *_bench binaries in $bin_dir"

# ---- context that travels with every JSON ----
# Google Benchmark takes --benchmark_context=k=v,k=v: commas inside values are dropped.
clean() { tr -d ',\n' | sed 's/  */ /g; s/^ //; s/ $//'; }
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1 | clean)
[ -n "$cpu_model" ] || cpu_model=$(uname -m)
compiler=$( (g++ --version 2>/dev/null || echo unknown) | head -1 | clean)
tbb_version=$(dpkg-query -W -f='${Version}' libtbb-dev 2>/dev/null | clean || true)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo none)
[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && commit="$commit-dirty"
governor=$(cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor 2>/dev/null || echo unreadable)
if [ -r /sys/devices/system/cpu/intel_pstate/no_turbo ]; then
  turbo=$([ "$(cat /sys/devices/system/cpu/intel_pstate/no_turbo)" = 0 ] && echo on || echo off)
elif [ -r /sys/devices/system/cpu/cpufreq/boost ]; then
  turbo=$([ "$(cat /sys/devices/system/cpu/cpufreq/boost)" = 1 ] && echo on || echo off)
else
  turbo=unreadable
fi
context="machine=$(hostname -s 2>/dev/null | clean),cpu_model=$cpu_model,cores=$(nproc),kernel=$(uname -r | clean)"
context+=",compiler=$compiler,tbb_version=${tbb_version:-unknown},git_commit=$commit"
context+=",governor=$governor,turbo=$turbo,repetitions=$reps,min_time_s=$min_time"
context+=",mode=$([ $quick -eq 1 ] && echo quick || echo default)"

# Rough minutes per binary for the default suite on a 2-core machine (progress only).
expected() {
  case "$1" in
    channel_bench) echo "~2.5 min" ;; pool_bench) echo "~1.2 min" ;;
    capture_bench) echo "~1.5 min" ;; spawn_join_bench) echo "~20 s" ;; *) echo "?" ;;
  esac
}

tmp="results/.tmp-$out"
failed="results/.failed-$out"
rm -rf "$tmp" "$failed"
mkdir -p "$tmp"
# An interrupted or failed run is kept aside (logs included), never mixed with complete ones.
keep_partial() { [ -d "$tmp" ] && mv "$tmp" "$failed" && echo "partial run kept in $failed" >&2; }
trap keep_partial EXIT
say "run $out: ${#bins[@]} binaries, repetitions=$reps, min_time=${min_time}s${filter:+, filter=$filter}"
t0=$SECONDS
i=0
for bin in "${bins[@]}"; do
  i=$((i + 1))
  name=$(basename "$bin")
  est=$([ $quick -eq 1 ] && echo "quick" || expected "$name")
  say "[$i/${#bins[@]}] $name ($est) ... elapsed $((SECONDS - t0)) s"
  args=(--benchmark_out="$tmp/$name.json" --benchmark_out_format=json
        --benchmark_repetitions="$reps" --benchmark_min_time="$min_time"
        --benchmark_context="$context")
  [ "$reps" -gt 1 ] && args+=(--benchmark_display_aggregates_only=true)
  [ -n "$filter" ] && args+=(--benchmark_filter="$filter")
  "$bin" "${args[@]}" >"$tmp/$name.log" 2>&1 || {
    tail -5 "$tmp/$name.log" >&2
    die "$name failed (its log: $failed/$name.log)"
  }
  grep -q '"name"' "$tmp/$name.json" || { rm -f "$tmp/$name.json"; say "  $name: no benchmark matched the filter"; }
  errors=$(grep -c '"error_occurred": true' "$tmp/$name.json" 2>/dev/null || true)
  [ "${errors:-0}" -eq 0 ] || die "$name: $errors benchmark(s) reported an error (see $failed/$name.log)"
done
ls "$tmp"/*.json >/dev/null 2>&1 || die "no benchmark produced results (check --filter)"
say "benchmarks done in $((SECONDS - t0)) s; plotting with $py"
MPLBACKEND=Agg "$py" scripts/plot.py --title "$out" "$tmp" || die "plot.py failed"
"$py" scripts/goals.py "$tmp" | tee "$tmp/goals.txt" || die "goals.py failed"
{ printf '\n## Speed goals (scripts/goals.py, ratios from this run)\n\n```\n'
  cat "$tmp/goals.txt"; printf '```\n'; } >>"$tmp/report.md"
rm -f "$tmp"/*.log
mv "$tmp" "$final"
trap - EXIT
say "done in $((SECONDS - t0)) s: $final (report.md, plots/, one JSON per binary)"
