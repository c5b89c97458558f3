#!/usr/bin/env bash
# scripts/planted_bugs.sh: proves the suite catches every bug of the planted-bug catalogue.
#
# include/threadbench/detail/planted.hpp lists realistic channel bugs (enum Bug); a build
# with -DTHREADBENCH_PLANT_BUG=<n> compiles exactly bug n in. For each bug this script
# configures its own build tree (<build>/<n>, configured once, rebuilt incrementally),
# builds only the one target that catches it, runs only the catching test or scenario with
# a deadline of its own, and requires that it FAILS in the way that names the bug class:
#   gtest    a failed assertion ("Failure") of a unit test, in a Release build;
#   stall    a failed check of a stress harness, in an uninstrumented Release build (-O3)
#            with --stall 3, the value the release stage runs the same harness with;
#   tsan     a ThreadSanitizer report or a failed check, in a -fsanitize=thread build;
# and, only for the bugs whose symptom is a hang (a lost wake-up), the harness's stall
# detector ("STALL:", with the stuck counters) or a unit test's own step deadline
# ("DEADLINE: ... still waiting for <what>"): never the run's outer time limit.
# A run that passes, is killed at its deadline, or fails in some other way (a crash with
# no report) is NOT CAUGHT. The TSan variants link Debian's (uninstrumented) oneTBB: the
# catchers used here never call TBB, so no TSan-built oneTBB is needed; a control run of
# the same TSan catchers on a clean build (<build>/clean-tsan) must pass, so a report can
# only come from the planted bug. (The gtest and stall catchers are the release stage's own
# binaries and flags, which it runs clean.)
#
# Prints, and writes to <build>/catalogue.md, the table
#   planted bug -> caught by -> seconds
# and exits 1 naming every bug that was not caught or whose catcher did not build.
#
# Usage: scripts/planted_bugs.sh [--build DIR] [--only N[,N...]] [--jobs N] [--source DIR]
#                                [--cxx COMPILER] [--generator NAME] [--list]
#   --build DIR      where the per-bug trees go (default: build/planted)
#   --only N,...     just these bugs (default: every bug in the catalogue)
#   --jobs N         make jobs per build (default: nproc)
#   --source DIR     the threadbench source tree (default: this script's repository)
#   --cxx, --generator   compiler and CMake generator of the per-bug builds (g++, Unix Makefiles)
#   --list           print each bug's catcher and exit
# ctest runs it as catalogue.planted_bugs (label catalogue; cmake/PlantedBugs.cmake).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
source "$here/lib.sh"

src=$(cd "$here/.." && pwd)
build=""
only=""
jobs=$(tb_jobs)
cxx=g++
generator="Unix Makefiles"
list=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build|--only|--jobs|--source|--cxx|--generator)
      if [ $# -lt 2 ] || [ -z "$2" ] || [[ "$2" == --* ]]; then die "$1 needs a value"; fi
      case "$1" in
        --build) build=$2 ;;
        --only) only=$2 ;;
        --jobs) jobs=$2 ;;
        --source) src=$(cd "$2" 2>/dev/null && pwd) || die "--source: no such folder '$2'" ;;
        --cxx) cxx=$2 ;;
        --generator) generator=$2 ;;
      esac
      shift 2 ;;
    --list) list=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
done
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "--jobs: expected a positive integer, got '$jobs'"
[ -n "$build" ] || build=$src/build/planted
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
# detector (3 s) or a unit test's step deadline (5 s), never by LIMIT.
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

pingpong=(--stall 3 --seconds 30)
catcher 1 tsan channel_stress 120 "fifo/cap8+cap1/plain" --only fifo/cap8/plain --only fifo/cap1/plain
catcher 2 tsan channel_stress 120 "fifo/unbounded/plain" --only fifo/unbounded/plain
catcher 3 tsan channel_stress 120 "fifo/cap8+cap1/plain" --only fifo/cap8/plain --only fifo/cap1/plain
catcher 4 tsan channel_stress 120 "fifo/unbounded/plain" --only fifo/unbounded/plain
catcher 5 stall channel_pingpong_stress 60 "pingpong/unbounded" "${pingpong[@]}" --only pingpong/unbounded
catcher 6 gtest channel_test 60 "BlockedReceiverWakesWhenLastSenderDrops" \
  "--gtest_filter=*BlockedReceiverWakesWhenLastSenderDrops*"
