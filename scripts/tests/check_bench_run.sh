#!/usr/bin/env bash
# scripts/tests/check_bench_run.sh: the ctest test of how a bench.sh run survives (scripts.bench_run,
# label scripts).
#
#   scripts/tests/check_bench_run.sh BIN_DIR PYTHON
#
# Every run writes into a temporary THREADBENCH_RESULTS_DIR, never into results/. Proves:
#   1. a complete run (the first row of BIN_DIR's spawn_join_bench, options written as
#      --option=value) writes NAME/ with report.md, prints its rows done, leaves no .tmp-
#      folder, and removes an earlier attempt's NAME.partial;
#   2. while a run writes NAME, a second run into NAME refuses with one line naming the
#      first run's pid, and touches nothing;
#   3. TERM stops the run, the benchmark it runs and that benchmark's own child (its whole
#      process tree), and keeps what was written in NAME.partial;
#   4. INT does the same for a run started in the background by a script (which inherits
#      SIGINT ignored), and its NAME.partial replaces the one the attempt before left;
#   5. an unwritable results folder fails before anything runs, with one line.
# The slow benchmark of 2-4 is a stand-in that sleeps (in a child of its own) until stopped.
# Waits poll for progress with generous limits: a slow machine only makes the test slower.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -eq 2 ] || { echo "usage: $0 BIN_DIR PYTHON" >&2; exit 2; }
bin_dir=$1 py=$2
fail() { echo "FAILED: $*" >&2; exit 1; }
tmp=$(mktemp -d)
pids_to_kill=()
cleanup() {
  local p
  for p in ${pids_to_kill[@]+"${pids_to_kill[@]}"} $(cat "$tmp/fake.pids" 2>/dev/null); do
    kill -KILL "$p" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
export THREADBENCH_RESULTS_DIR=$tmp/results TB_PYTHON=$py

# wait_for WHAT SECONDS CMD...: poll CMD every 0.2 s until it succeeds, or fail after SECONDS.
wait_for() {
  local what=$1 limit=$2 i
  shift 2
  for ((i = 0; i < limit * 5; i++)); do "$@" && return 0; sleep 0.2; done
  fail "$what: not after $limit s"
}
gone() { ! kill -0 "$1" 2>/dev/null; }
all_gone() { local p; for p in $(cat "$tmp/fake.pids"); do gone "$p" || return 1; done; }

# ---- 1. a complete run ----
first=$("$bin_dir/spawn_join_bench" --benchmark_list_tests | sed -n 1p)
mkdir -p "$tmp/results/ok.partial"
echo "an earlier attempt" >"$tmp/results/ok.partial/marker"
./scripts/bench.sh --no-build --bin-dir="$bin_dir" --no-peers --quick --repetitions=1 \
  --filter="^${first}\$" --out=ok >"$tmp/ok.out" 2>&1 || { cat "$tmp/ok.out"; fail "the complete run failed"; }
[ -f "$tmp/results/ok/report.md" ] && [ -f "$tmp/results/ok/spawn_join_bench.json" ] ||
  fail "the complete run wrote no report.md and spawn_join_bench.json: $(ls -A "$tmp/results/ok")"
grep -q 'spawn_join_bench: 1 rows' "$tmp/ok.out" || fail "the run did not say how many rows it runs: $(cat "$tmp/ok.out")"
[ ! -e "$tmp/results/.tmp-ok" ] || fail "the complete run left results/.tmp-ok"
[ ! -e "$tmp/results/ok.partial" ] || fail "the complete run left the earlier attempt's ok.partial"
echo "ok: a complete run writes its folder, says its rows, removes an older partial run"

# ---- the stand-in: a slow benchmark whose process tree is recorded ----
fake=$tmp/bin
mkdir -p "$fake"
cat >"$fake/slow_bench" <<'FAKE'
#!/usr/bin/env bash
for a in "$@"; do
  case $a in --benchmark_list_tests*) echo slow/a; echo slow/b; exit 0 ;; esac
