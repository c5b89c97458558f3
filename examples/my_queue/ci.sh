#!/usr/bin/env bash
# examples/my_queue/ci.sh: what CI runs for this example (scripts/test.sh, stage example).
#
#   examples/my_queue/ci.sh [BUILD_ROOT]     (default: build, inside the repository)
#
# 1. BUILD_ROOT/example-release: the release preset with
#    -DTHREADBENCH_CONTENDERS=examples/my_queue/spsc_ring_adapter.hpp; builds channel_bench
#    and contender_stress only.
# 2. BUILD_ROOT/example-tsan: the tsan preset (it needs the TSan-built oneTBB of
#    scripts/build_tsan_tbb.sh) with both example headers; builds contender_stress only.
# 3. BUILD_ROOT/example: the tests of examples/my_queue/CMakeLists.txt over those binaries
#    (label example), run by ctest: my_spsc_ring's benchmarks in smoke mode, its stress run
#    at -O3 and under TSan, and my_racy_ring's stress run, which must FAIL with a TSan data
#    race report.
# Any failure prints one line and exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

[ $# -le 1 ] || die "usage: examples/my_queue/ci.sh [BUILD_ROOT]"
root=${1:-build}
mkdir -p "$root" || die "cannot create $root"
root=$(cd "$root" && pwd)
ex=examples/my_queue
jobs=$(tb_jobs)

say "configure $root/example-release (release preset, THREADBENCH_CONTENDERS=$ex/spsc_ring_adapter.hpp)"
cmake --preset release -B "$root/example-release" \
  -DTHREADBENCH_CONTENDERS="$ex/spsc_ring_adapter.hpp" >/dev/null ||
  die "configure of $root/example-release failed"
cmake --build "$root/example-release" -j "$jobs" --target channel_bench contender_stress ||
  die "build of $root/example-release failed"

say "configure $root/example-tsan (tsan preset, THREADBENCH_CONTENDERS=$ex/spsc_ring_adapter.hpp;$ex/racy_adapter.hpp)"
cmake --preset tsan -B "$root/example-tsan" \
  -DTHREADBENCH_CONTENDERS="$ex/spsc_ring_adapter.hpp;$ex/racy_adapter.hpp" >/dev/null ||
  die "configure of $root/example-tsan failed (the TSan-built oneTBB: scripts/build_tsan_tbb.sh)"
cmake --build "$root/example-tsan" -j "$jobs" --target contender_stress ||
  die "build of $root/example-tsan failed"

say "configure the example's tests in $root/example and run them"
cmake -S "$ex" -B "$root/example" -DTHREADBENCH_RELEASE_BUILD="$root/example-release" \
  -DTHREADBENCH_TSAN_BUILD="$root/example-tsan" >/dev/null ||
  die "configure of $root/example failed"
ctest --test-dir "$root/example" -L example -j "$jobs" --output-on-failure --no-tests=error ||
  die "the example's tests failed"
