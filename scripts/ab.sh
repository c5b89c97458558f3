#!/usr/bin/env bash
# scripts/ab.sh: A/B in one command. Builds two revisions, runs their benchmarks interleaved
# process by process, and prints scripts/compare.py's comparison of the two.
#
#   scripts/ab.sh REV_A REV_B [options]      e.g. scripts/ab.sh HEAD~1 HEAD --filter 'channel/spsc/'
#     --filter REGEX      only the benchmarks whose name matches (C++ and peers)
#     --processes N       fresh processes per side (default 8; --processes=N too)
#     --repetitions R     repetitions in each process (default 1): N x R samples a row a side
#     --min-time SECONDS  Google Benchmark's minimum time per repetition (default 0.05)
#     --quick             1 process, 1 repetition, 0.01 s (a smoke run: too few samples to judge)
#     --no-peers          C++ only: leave out bench/rust and bench/go
#     --wait-quiet N      wait up to N s for a quiet machine before timing
#     --fail-above R      passed to compare.py: fail (exit 1) when B is slower than A by more
#                         than R on the geomean's whole interval (or a row's, significantly)
#     --strict            passed to compare.py: refuse (exit 2) a side that was busy or has
#                         too few samples to decide
#
# How: each revision is checked out with `git worktree add` into build/ab/<commit>/src and
# its *_bench targets alone built (cmake, the release preset's Release settings) into
# build/ab/<commit>/build; a build that completed is reused by later A/B runs of that commit
# (a commit never changes). The peers are built by that revision's own bench/<lang>/run.sh
# into the worktree's build/ folder. Then round p = 1..N runs, program by program, one
# fresh process of side A and one of side B, A first in odd rounds and B first in even ones
# (A B, B A, A B, ...: neither side always runs right after the other), so drift, placement
# and order hit both sides alike. Each side's processes are merged per program
# (scripts/merge_processes.py: every repetition kept with its process_index) into
# build/ab/<stamp>/a and build/ab/<stamp>/b, whose context says git_commit=<that commit>,
# ab_side=a|b and ab_rev=<the revision as given>; then scripts/compare.py a b prints the
# comparison (ratio = B / A: above 1 means B is slower).
#
# The worktrees are removed on exit, whatever happens; Ctrl-C or TERM stops the running
# benchmark first. Exit status: compare.py's (0 unless --fail-above found a regression: 1, or
# --strict refused a side: 2), 1 a failed build or run, 2 a usage error (one line names the
# bad argument).
set -euo pipefail
TB_SELF=$(readlink -f "$0")
cd "$(dirname "$0")/.."
. scripts/lib.sh
tb_reset_signals "$@"
. scripts/preflight.sh
load_start=$(tb_load_avg)

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }
usage_error() { printf '[%s] error: %s (see --help)\n' "$(basename "$0")" "$*" >&2; exit 2; }

revs=() filter="" processes="" reps="" min_time="" quick=0 peers=1 wait_quiet=0 compare_args=()
value() { [ $# -ge 4 ] && [[ "$4" != --* ]] || usage_error "$1 needs $2"; }
tb_split_options "$@"
set -- ${TB_ARGS[@]+"${TB_ARGS[@]}"}
while [ $# -gt 0 ]; do
  case "$1" in
    --filter) value --filter "a REGEX" "$@"; filter=$2; shift ;;
    --processes) value --processes "a number" "$@"; processes=$2; shift ;;
    --repetitions) value --repetitions "a number" "$@"; reps=$2; shift ;;
    --min-time) value --min-time "a number of seconds" "$@"; min_time=$2; shift ;;
    --quick) quick=1 ;;
    --no-peers) peers=0 ;;
    --wait-quiet) value --wait-quiet "a number of seconds" "$@"; wait_quiet=$2; shift ;;
    --fail-above) value --fail-above "a ratio" "$@"; compare_args+=(--fail-above "$2"); shift ;;
    --strict) compare_args+=(--strict) ;;
    -h|--help) usage; exit 0 ;;
    --*) usage_error "unknown option '$1'" ;;
    *) revs+=("$1") ;;
  esac
  shift
