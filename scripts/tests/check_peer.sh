#!/usr/bin/env bash
# scripts/tests/check_peer.sh: the ctest test of one Rust or Go peer (scripts.peer_rust,
# scripts.peer_go; label scripts, run by the release stage).
#
#   scripts/tests/check_peer.sh rust|go PYTHON
#
# Builds the peer and runs its --check subset through bench/<lang>/run.sh, which exits 1
# when a benchmark's count or sum check fails, and 3 when its toolchain cannot be had: both
# fail this test (./scripts/test.sh installs the toolchains first, so on a prepared machine
# a 3 is a real fault, never a skip). Then the JSON it wrote must load with the results
# loader and hold only error-free rows of the suite's families, with the contender names
# of that language and the context given with --context.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -eq 2 ] || { echo "usage: $0 rust|go PYTHON" >&2; exit 2; }
lang=$1 py=$2
case "$lang" in rust|go) ;; *) echo "usage: $0 rust|go PYTHON" >&2; exit 2 ;; esac
fail() { echo "FAILED: $*" >&2; exit 1; }
script=bench/$lang/run.sh
[ -f "$script" ] || fail "$script does not exist"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

json=$tmp/${lang}_bench.json
rc=0
bash "$script" --check --out "$json" --context "checked_by=ctest" || rc=$?
case $rc in
  0) ;;
  3) fail "the $lang toolchain cannot be had (./scripts/test.sh installs it: $([ "$lang" = rust ] &&
       echo "rustc cargo librust-crossbeam-channel-dev librust-flume-dev librust-rayon-dev librust-libc-dev" || echo golang-go))" ;;
  *) fail "$script --check exited $rc (1 = a failed build or a wrong count/sum)" ;;
esac
[ -s "$json" ] || fail "$script --check exited 0 but wrote no $json"

"$py" - "$tmp" "$lang" <<'PY' || fail "the $lang peer's JSON did not pass the checks above"
import sys
sys.path.insert(0, "scripts")
from threadbench_results.load import load_run
run = load_run(sys.argv[1])
lang = sys.argv[2]
impls = {"rust": {"rust_std", "crossbeam", "flume"}, "go": {"go_chan"}}[lang]
# The crew floor rows name what runs the crew (bench/rust/src/crew.rs, bench/go/crew.go).
crews = {"rust": {"rust_thread"}, "go": {"goroutine"}}[lang]
assert run.benches, "no benchmarks"
families = set()
saw_crew = False
for b in run.benches.values():
    assert b.error is None, f"{b.name}: {b.error}"
    assert b.family in ("spawn", "capture", "channel", "pool"), f"{b.name}: unknown family"
    assert b.samples, f"{b.name}: no repetition rows"
    if b.family == "channel" and b.scenario == "crew":
        assert b.keys.get("impl") in crews, f"{b.name}: crew impl is not one of {sorted(crews)}"
        saw_crew = True
    elif b.family == "channel":
        assert b.keys.get("impl") in impls, f"{b.name}: impl is not one of {sorted(impls)}"
    families.add(b.family)
assert {"spawn", "channel", "pool"} <= families, f"--check covers only {sorted(families)}"
assert saw_crew, "--check ran no channel/crew floor row"
assert run.context.get("language") == [lang], f"context language = {run.context.get('language')}"
assert run.context.get("checked_by") == ["ctest"], "--context was not written into the JSON"
print(f"ok: {lang} peer, {len(run.benches)} benchmarks in {', '.join(sorted(families))}")
PY
