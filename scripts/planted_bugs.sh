#!/usr/bin/env bash
# scripts/planted_bugs.sh: proves the suite catches every bug of the planted-bug catalogue.
#
# include/threadbench/detail/planted.hpp lists realistic channel bugs (enum Bug). This script
# builds the catalogue's own two trees once, with every bug compiled in behind a run-time
# switch (-DTHREADBENCH_PLANT_BUG=runtime; THREADBENCH_PLANTED_BUG=<n> makes bug n live in a
# process): <build>/release (Release, -O3) and <build>/tsan (-fsanitize=thread), each with
# only the targets the catchers need, configured once and rebuilt incrementally. For each
# bug it runs only the catching test or scenario with bug n live, with a time limit of its
# own, and requires that it FAILS in the way that names the bug class:
#   gtest    a failed assertion ("Failure") of a unit test, in the Release tree;
#   stall    a failed check of a stress harness, in the Release tree (uninstrumented, -O3)
#            with --stall 3;
#   tsan     a ThreadSanitizer report or a failed check, in the TSan tree;
# and, only for the bugs whose symptom is a hang (a lost wake-up), the harness's stall
# detector ("STALL:", with the stuck counters) or a unit test's progress watchdog
# ("DEADLINE: ... no progress for ... while waiting for <what>"): never the run's outer
# time limit.
# A run that passes, is killed at its limit, or fails in some other way (a crash with no
# report) is NOT CAUGHT. --runs N runs every catcher N times; a bug counts as caught only
# if all N runs caught it (a catcher must catch its bug every time, not now and then).
# Control: every gtest and TSan catcher also runs once with no bug live (the same binary,
# THREADBENCH_PLANTED_BUG=0) and must pass, so a failure can only come from the bug. (The
# stall catchers are the release stage's own harnesses, which it runs clean.) The TSan tree
# links Debian's (uninstrumented) oneTBB: the catchers used here never call TBB.
#
# Prints, and writes to <build>/catalogue.md, the table
#   planted bug -> caught by -> how -> catch seconds (min / max over the runs)
# and exits 1 naming every bug that was not caught in every run, or whose catcher did not
# build, or whose control failed.
#
# With --readme FILE it also replaces FILE's block "catalogue" (between the lines
# "<!-- begin catalogue: written by ... -->" and "<!-- end catalogue -->"; stress/README.md
# has it) with that table and a line saying how, where and when it was measured, but only
# after a complete run (every bug, no --only) in which every bug was caught and every
# control passed; otherwise FILE is left as it was.
#
# Usage: scripts/planted_bugs.sh [--build DIR] [--only N[,N...]] [--runs N] [--jobs N]
#                                [--source DIR] [--cxx COMPILER] [--generator NAME] [--list]
#                                [--readme FILE]
#   --build DIR      where the two trees go (default: build/planted)
#   --only N,...     just these bugs (default: every bug in the catalogue)
#   --runs N         run every catcher N times; each must catch (default: 1)
#   --jobs N         make jobs per build (default: nproc)
#   --source DIR     the threadbench source tree (default: this script's repository)
#   --cxx, --generator   compiler and CMake generator of the builds (g++, Unix Makefiles)
#   --list           print each bug's catcher and exit
#   --readme FILE    write the measured table into FILE's catalogue block (see above)
# Time on the 2-vCPU VM: the two trees from scratch take about 1-2 minutes; every catcher
# run after that a few seconds (the ping-pong stall catchers up to 30 s each).
# ctest runs it as catalogue.planted_bugs (label catalogue; cmake/PlantedBugs.cmake).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
source "$here/lib.sh"
# shellcheck source=scripts/preflight.sh
source "$here/preflight.sh"
load_start=$(tb_load_avg)   # for --readme: how busy the machine was when the run began