done
echo "$$" >>"$FAKE_PIDS"
echo "slow_bench started, attempt $FAKE_MARK"
sleep 600 &
echo "$!" >>"$FAKE_PIDS"
wait
FAKE
chmod +x "$fake/slow_bench"
export FAKE_PIDS=$tmp/fake.pids
: >"$FAKE_PIDS"
start_slow() {   # start_slow MARK: a run into "slow", in the background of this script
  FAKE_MARK=$1 ./scripts/bench.sh --no-build --bin-dir "$fake" --no-peers --quick --out slow \
    >"$tmp/slow.$1.out" 2>&1 &
  run=$!
  pids_to_kill+=("$run")
  wait_for "attempt $1: the stand-in benchmark starts" 120 grep -qs "attempt $1" "$tmp/results/.tmp-slow/slow_bench.p0.log"
}

# ---- 2. a second run into the same NAME ----
start_slow 1
rc=0
./scripts/bench.sh --no-build --bin-dir "$fake" --no-peers --quick --out slow >"$tmp/second.out" 2>"$tmp/second.err" || rc=$?
[ $rc -ne 0 ] || fail "a second run into results/slow succeeded while the first was writing it"
[ "$(wc -l <"$tmp/second.err")" -eq 1 ] && grep -q "being written by another bench.sh run (pid $run)" "$tmp/second.err" ||
  fail "the second run did not refuse with one line naming pid $run: $(cat "$tmp/second.err")"
grep -q "attempt 1" "$tmp/results/.tmp-slow/slow_bench.p0.log" || fail "the second run disturbed the first one's folder"
echo "ok: a second run into the same folder refuses, naming the first run's pid ($run)"

# ---- 3. TERM ----
kill -TERM "$run"
wait_for "bench.sh ends after TERM" 60 gone "$run"
rc=0; wait "$run" || rc=$?
[ $rc -eq 143 ] || fail "bench.sh ended with exit status $rc after TERM (want 143)"
wait_for "the benchmark and its child end after TERM" 30 all_gone
[ -f "$tmp/results/slow.partial/slow_bench.p0.log" ] || fail "no slow.partial/slow_bench.p0.log after TERM"
[ ! -e "$tmp/results/.tmp-slow" ] && [ ! -e "$tmp/results/slow" ] || fail "TERM left .tmp-slow or a complete-looking slow/"
echo "ok: TERM stops bench.sh and the benchmark's whole process tree, and keeps slow.partial"

# ---- 4. INT, for a run started in the background by a script ----
: >"$FAKE_PIDS"
start_slow 2
kill -INT "$run"
wait_for "bench.sh ends after INT" 60 gone "$run"
rc=0; wait "$run" || rc=$?
[ $rc -eq 130 ] || fail "bench.sh ended with exit status $rc after INT (want 130)"
wait_for "the benchmark and its child end after INT" 30 all_gone
grep -q "attempt 2" "$tmp/results/slow.partial/slow_bench.p0.log" ||
  fail "slow.partial is not the second attempt's: $(cat "$tmp/results/slow.partial/slow_bench.p0.log")"
echo "ok: INT stops a run started in the background, and its partial run replaces the older one"

# ---- 5. an unwritable results folder ----
: >"$tmp/a-file"
rc=0
THREADBENCH_RESULTS_DIR=$tmp/a-file/results ./scripts/bench.sh --no-build --bin-dir "$fake" --no-peers --quick --out x \
  >"$tmp/nowrite.out" 2>"$tmp/nowrite.err" || rc=$?
[ $rc -ne 0 ] && [ "$(wc -l <"$tmp/nowrite.err")" -eq 1 ] && grep -q "cannot write into $tmp/a-file/results/" "$tmp/nowrite.err" ||
  fail "an unwritable results folder: exit $rc, said: $(cat "$tmp/nowrite.err")"
[ ! -s "$tmp/nowrite.out" ] || fail "an unwritable results folder: it went on: $(cat "$tmp/nowrite.out")"
echo "ok: an unwritable results folder fails first, with one line"