done
[ ${#revs[@]} -eq 2 ] || usage_error "give two revisions, REV_A and REV_B (got ${#revs[@]})"
tb_check_run_options usage_error
tb_sample_defaults
git rev-parse --git-dir >/dev/null 2>&1 || usage_error "not inside a git repository"
shas=() shorts=()
for rev in "${revs[@]}"; do
  sha=$(git rev-parse --verify --quiet "$rev^{commit}") || usage_error "unknown revision '$rev'"
  shas+=("$sha"); shorts+=("$(git rev-parse --short "$sha")")
done
py=$(find_python) || die "no python3 with matplotlib and scipy (compare.py needs scipy); install python3-scipy and use /usr/bin/python3"
stamp=$(date +%Y%m%d-%H%M%S)
out=build/ab/$stamp
[ ! -e "$out" ] || usage_error "$out already exists: wait a second and run again (nothing was overwritten)"
mkdir -p "$out/parts"

# ---- clean-up: worktrees always; the running benchmark on INT/TERM ----
worktrees=()
cleanup() {
  local w
  for w in "${worktrees[@]}"; do
    git worktree remove --force "$w" >/dev/null 2>&1 || rm -rf "$w"
  done
  [ ${#worktrees[@]} -eq 0 ] || git worktree prune
  [ ${#worktrees[@]} -eq 0 ] || say "removed the worktree(s) ${worktrees[*]}"
}
trap cleanup EXIT
trap 'tb_stop_child; say "interrupted: the partial run stays in $out"; exit 130' INT
trap 'tb_stop_child; say "stopped: the partial run stays in $out"; exit 143' TERM

# ---- build each revision (once when A and B are the same commit) ----
# worktree SHA: build/ab/SHORT/src checked out at SHA (a leftover one is replaced).
worktree() {
  local sha=$1 src
  src=build/ab/$(git rev-parse --short "$sha")/src
  if [ -e "$src" ]; then git worktree remove --force "$src" >/dev/null 2>&1 || rm -rf "$src"; git worktree prune; fi
  mkdir -p "$(dirname "$src")"
  git worktree add --detach --quiet "$src" "$sha" || die "git worktree add $src $sha failed"
  worktrees+=("$src")
}
# build_side SHA: its *_bench binaries in build/ab/SHORT/build/bench.
build_side() {
  local sha=$1 short dir targets
  short=$(git rev-parse --short "$sha")
  dir=build/ab/$short
  if [ "$(cat "$dir/build/.ab-built" 2>/dev/null)" = "$sha" ]; then
    say "$short: reusing its completed build ($dir/build)"
  else
    [ -d "$dir/src" ] || worktree "$sha"
    say "$short: configuring and building its *_bench targets in $dir/build (log: $dir/build.log)"
    rm -f "$dir/build/.ab-built"
    cmake -S "$dir/src" -B "$dir/build" -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_CXX_COMPILER=g++ >"$dir/build.log" 2>&1 || { tail -5 "$dir/build.log" >&2; die "$short: configure failed"; }
    mapfile -t targets < <(tb_bench_targets "$dir/build")
    [ ${#targets[@]} -gt 0 ] || die "$short: its build has no *_bench target"
    cmake --build "$dir/build" -j "$(tb_jobs)" --target "${targets[@]}" >>"$dir/build.log" 2>&1 ||
      { tail -5 "$dir/build.log" >&2; die "$short: build failed (log: $dir/build.log)"; }
    echo "$sha" >"$dir/build/.ab-built"
  fi
  [ $peers -eq 0 ] || [ -d "$dir/src" ] || worktree "$sha"   # the peers build from source
}
build_side "${shas[0]}"
[ "${shas[1]}" = "${shas[0]}" ] || build_side "${shas[1]}"

# ---- what runs: per side, its binaries (and peers) ----
sides=(a b)
declare -A bin_of=() ctx_of=() skip=()
tb_wait_quiet "$wait_quiet" "$load_start"
pin_cmd=()
base="$(tb_machine_context),compiler=$( (g++ --version 2>/dev/null || echo unknown) | head -1 | tb_clean)"
base+=",tbb_version=$(dpkg-query -W -f='${Version}' libtbb-dev 2>/dev/null | tb_clean || echo unknown)"
base+=",processes=$processes,repetitions=$reps,min_time_s=$min_time,mode=$([ $quick -eq 1 ] && echo quick || echo default)"
base+=",pinned=no$(tb_preflight_context)"
names=()
for i in 0 1; do
  side=${sides[$i]} short=${shorts[$i]}
  ctx_of[$side]="$base,git_commit=$short,ab_side=$side,ab_rev=$(printf '%s' "${revs[$i]}" | tb_clean)"
  for bin in build/ab/$short/build/bench/*_bench; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin")
    bin_of[$side/$name]=$bin
    [[ " ${names[*]} " == *" $name "* ]] || names+=("$name")
  done
done
langs=()
[ $peers -eq 0 ] || langs=(rust go)

# run_cxx SIDE NAME P: process P of SIDE's binary NAME.
run_cxx() {
  local side=$1 name=$2 p=$3 bin=${bin_of[$1/$2]:-}
  [ -n "$bin" ] && [ -z "${skip[$side/$name]:-}" ] || return 0
  say "  $side ($([ $side = a ] && echo "${shorts[0]}" || echo "${shorts[1]}")) $name ... elapsed $((SECONDS - t0)) s"
  tb_bench_process "$bin" "$out/parts/$side.$name.p$p.json" "$out/parts/$side.$name.p$p.log" \
    "$reps" "$min_time" "${ctx_of[$side]}" "$filter" || { skip[$side/$name]=1; say "    no benchmark matched the filter"; }
}
# run_peer SIDE LANG P: process P of SIDE's peer LANG, through that revision's run.sh.
run_peer() {
  local side=$1 lang=$2 p=$3 name=$2_bench short script args=() rc json log
  short=$([ $side = a ] && echo "${shorts[0]}" || echo "${shorts[1]}")
  script=build/ab/$short/src/bench/$lang/run.sh
  json=$out/parts/$side.$name.p$p.json log=$out/parts/$side.$name.p$p.log
  [ -z "${skip[$side/$name]:-}" ] || return 0
  if [ ! -f "$script" ]; then say "  $side ($short): no bench/$lang/run.sh: peer $lang left out"; skip[$side/$name]=1; return 0; fi
  [ $quick -eq 1 ] && args+=(--quick)
  # A run.sh that knows --processes defaults to several: one process a round here.
  grep -q -- '--processes' "$script" && args+=(--processes 1)
  args+=(--out "$PWD/$json" --repetitions "$reps" --min-time "$min_time" --context "${ctx_of[$side]}")
  [ -n "$filter" ] && args+=(--filter "$filter")
  say "  $side ($short) peer $lang ... elapsed $((SECONDS - t0)) s"
  rc=0; tb_run_child "$log" bash "$script" "${args[@]}" || rc=$?
  case $rc in
    0) ;;
    3) say "    peer $lang left out on side $side: its toolchain cannot be had ($(tail -1 "$log"))"; skip[$side/$name]=1; return 0 ;;
    *) tail -5 "$log" >&2; die "peer $lang of side $side failed with exit status $rc (log: $log)" ;;
  esac
  grep -q '"name"' "$json" 2>/dev/null || { rm -f "$json"; skip[$side/$name]=1; say "    no benchmark matched the filter"; }
}

say "A = ${revs[0]} (${shorts[0]}), B = ${revs[1]} (${shorts[1]}): ${#names[@]} binaries${langs[*]:+ + peers ${langs[*]}}, $processes process(es) x $reps repetition(s) = $((processes * reps)) samples a row a side, min_time=${min_time}s${filter:+, filter=$filter}"
t0=$SECONDS
for ((p = 0; p < processes; p++)); do
  order=(a b)
  [ $((p % 2)) -eq 0 ] || order=(b a)
  say "[round $((p + 1))/$processes] ${order[0]} then ${order[1]}, program by program ... elapsed $((SECONDS - t0)) s"
  for name in "${names[@]}"; do
    for side in "${order[@]}"; do run_cxx "$side" "$name" $p; done
  done
  for lang in "${langs[@]}"; do
    for side in "${order[@]}"; do run_peer "$side" "$lang" $p; done
  done
done

# ---- merge each side's processes, then compare ----
for side in a b; do
  mkdir -p "$out/$side"
  for f in "$out/parts/$side".*.p0.json; do
    [ -e "$f" ] || continue
    name=$(basename "$f" .p0.json); name=${name#$side.}
    parts=()
    for ((p = 0; p < processes; p++)); do
      [ -f "$out/parts/$side.$name.p$p.json" ] || die "side $side: $name process $((p + 1)) wrote no JSON while process 1 did"
      parts+=("$out/parts/$side.$name.p$p.json")
    done
    tb_merge_parts "$py" "$out/$side/$name.json" "${parts[@]}"
  done
  ls "$out/$side"/*.json >/dev/null 2>&1 || die "side $side: no benchmark produced results (check --filter)"
done
rm -rf "$out/parts"
say "benchmarks done in $((SECONDS - t0)) s: A in $out/a, B in $out/b"
say "compare.py $out/a $out/b (ratio = B / A median time; above 1: B is slower)"
rc=0
"$py" scripts/compare.py "$out/a" "$out/b" "${compare_args[@]}" || rc=$?
exit $rc