src=$(cd "$here/.." && pwd)
build=""
only=""
runs=1
jobs=$(tb_jobs)
cxx=g++
generator="Unix Makefiles"
list=0
readme=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build=*|--only=*|--runs=*|--jobs=*|--source=*|--cxx=*|--generator=*|--readme=*)
      set -- "${1%%=*}" "${1#*=}" "${@:2}"; continue ;;
    --build|--only|--runs|--jobs|--source|--cxx|--generator|--readme)
      if [ $# -lt 2 ] || [ -z "$2" ] || [[ "$2" == --* ]]; then die "$1 needs a value"; fi
      case "$1" in
        --build) build=$2 ;;
        --only) only=$2 ;;
        --runs) runs=$2 ;;
        --jobs) jobs=$2 ;;
        --source) src=$(cd "$2" 2>/dev/null && pwd) || die "--source: no such folder '$2'" ;;
        --cxx) cxx=$2 ;;
        --generator) generator=$2 ;;
        --readme) readme=$2 ;;
      esac
      shift 2 ;;
    --list) list=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
done
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "--jobs: expected a positive integer, got '$jobs'"
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "--runs: expected a positive integer, got '$runs'"
[ -n "$build" ] || build=$src/build/planted
if [ -n "$readme" ]; then
  [ -z "$only" ] || die "--readme writes the whole catalogue: drop --only"
  [ -f "$readme" ] && [ -w "$readme" ] || die "--readme: cannot write '$readme' (no such file, or not writable)"
  readme=$(cd "$(dirname "$readme")" && pwd)/$(basename "$readme")
  readme_python=$(find_python sys) || die "--readme needs python3 (threadbench_results.blocks)"
  # Before the run, so a file without the block costs no run; blocks.py's one line says why.
  why=$(cd "$here" && "$readme_python" -m threadbench_results.blocks --check "$readme" catalogue 2>&1) ||
    die "--readme: ${why#*error: }"
fi
header=$src/include/threadbench/detail/planted.hpp
[ -f "$header" ] || die "no catalogue at $header"

# ---- the catalogue, from the header -------------------------------------------------------
declare -A bug_name=()
bug_numbers=()
while read -r name number; do
  bug_name[$number]=$name
  bug_numbers+=("$number")