catcher 7 stall channel_pingpong_stress 60 "pingpong/cap1" "${pingpong[@]}" --only pingpong/cap1
# The lost wake-up of a missing park fence cannot happen on x86-64 with this channel: the
# sleeper registers with a locked RMW (count_.fetch_add, a full barrier there), and what its
# exact re-check reads was moved by a locked RMW of the notifier before the notifier reads
# count_ (the CAS on tail_ or head_: the exact probes see the claim and wait for the slot to
# be finished; the senders_ fetch_sub); ping-pong at -O3 passed 3.5 min of it. It can on ARM or POWER
# (and in the C++ model, which TSan does not apply to fences). What shows it here is the
# fence's own trace: with membarrier(2) refused after start, the first park's membarrier
# fails and the channel must switch to full fences (fences_switched_late()); a park that
# skips its fence never tries, and no_membarrier_main's end-of-suite check fails.
catcher 8 gtest channel_test_no_membarrier 60 \
  "refuse-after-start.BlockedReceiverWakesWhenLastSenderDrops/unbounded (fence check)" \
  THREADBENCH_MEMBARRIER=refuse-after-start \
  "--gtest_filter=Channel/AllFlavours.BlockedReceiverWakesWhenLastSenderDrops/unbounded"
catcher 9 stall channel_pingpong_stress 60 "pingpong/unbounded" "${pingpong[@]}" --only pingpong/unbounded
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

# ---- per-bug configure and build -------------------------------------------------------------
# configure N KIND DIR: bug N (0 = none) in tree DIR; only what the catcher needs (no
# benchmarks; no unit tests in the TSan tree). Re-running it on an existing tree is cheap.
configure() {
  local n=$1 kind=$2 dir=$3
  local args=(-S "$src" -B "$dir" -G "$generator" -DCMAKE_CXX_COMPILER="$cxx"
              -DTHREADBENCH_PLANT_BUG="$n" -DTHREADBENCH_BUILD_BENCH=OFF)
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

# The executable of TARGET in tree DIR (tests/ or stress/).
binary() {
  local dir=$1 target=$2
  if [ -x "$dir/tests/$target" ]; then echo "$dir/tests/$target"; else echo "$dir/stress/$target"; fi
}

# The sanitizer options of the tsan stage (stress/CMakeLists.txt): the first report ends the run.
tsan_options="suppressions=$src/tsan.supp:halt_on_error=1:second_deadlock_stack=1:history_size=4"
# What counts as caught, per kind (grep -E on the run's output). A stall or a step deadline
# counts only for a bug whose symptom is a hang (hang N below): for any other bug it would
# be a symptom of something else.
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

# run N DIR: runs bug N's catcher from tree DIR (log: DIR/catcher.log); sets r_rc, r_secs,
# and r_status (caught / NOT CAUGHT: why) with r_how (what the catcher reported).
run() {
  local n=$1 dir=$2 kind=${c_kind[$1]} log=$2/catcher.log
  local bin t0 t1 where pattern=${expect[$kind]}
  [ -n "${hang[$n]:-}" ] && pattern=${expect_hang[$kind]}
  bin=$(binary "$dir" "${c_target[$n]}")
  local cmd=("$bin") args=() env=()
  IFS=$sep read -r -a args <<<"${c_args[$n]}"
  IFS=$sep read -r -a env <<<"${c_env[$n]}"
  cmd+=("${args[@]}")
  # The harness options from the environment would change the sizes: flags only.
  local env_cmd=(env -u THREADBENCH_STRESS_SECONDS -u THREADBENCH_STRESS_SCALE
                 -u THREADBENCH_STRESS_STALL -u THREADBENCH_STRESS_SOAK)
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
      *"DEADLINE: "*) r_how="hang: step deadline (${r_how#*still waiting after })" ;;
      *"CHECK FAILED"*) r_how="failed check: ${r_how#*CHECK FAILED at }" ;;
      *Failure) r_how="failed assertion (${r_how##*/})" ;;
    esac
  else
    r_status="NOT CAUGHT: exit $r_rc without the expected report (see $log)"
  fi
}

# build_tree N KIND TARGET DIR: configure and build; false (log in DIR/build.log) on failure.
build_tree() {
  mkdir -p "$4"
  configure "$1" "$2" "$4" >"$4/build.log" 2>&1 &&
    cmake --build "$4" --target "$3" -j "$jobs" >>"$4/build.log" 2>&1
}

