#!/usr/bin/env bash
# scripts/test.sh: every test threadbench has, the way CI runs them.
#
#   ./scripts/test.sh            all stages: release, tsan, asan, example
#   ./scripts/test.sh release    unit tests, bench smoke runs, script tests (Release build),
#                                the instruction-count gate (valgrind), bench.sh --pack in a
#                                clean environment, the Rust and Go peers
#   ./scripts/test.sh tsan       stress harnesses + canaries under ThreadSanitizer, against a
#                                oneTBB built with TBB_SANITIZE=thread (scripts/build_tsan_tbb.sh)
#   ./scripts/test.sh asan       unit tests + stress under AddressSanitizer/UBSan + canary
#   ./scripts/test.sh example    examples/my_queue (a user's queue added by one adapter header,
#                                -DTHREADBENCH_CONTENDERS): its benchmarks in smoke mode, its
#                                stress at -O3 and under TSan, and a racy variant the stress
#                                harness must fail on (examples/my_queue/ci.sh, build/example*)
#
# Installs the Debian packages it needs (apt-get; sudo when not root) and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(release tsan asan example)
for s in "${stages[@]}"; do
  case "$s" in
    release|tsan|asan|example) ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) die "unknown stage '$s' (expected: release, tsan, asan, example)" ;;
  esac
done

ensure_packages "${TB_BUILD_PACKAGES[@]}" "${TB_PYTHON_PACKAGES[@]}" dpkg-dev
jobs=$(tb_jobs)
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_stage() {
  local preset=$1 t0=$SECONDS
  say "== stage $preset: configure, build, test =="
  cmake --preset "$preset" >/dev/null || die "configure ($preset) failed"
  cmake --build --preset "$preset" -j "$jobs" || die "build ($preset) failed"
  ctest --preset "$preset" -j "$jobs" 2>&1 | tee -a "$log" || die "tests ($preset) failed"
  say "== stage $preset passed in $((SECONDS - t0)) s =="
}

# The example's own builds and ctest run (label example); its ctest lines join the count.
run_example() {
  local t0=$SECONDS
  say "== stage example: examples/my_queue through -DTHREADBENCH_CONTENDERS =="
  examples/my_queue/ci.sh build 2>&1 | tee -a "$log" || die "example (examples/my_queue) failed"
  say "== stage example passed in $((SECONDS - t0)) s =="
}

t_all=$SECONDS
for s in "${stages[@]}"; do
  case "$s" in
    # valgrind: the instruction-count gate (bench.icount_*) finds it when cmake configures.
    release) ensure_packages valgrind; ensure_peer_toolchains; run_stage release ;;
    tsan) ./scripts/build_tsan_tbb.sh; run_stage tsan ;;
    asan) run_stage asan ;;
    example) ./scripts/build_tsan_tbb.sh; run_example ;;
  esac
done
say "all stages (${stages[*]}) passed in $((SECONDS - t_all)) s"
# One closing line over every stage, from ctest's own "... out of N" lines.
total=$(sed -n 's/.*tests passed, [0-9]* tests failed out of \([0-9]*\).*/\1/p' "$log" |
        awk '{n += $1} END {print n + 0}')
echo "test.sh: ${total} passed, 0 failed"