done < <(sed -n 's/^ *\([a-z_]*\) = \([0-9]*\),.*/\1 \2/p' "$header" | awk '$2 > 0')
[ ${#bug_numbers[@]} -gt 0 ] || die "found no 'name = number,' entries of enum Bug in $header"

# ---- which test catches which bug -----------------------------------------------------------
# catcher N KIND TARGET LIMIT WHAT [VAR=VALUE...] ARGS...
#   KIND    gtest | stall (Release builds) | tsan (-fsanitize=thread build)
#   TARGET  the CMake target that is built and run (a unit test or a stress harness)
#   LIMIT   seconds the run may take before it is killed and the bug counts as NOT caught
#   WHAT    the test or scenario, as the table names it
#   VAR=VALUE  environment of the run (the test's mode)
#   ARGS    the catcher's arguments (a gtest filter; the harness's scenarios and flags)
# Each LIMIT is a few times the measured catch time; a hang bug is caught by the stall
# detector (3 s) or a unit test's progress watchdog (10 s without progress), never by LIMIT.
# The environment and the arguments are kept as words joined by $sep (split again in run).
sep=$'\x1f'
declare -A c_kind=() c_target=() c_limit=() c_what=() c_env=() c_args=()
catcher() {
  local n=$1 env=()
  c_kind[$n]=$2 c_target[$n]=$3 c_limit[$n]=$4 c_what[$n]=$5
  shift 5
  while [[ "${1:-}" =~ ^[A-Z_]+= ]]; do env+=("$1"); shift; done
  c_env[$n]=$(IFS=$sep; echo "${env[*]}")
  c_args[$n]=$(IFS=$sep; echo "$*")
}
# The bugs whose symptom is a hang (a lost wake-up): only for these does a stall detector's
# STALL or a unit test's DEADLINE (each naming what it waited for) count as caught.
declare -A hang=([5]=1 [6]=1 [7]=1 [8]=1 [9]=1 [18]=1)

pingpong=(--stall 3 --seconds 100)
catcher 1 tsan channel_stress 120 "fifo/cap8+cap1/plain" --only fifo/cap8/plain --only fifo/cap1/plain
catcher 2 tsan channel_stress 120 "fifo/unbounded/plain" --only fifo/unbounded/plain
catcher 3 tsan channel_stress 120 "fifo/cap8+cap1/plain" --only fifo/cap8/plain --only fifo/cap1/plain
catcher 4 tsan channel_stress 120 "fifo/unbounded/plain" --only fifo/unbounded/plain
catcher 5 stall channel_pingpong_stress 150 "pingpong/unbounded" "${pingpong[@]}" --only pingpong/unbounded
catcher 6 gtest channel_test 60 "BlockedReceiverWakesWhenLastSenderDrops" \
  "--gtest_filter=*BlockedReceiverWakesWhenLastSenderDrops*"
catcher 7 stall channel_pingpong_stress 150 "pingpong/cap1" "${pingpong[@]}" --only pingpong/cap1
# The lost wake-up of a missing park fence cannot happen on x86-64 with this channel: the
# sleeper registers with a locked RMW (count_.fetch_add, a full barrier there), and what its
# exact re-check reads was moved by a locked RMW of the notifier before the notifier reads
# count_ (the CAS on tail_ or head_: the exact probes see the claim and wait for the slot to
# be finished; the senders_ fetch_sub); ping-pong at -O3 passed 3.5 min of it. It can on ARM or POWER
# (and in the C++ model, which TSan does not apply to fences). What shows it here is the
# fence's own trace: with membarrier(2) refused after start, the first park's membarrier
# fails and the channel must switch to full fences (fences_switched_late()); a park that
# skips its fence never tries, and no_membarrier_main's set-up check fails (it parks a
# receiver in recv() for real, waits until the kernel shows it asleep, then looks).
catcher 8 gtest channel_test_no_membarrier 60 \
  "refuse-after-start.BlockedReceiverWakesWhenLastSenderDrops/unbounded (fence check)" \
  THREADBENCH_MEMBARRIER=refuse-after-start \
  "--gtest_filter=Channel/AllFlavours.BlockedReceiverWakesWhenLastSenderDrops/unbounded"
catcher 9 stall channel_pingpong_stress 150 "pingpong/unbounded" "${pingpong[@]}" --only pingpong/unbounded
catcher 10 gtest channel_test 60 "Channel.TrySendFullGivesValueBack" \
  "--gtest_filter=Channel.TrySendFullGivesValueBack"
catcher 11 gtest channel_test 60 "CloneKeepsTheChannelOpen" "--gtest_filter=*CloneKeepsTheChannelOpen*"
catcher 12 gtest channel_test 60 "BlockedSenderGetsValueBackWhenReceiverDrops/cap0" \
  "--gtest_filter=*BlockedSenderGetsValueBackWhenReceiverDrops/cap0"
catcher 13 gtest channel_test 60 "RendezvousSendReturnsOnlyAfterTheReceiverTookTheValue" \
  "--gtest_filter=Channel.RendezvousSendReturnsOnlyAfterTheReceiverTookTheValue"
catcher 14 gtest channel_test 60 "RecvForTimesOutWhenNothingArrives" \
  "--gtest_filter=*RecvForTimesOutWhenNothingArrives*"
catcher 15 tsan channel_stress 120 "fifo/unbounded/plain" --only fifo/unbounded/plain
catcher 16 tsan channel_lifetime_stress 120 "last_drop" --only last_drop
catcher 17 gtest channel_test 60 "UndeliveredMessagesAreDestroyedWithTheChannel" \
  "--gtest_filter=*UndeliveredMessagesAreDestroyedWithTheChannel*"
catcher 18 gtest channel_edges_test 60 "BurstOfFreedSlotsWakesEveryParkedSender" \
  "--gtest_filter=Edges.BurstOfFreedSlotsWakesEveryParkedSender"
# A peek without its guard reads a block that other consumers may have drained and freed
# meanwhile: bursts make consumers wait (and peek) while others drain; the scenario repeats
# for up to 20 s until TSan sees it (10 of 10 runs did within 0.6 s on the 2-vCPU VM).
# Stalling the peek inside its window (a test-only sleep, tried) caught it less often, not
# more: a freed block is soon reused, and a read of a reused block is no report.
catcher 19 tsan channel_stress 120 "bursts/unbounded (up to 20 s)" \
  --only bursts/unbounded --seconds 20

# Every bug of the header has a catcher, and every catcher a bug of the header.
for n in "${!c_kind[@]}"; do
  [ -n "${bug_name[$n]:-}" ] || die "scripts/planted_bugs.sh has a catcher for bug $n, which $header does not list"
done

selected=()
if [ -n "$only" ]; then
  IFS=, read -r -a want <<<"$only"
  for n in "${want[@]}"; do
    [ -n "${bug_name[$n]:-}" ] || die "--only: no bug '$n' in the catalogue (${bug_numbers[*]})"
    selected+=("$n")
  done
else
  selected=("${bug_numbers[@]}")
fi

if [ "$list" -eq 1 ]; then
  for n in "${selected[@]}"; do
    printf '%2s %-26s %-5s %-24s %s%s\n' "$n" "${bug_name[$n]}" "${c_kind[$n]:--}" \
      "${c_target[$n]:-(none)}" "${c_env[$n]:+${c_env[$n]//$sep/ } }" "${c_args[$n]//$sep/ }"
  done
  exit 0
fi

command -v cmake >/dev/null 2>&1 || die "cmake not found"
command -v timeout >/dev/null 2>&1 || die "timeout (coreutils) not found"
mkdir -p "$build"
build=$(cd "$build" && pwd)

# ---- the catalogue's two trees ---------------------------------------------------------------
# configure KIND DIR: every bug compiled in, chosen at run time; only what the catchers need
# (no benchmarks; no unit tests in the TSan tree). Re-running it on an existing tree is cheap.
configure() {
  local kind=$1 dir=$2
  local args=(-S "$src" -B "$dir" -G "$generator" -DCMAKE_CXX_COMPILER="$cxx"
              -DTHREADBENCH_PLANT_BUG=runtime -DTHREADBENCH_BUILD_BENCH=OFF)
  if [ "$kind" = tsan ]; then
    # THREADBENCH_SANITIZER stays empty: that setting asks for the TSan-built oneTBB, which
    # only the tsan stage builds; these catchers do not use TBB (see the header).
    args+=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DTHREADBENCH_BUILD_TESTS=OFF
           "-DCMAKE_CXX_FLAGS=-fsanitize=thread -fno-omit-frame-pointer -Wno-tsan"
           -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread)
  else
    args+=(-DCMAKE_BUILD_TYPE=Release -DTHREADBENCH_BUILD_TESTS=ON)
  fi
  cmake "${args[@]}"
}

# The tree of a catcher kind: gtest and stall catchers run in the Release tree.
tree_of() { if [ "$1" = tsan ]; then echo "$build/tsan"; else echo "$build/release"; fi; }

# The executable of TARGET in tree DIR (tests/ or stress/).
binary() {
  local dir=$1 target=$2
  if [ -x "$dir/tests/$target" ]; then echo "$dir/tests/$target"; else echo "$dir/stress/$target"; fi
}

# The sanitizer options of the tsan stage (stress/CMakeLists.txt): the first report ends the run.
tsan_options="suppressions=$src/tsan.supp:halt_on_error=1:second_deadlock_stack=1:history_size=4"
# What counts as caught, per kind (grep -E on the run's output). A stall or a progress
# watchdog counts only for a bug whose symptom is a hang (hang N above): for any other bug
# it would be a symptom of something else.
declare -A expect=(
  [gtest]='Failure$'
  [stall]='CHECK FAILED'
  [tsan]='WARNING: ThreadSanitizer|CHECK FAILED'
)
declare -A expect_hang=(
  [gtest]='Failure$|DEADLINE: '
  [stall]='STALL: |CHECK FAILED'
  [tsan]='WARNING: ThreadSanitizer|CHECK FAILED'
)

# run N BUG LOG: runs bug N's catcher with bug BUG live (0 = none: the control), output to
# LOG; sets r_rc, r_secs, and r_status (caught / NOT CAUGHT: why) with r_how (what the
# catcher reported).
run() {
  local n=$1 live=$2 log=$3 kind=${c_kind[$1]} dir
  local bin t0 t1 where pattern=${expect[$kind]}
  [ -n "${hang[$n]:-}" ] && pattern=${expect_hang[$kind]}
  dir=$(tree_of "$kind")
  bin=$(binary "$dir" "${c_target[$n]}")
  local cmd=("$bin") args=() env=()
  IFS=$sep read -r -a args <<<"${c_args[$n]}"
  IFS=$sep read -r -a env <<<"${c_env[$n]}"
  cmd+=("${args[@]}")
  # The harness options from the environment would change the sizes, and a time scale the
  # limits the catchers' own LIMITs are set against: flags only, scale 1.
  local env_cmd=(env -u THREADBENCH_STRESS_SECONDS -u THREADBENCH_STRESS_SCALE
                 -u THREADBENCH_STRESS_STALL -u THREADBENCH_STRESS_SOAK -u THREADBENCH_TIME_SCALE
                 "THREADBENCH_PLANTED_BUG=$live")
  [ "$kind" = tsan ] && env_cmd+=("TSAN_OPTIONS=$tsan_options")
  env_cmd+=("${env[@]}")
  t0=$(date +%s.%N)
  set +e
  timeout -k 5 "${c_limit[$n]}" "${env_cmd[@]}" "${cmd[@]}" >"$log" 2>&1
  r_rc=$?
  # GCC 12's TSan runtime dies at start on kernels with high ASLR entropy; setarch -R (ASLR
  # off for this process) cures that, as in cmake/TsanTbb.cmake.
  if [ "$kind" = tsan ] && grep -q 'unexpected memory mapping' "$log" && command -v setarch >/dev/null; then
    t0=$(date +%s.%N)
    timeout -k 5 "${c_limit[$n]}" "${env_cmd[@]}" setarch "$(uname -m)" -R "${cmd[@]}" >"$log" 2>&1
    r_rc=$?
  fi
  set -e
  t1=$(date +%s.%N)
  r_secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  r_how=""
  if [ "$r_rc" -eq 124 ] || [ "$r_rc" -eq 137 ]; then
    r_status="NOT CAUGHT: still running after its ${c_limit[$n]} s limit"
  elif grep -q -e 'no scenario matched --only' -e '^\[==========\] 0 tests from' \
              -e "STALL: .* phase 'start';" "$log"; then
    # A renamed test or scenario: the catcher ran nothing, whatever its exit code says (a
    # harness with --seconds and nothing to run stalls in its phase 'start').
    r_status="NOT CAUGHT: the catcher's filter matched no test or scenario (renamed?)"
  elif [ "$r_rc" -eq 0 ]; then
    r_status="NOT CAUGHT: the catcher passed"
  elif r_how=$(grep -m1 -E "$pattern" "$log"); then
    r_status=caught
    case "$r_how" in
      *"ThreadSanitizer"*)
        r_how=${r_how#WARNING: ThreadSanitizer: }
        r_how="TSan: ${r_how% (pid=*}"
        # Where in the channel: the report's first frame in include/threadbench.
        where=$(grep -m1 -o 'include/threadbench/[a-z/_]*\.hpp:[0-9]*' "$log" || true)
        [ -z "$where" ] || r_how="$r_how at ${where#include/threadbench/}" ;;
      *"STALL: "*) r_how="hang: stall detector (no progress for 3 s)" ;;
      *"DEADLINE: "*) r_how="hang: progress watchdog (${r_how#*: no progress for }"
                      r_how="${r_how%% (stall limit*} without progress)" ;;
      *"CHECK FAILED"*) r_how="failed check: ${r_how#*CHECK FAILED at }" ;;
      *Failure) r_how="failed assertion (${r_how##*/})" ;;
    esac
  else
    r_status="NOT CAUGHT: exit $r_rc without the expected report (see $log)"
  fi
}