# ---- the catalogue -------------------------------------------------------------------------
say "planted-bug catalogue: ${#selected[@]} bug(s), trees under $build, make -j$jobs"
table=$build/catalogue.md
rows=()
missed=()
t_all=$SECONDS
for n in "${selected[@]}"; do
  name=${bug_name[$n]}
  if [ -z "${c_kind[$n]:-}" ]; then
    missed+=("$n $name (no catcher in scripts/planted_bugs.sh)")
    rows+=("| $n $name | (none) | NOT CAUGHT: no catcher | | |")
    say "bug $n ($name): NOT CAUGHT: no catcher in scripts/planted_bugs.sh"
    continue
  fi
  kind=${c_kind[$n]} target=${c_target[$n]}
  by="$target ${c_what[$n]}"
  [ "$kind" = tsan ] && by="$by (TSan)"
  [ "$kind" = stall ] && by="$by (-O3, stall detector)"
  say "bug $n ($name): build $target ($kind)"
  tb=$SECONDS
  if ! build_tree "$n" "$kind" "$target" "$build/$n"; then
    tail -n 20 "$build/$n/build.log" >&2
    missed+=("$n $name (catcher $target did not build: $build/$n/build.log)")
    rows+=("| $n $name | $by | catcher did not build | $((SECONDS - tb)) | |")
    say "bug $n ($name): catcher $target did not build (see $build/$n/build.log)"
    continue
  fi
  build_secs=$((SECONDS - tb))
  run "$n" "$build/$n"
  if [ "$r_status" = caught ]; then
    say "bug $n ($name): caught by $by in ${r_secs} s: $r_how"
    rows+=("| $n $name | $by | $r_how | $build_secs | ${r_secs} |")
  else
    say "bug $n ($name): $r_status"
    tail -n 5 "$build/$n/catcher.log" | sed 's/^/    /'
    missed+=("$n $name (${r_status#NOT CAUGHT: })")
    rows+=("| $n $name | $by | $r_status | $build_secs | ${r_secs} |")
  fi
done

# ---- control: the TSan catchers pass on a clean build of the same configuration -----------
control_failed=()
declare -A seen=()
for n in "${selected[@]}"; do
  [ "${c_kind[$n]:-}" = tsan ] || continue
  key="${c_target[$n]} ${c_args[$n]}"
  [ -z "${seen[$key]:-}" ] || continue
  seen[$key]=1
  dir=$build/clean-tsan
  say "control: ${c_target[$n]} ${c_what[$n]} (TSan) on a clean build must pass"
  if ! build_tree 0 tsan "${c_target[$n]}" "$dir"; then
    tail -n 20 "$dir/build.log" >&2
    control_failed+=("${c_target[$n]} did not build (clean, TSan): $dir/build.log")
    continue
  fi
  run "$n" "$dir"
  if [ "$r_rc" -ne 0 ]; then
    tail -n 20 "$dir/catcher.log" | sed 's/^/    /'
    control_failed+=("${c_target[$n]} ${c_what[$n]} (TSan) FAILED on the clean build (exit $r_rc): its reports cannot be told from a planted bug's")
  else
    say "control: passed in ${r_secs} s"
  fi
done

{
  echo "| planted bug | caught by | how | build s | catch s |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} >"$table"
echo
echo "planted bug -> caught by -> seconds (build s: configure + build of the catcher's tree;"
echo "catch s: the catcher's run, from start until it failed)"
cat "$table"
echo
for c in "${control_failed[@]}"; do echo "planted_bugs.sh: CONTROL FAILED: $c" >&2; done
for m in "${missed[@]}"; do echo "planted_bugs.sh: NOT CAUGHT: bug $m" >&2; done
caught=$((${#selected[@]} - ${#missed[@]}))
summary="$caught of ${#selected[@]} planted bug(s) caught, ${#missed[@]} NOT CAUGHT or not built"
if [ ${#missed[@]} -gt 0 ] || [ ${#control_failed[@]} -gt 0 ]; then
  say "$summary; ${#control_failed[@]} control(s) failed, in $((SECONDS - t_all)) s"
  exit 1
fi
say "$summary, in $((SECONDS - t_all)) s (table: $table)"
