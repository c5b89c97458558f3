#!/usr/bin/env bash
# scripts/test.sh: every test threadbench has, the way CI runs them.
#
#   ./scripts/test.sh            all stages: release, tsan, asan, example, busy
#   ./scripts/test.sh release    unit tests, bench smoke runs, script tests (Release build),
#                                the planted-bug catalogue, the instruction-count gate
#                                (valgrind), bench.sh --pack in a clean environment, the Rust
#                                and Go peers
#   ./scripts/test.sh tsan       stress harnesses + canaries under ThreadSanitizer, against a
#                                oneTBB built with TBB_SANITIZE=thread (scripts/build_tsan_tbb.sh)
#   ./scripts/test.sh asan       unit tests + stress under AddressSanitizer/UBSan + canary
#   ./scripts/test.sh example    examples/my_queue (a user's queue added by one adapter header,
#                                -DTHREADBENCH_CONTENDERS): its benchmarks in smoke mode, its
#                                stress at -O3 and under TSan, and a racy variant the stress
#                                harness must fail on (examples/my_queue/ci.sh, build/example*)
#   ./scripts/test.sh busy       the release unit tests and stress harnesses again, with
#                                cpu_burner (tests/cpu_burner.cpp) keeping two threads per CPU
#                                busy beside them, in the tests' own session and scheduling
#                                group: the checks must hold on a busy machine
#
# Each stage prints one line per step with its time (build output goes to
# build/logs/<stage>.build.log, shown only when the build fails), ctest's own lines, and the
# stage's time; the run closes with a table of the stages and one count over all of them.
# Expected times on the 2-vCPU VM, quiet machine, packages already installed, fresh clone
# (README.md, "Tests"): release about 6 min, tsan 2.5, asan 5, example 1, busy 2: all of it
# 16-20 min. Installs the Debian packages it needs (apt-get; sudo when not root) and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

all_stages=(release tsan asan example busy)
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=("${all_stages[@]}")
for s in "${stages[@]}"; do
  case "$s" in
    release|tsan|asan|example|busy) ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) die "unknown stage '$s' (expected: ${all_stages[*]})" ;;
  esac
done

ensure_packages "${TB_BUILD_PACKAGES[@]}" "${TB_PYTHON_PACKAGES[@]}" dpkg-dev
jobs=$(tb_jobs)
mkdir -p build/logs
log=$(mktemp)
burner_pid=""
stop_burner() {
  if [ -n "$burner_pid" ]; then
    kill "$burner_pid" 2>/dev/null || true
    wait "$burner_pid" 2>/dev/null || true
    burner_pid=""
  fi
}
trap 'stop_burner; rm -f "$log"' EXIT

summary=()  # "stage|tests|seconds"
# ctest's "N tests passed, 0 tests failed out of M" of the run just logged to $1.
tests_in() { sed -n 's/.*tests passed, [0-9]* tests failed out of \([0-9]*\).*/\1/p' "$1" | tail -1; }

# build PRESET [TARGET...]: configure and build, output to build/logs/PRESET.build.log; one
# line with the time, or the log's tail and a non-zero exit when it fails.
build() {
  local preset=$1 t0=$SECONDS blog=build/logs/$1.build.log
  shift
  local targets=()
  [ $# -eq 0 ] || targets=(--target "$@")
  say "  build ($preset): configure and make -j$jobs ${*:-all targets} (log: $blog)"
  if ! { cmake --preset "$preset" && cmake --build --preset "$preset" -j "$jobs" "${targets[@]}"; } >"$blog" 2>&1; then
    tail -n 40 "$blog" >&2
    die "build ($preset) failed (whole log: $blog)"
  fi
  say "  build ($preset): done in $((SECONDS - t0)) s ($(grep -c 'Building CXX' "$blog" || true) files compiled)"
}

# run_ctest STAGE ARGS...: ctest with ARGS; its lines go to the terminal and the stage log.
run_ctest() {
  local stage=$1 slog=build/logs/$1.ctest.log t0=$SECONDS
  shift
  if ! ctest "$@" -j "$jobs" 2>&1 | tee "$slog" | tee -a "$log"; then
    die "tests ($stage) failed (log: $slog)"
  fi
  say "  tests ($stage): $(tests_in "$slog") passed in $((SECONDS - t0)) s"
}

stage_release() {
  ensure_packages valgrind  # the instruction-count gate (bench.icount_*) finds it when cmake configures
  ensure_peer_toolchains
  build release
  run_ctest release --preset release
}
stage_tsan() {
  ./scripts/build_tsan_tbb.sh
  build tsan
  run_ctest tsan --preset tsan
}
stage_asan() {
  build asan
  run_ctest asan --preset asan
}
# The example's own builds and ctest run (label example); its ctest lines join the count.
stage_example() {
  ./scripts/build_tsan_tbb.sh
  local elog=build/logs/example.log
  if ! examples/my_queue/ci.sh build 2>&1 | tee "$elog" | tee -a "$log"; then
    die "example (examples/my_queue) failed (log: $elog)"
  fi
  cp "$elog" build/logs/example.ctest.log
}
# The release unit tests and stress harnesses with cpu_burner beside them. Only the tests
# that measure a check, not a speed: labels unit and stress (not bench, scripts, catalogue).
stage_busy() {
  build release
  # The burner shares the tests' scheduling group (no setsid): the worst case, a CI runner
  # whose jobs share one group (autogroup off or one cgroup), where every CPU-bound thread
  # gets the same share as a test's. The tests ask for short time slices
  # (include/threadbench/kit/short_slices.hpp): without them each hand-off waited for a
  # burner's ~3 ms slice and litmus_stress and channel_stress passed ctest's 300 s.
  local me=$BASHPID  # this shell, the burner's parent (read here: a forked child has its own)
  build/release/tests/cpu_burner --seconds 1800 --parent "$me" &
  burner_pid=$!
  sleep 2
  kill -0 "$burner_pid" 2>/dev/null || die "cpu_burner did not keep running: the busy stage would run on a quiet machine"
  say "  cpu_burner (pid $burner_pid) is running; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  run_ctest busy --test-dir build/release -L '^(unit|stress)$' --output-on-failure --no-tests=error
  kill -0 "$burner_pid" 2>/dev/null || die "cpu_burner stopped before the tests ended: the busy stage was not busy throughout"
  stop_burner
}
t_all=$SECONDS
for s in "${stages[@]}"; do
  say "== stage $s =="
  t0=$SECONDS
  "stage_$s"
  summary+=("$s|$(tests_in "build/logs/$s.ctest.log")|$((SECONDS - t0))")
  say "== stage $s passed in $((SECONDS - t0)) s =="
done

echo
echo "stage     tests  seconds"
total=0
for row in "${summary[@]}"; do
  IFS='|' read -r name n secs <<<"$row"
  printf '%-8s %6s %8s\n' "$name" "${n:-0}" "$secs"
  total=$((total + ${n:-0}))
done
printf '%-8s %6s %8s\n' "all" "$total" "$((SECONDS - t_all))"
say "all stages (${stages[*]}) passed in $((SECONDS - t_all)) s"
# One closing line over every stage, from ctest's own "... out of N" lines.
echo "test.sh: ${total} passed, 0 failed"