# ---- build the trees ---------------------------------------------------------------------------
say "planted-bug catalogue: ${#selected[@]} bug(s) x $runs run(s), trees under $build, make -j$jobs"
t_all=$SECONDS
declare -A targets=() built=()
for n in "${selected[@]}"; do
  [ -n "${c_kind[$n]:-}" ] || continue
  k=$(tree_of "${c_kind[$n]}")
  targets[$k]="${targets[$k]:-} ${c_target[$n]}"
done
for dir in "${!targets[@]}"; do
  kind=release
  [ "$dir" = "$build/tsan" ] && kind=tsan
  # shellcheck disable=SC2086  # the target list is words
  read -r -a want <<<"$(printf '%s\n' ${targets[$dir]} | sort -u | tr '\n' ' ')"
  say "build $dir ($kind, every bug chosen at run time): ${want[*]}"
  tb=$SECONDS
  mkdir -p "$dir"
  if configure "$kind" "$dir" >"$dir/build.log" 2>&1 &&
     cmake --build "$dir" --target "${want[@]}" -j "$jobs" >>"$dir/build.log" 2>&1; then
    built[$dir]=1
    say "built $dir in $((SECONDS - tb)) s"
  else
    tail -n 20 "$dir/build.log" >&2
    say "build of $dir FAILED (see $dir/build.log)"
  fi
