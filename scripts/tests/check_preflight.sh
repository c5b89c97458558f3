#!/usr/bin/env bash
# scripts/tests/check_preflight.sh: the ctest test of the quiet check (scripts.preflight, label
# scripts). Starts a busy loop in a process group of its own, then requires that
# scripts/preflight.sh calls the machine busy and names that process (and not a busy loop
# of our own process group, which counts as us); checks the context
# pairs it writes; and that bench.sh rejects bad flags with one line and a non-zero exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "FAILED: $*" >&2; exit 1; }

# A loop named tb-busy-loop (its comm in /proc), in its own session so that it is "another
# process", not part of our process group.
tmp=$(mktemp -d)
ln -s "$(command -v dash || command -v sh)" "$tmp/tb-busy-loop"
setsid "$tmp/tb-busy-loop" -c 'while :; do :; done' &
loop=$!
# And one in our own process group, which the preflight must leave out (it is "us").
ln -s "$(command -v dash || command -v sh)" "$tmp/tb-own-loop"
"$tmp/tb-own-loop" -c 'while :; do :; done' &
own=$!
trap 'kill "$loop" "$own" 2>/dev/null; rm -rf "$tmp"' EXIT
sleep 0.5
out=$(sh -c '. scripts/preflight.sh; say() { echo "$*"; }; tb_preflight; echo "verdict=$TB_PREFLIGHT"; tb_preflight_context')
echo "$out"
grep -q '^verdict=busy$' <<<"$out" || fail "a busy loop ran and the preflight did not say busy"
grep -q 'busy processes: .*tb-busy-loop:[0-9]*%' <<<"$out" || fail "the busy loop is not named among the busy processes"
! grep -q 'tb-own-loop' <<<"$out" || fail "a process of our own process group was counted as another's"
ctx=$(tail -1 <<<"$out")
[[ "$ctx" =~ ^,preflight=busy,load_avg=[0-9.]+\ [0-9.]+\ [0-9.]+,busy_procs=[^,]*tb-busy-loop:[0-9]+%[^,]*,others_cpu=[0-9.]+,steal_pct=[0-9.]+$ ]] ||
  fail "context pairs not as expected: $ctx"
echo "ok: a busy loop makes the verdict busy and is named; our own is not"

# Run on its own (executable, and under sh): the verdict in words and as the exit status.
for how in ./scripts/preflight.sh "sh scripts/preflight.sh"; do
  rc=0
  # shellcheck disable=SC2086
  alone=$($how 2>&1) || rc=$?
  [ $rc -eq 1 ] && grep -q 'WARNING: the machine is not quiet' <<<"$alone" && grep -q '^\[preflight.sh\] machine: ' <<<"$alone" ||
    fail "$how beside a busy loop: exit $rc (want 1), said: $alone"
  rc=0
  # shellcheck disable=SC2086
  $how --bogus >/dev/null 2>&1 || rc=$?
  [ $rc -eq 2 ] || fail "$how --bogus: exit $rc (want 2)"
done
echo "ok: preflight.sh runs on its own, as a program and under sh"

# bench.sh: bad flags fail with one line before it builds or runs anything.
for args in "--bogus" "--repetitions 0" "--repetitions two" "--min-time 1e3" "--wait-quiet x" \
            "--out a/b" "--out" "--pack" "--pack $tmp/x --out y" "--min-time 0" "--min-time=0.0" \
            "--min-time -1" "--repetitions=0" "--filter (" "--filter=a[" "--out x.partial"; do
  rc=0
  # shellcheck disable=SC2086
  ./scripts/bench.sh $args >"$tmp/out" 2>"$tmp/err" || rc=$?
  [ $rc -ne 0 ] || fail "bench.sh $args succeeded"
  [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q '^\[bench.sh\] error: ' "$tmp/err" ||
    fail "bench.sh $args: not one error line: $(cat "$tmp/err")"
  [ ! -s "$tmp/out" ] || fail "bench.sh $args printed: $(cat "$tmp/out")"
done
echo "ok: bench.sh rejects bad flags with one line"