done
build_secs=$((SECONDS - t_all))

# ---- the catalogue -------------------------------------------------------------------------
table=$build/catalogue.md
rows=()
missed=()
for n in "${selected[@]}"; do
  name=${bug_name[$n]}
  if [ -z "${c_kind[$n]:-}" ]; then
    missed+=("$n $name (no catcher in scripts/planted_bugs.sh)")
    rows+=("| $n $name | (none) | NOT CAUGHT: no catcher | |")
    say "bug $n ($name): NOT CAUGHT: no catcher in scripts/planted_bugs.sh"
    continue
  fi
  kind=${c_kind[$n]} target=${c_target[$n]}
  by="$target ${c_what[$n]}"
  [ "$kind" = tsan ] && by="$by (TSan)"
  [ "$kind" = stall ] && by="$by (-O3, stall detector)"
  if [ -z "${built[$(tree_of "$kind")]:-}" ]; then
    missed+=("$n $name (catcher $target did not build: $(tree_of "$kind")/build.log)")
    rows+=("| $n $name | $by | catcher did not build | |")
    continue
  fi
  caught=0 how="" lo="" hi="" status=""
  mkdir -p "$build/logs"
  for ((r = 1; r <= runs; r++)); do
    log=$build/logs/bug$n.run$r.log
    run "$n" "$n" "$log"
    lo=$(awk -v a="${lo:-$r_secs}" -v b="$r_secs" 'BEGIN { print (b < a ? b : a) }')
    hi=$(awk -v a="${hi:-$r_secs}" -v b="$r_secs" 'BEGIN { print (b > a ? b : a) }')
    if [ "$r_status" = caught ]; then
      caught=$((caught + 1))
      [ -n "$how" ] || how=$r_how
    else
      status=$r_status
      say "bug $n ($name): run $r of $runs: $r_status"
      tail -n 5 "$log" | sed 's/^/    /'
    fi
  done
  secs=$lo
  [ "$runs" -eq 1 ] || secs="$lo-$hi"
  if [ "$caught" -eq "$runs" ]; then
    say "bug $n ($name): caught by $by in $runs of $runs run(s), ${secs} s: $how"
    rows+=("| $n $name | $by | $how | $secs |")
  else
    missed+=("$n $name (caught in $caught of $runs runs; ${status#NOT CAUGHT: })")
    rows+=("| $n $name | $by | caught in $caught of $runs runs: ${status} | $secs |")
  fi
done

# ---- control: the gtest and TSan catchers pass with no bug live ------------------------------
control_failed=()
declare -A seen=()
for n in "${selected[@]}"; do
  kind=${c_kind[$n]:-}
  [ "$kind" = tsan ] || [ "$kind" = gtest ] || continue
  [ -n "${built[$(tree_of "$kind")]:-}" ] || continue
  key="$kind ${c_target[$n]} ${c_env[$n]} ${c_args[$n]}"
  [ -z "${seen[$key]:-}" ] || continue
  seen[$key]=1
  log=$build/logs/control.bug$n.log
  run "$n" 0 "$log"
  if [ "$r_rc" -ne 0 ]; then
    tail -n 20 "$log" | sed 's/^/    /'
    control_failed+=("${c_target[$n]} ${c_what[$n]} ($kind) FAILED with no bug live (exit $r_rc): its reports cannot be told from a planted bug's")
  fi
done
[ ${#control_failed[@]} -gt 0 ] || say "control: ${#seen[@]} gtest/TSan catcher(s) passed with no bug live"

{
  echo "| planted bug | caught by | how | catch s |"
  echo "|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} >"$table"
echo
echo "planted bug -> caught by -> seconds (catch s: the catcher's run from start until it failed;"
echo "min-max over $runs run(s); the two trees took $build_secs s to configure and build)"
cat "$table"
echo
for c in "${control_failed[@]}"; do echo "planted_bugs.sh: CONTROL FAILED: $c" >&2; done
for m in "${missed[@]}"; do echo "planted_bugs.sh: NOT CAUGHT: bug $m" >&2; done
caught=$((${#selected[@]} - ${#missed[@]}))
summary="$caught of ${#selected[@]} planted bug(s) caught in every one of $runs run(s), ${#missed[@]} NOT CAUGHT or not built"
if [ ${#missed[@]} -gt 0 ] || [ ${#control_failed[@]} -gt 0 ]; then
  say "$summary; ${#control_failed[@]} control(s) failed, in $((SECONDS - t_all)) s"
  exit 1
fi
say "$summary, in $((SECONDS - t_all)) s (table: $table)"
if [ -n "$readme" ]; then
  # What the table is, where and when it was measured, then the table.
  commit=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)
  git -C "$src" diff --quiet HEAD -- include 2>/dev/null || commit="$commit (with uncommitted changes under include/)"
  {
    echo "Written by \`scripts/planted_bugs.sh --runs $runs --readme\` at commit $commit on"
    echo "$(tb_cpu_model) ($(tb_cores) CPUs), $(date -u +%Y-%m-%d), load average ${load_start%% *} at the start: all"
    echo "${#selected[@]} bugs caught in each of $runs run(s), $((SECONDS - t_all)) s in all including $build_secs s to"
    echo "configure and build both trees. **catch s** is the catcher's run from start until it"
    echo "failed, min-max over the runs."
    echo
    cat "$table"
  } | (cd "$here" && "$readme_python" -m threadbench_results.blocks "$readme" catalogue) ||
    die "--readme: $readme was not changed"
  say "wrote the table into $readme (block catalogue)"
fi
