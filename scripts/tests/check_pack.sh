#!/usr/bin/env bash
# scripts/tests/check_pack.sh: the ctest test of `bench.sh --pack` / scripts/pack.sh (scripts.pack).
#
#   scripts/tests/check_pack.sh BIN_DIR PYTHON [chroot]
#
# Packs the *_bench binaries of BIN_DIR (pack-time settings: --quick and a filter that
# selects the first benchmark of two binaries), moves the bundle elsewhere, and proves:
#   1. the packed loader resolves every shared library from inside the bundle;
#   2. run.sh runs in a clean environment: `env -i` with a PATH holding only a POSIX shell
#      and the text tools run.sh uses (no compiler, no cmake, no python, no bash), no HOME;
#   3. the JSON it writes loads with the results loader, holds only the filtered benchmarks,
#      as many repetitions as run.sh was given at run time (a run-time flag replaces the
#      pack-time default), and the full context (machine, cpu, cores, kernel, commit,
#      compiler, TBB version, repetitions, preflight verdict);
#   3b. run.sh --processes 2 merges each binary's two processes into one JSON (process_index);
#   4. bad input fails with one line and clobbers nothing (--pack into a non-empty folder,
#      run.sh --out onto an existing folder, a bad --repetitions).
# With `chroot` (root, busybox-static and unshare needed; not part of ctest), run.sh also runs
# chrooted into a folder that holds only the bundle, a static busybox (sh, awk, sed, ...),
# /proc and /dev/null: nothing of this machine's userland, and the same checks apply.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -eq 2 ] || { [ $# -eq 3 ] && [ "$3" = chroot ]; } || { echo "usage: $0 BIN_DIR PYTHON [chroot]" >&2; exit 2; }
bin_dir=$1 py=$2 mode=${3:-clean-env}
fail() { echo "FAILED: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The first benchmark of two binaries, as an anchored filter (names hold no regex specials
# but '.', which matches itself too).
first() { "$bin_dir/$1" --benchmark_list_tests | sed -n 1p; }   # reads all: no SIGPIPE
names=("$(first spawn_join_bench)" "$(first capture_bench)")
filter="^($(printf '%s|' "${names[@]}" | sed 's/|$//'))\$"
echo "filter: $filter"

./scripts/bench.sh --pack "$tmp/packed" --no-build --bin-dir "$bin_dir" --no-peers --quick --filter "$filter" ||
  fail "bench.sh --pack failed"
mv "$tmp/packed" "$tmp/bundle"   # it must not depend on where it was written
b=$tmp/bundle

# 1. Every library the packed loader would load comes from the bundle.
for f in "$b"/bin/*; do
  "$b/lib/ld-linux-x86-64.so.2" --library-path "$b/lib" --list "$f" >"$tmp/list" || fail "packed loader cannot load $f"
  outside=$(awk '$2 == "=>" && index($3, "'"$b"'/lib/") != 1 { print $1 " => " $3 }' "$tmp/list")
  [ -z "$outside" ] || fail "$(basename "$f") loads from outside the bundle: $outside"
done
echo "ok: the packed loader finds every library of $(ls "$b/bin" | wc -l) binaries in the bundle"

# 2. A PATH with a shell and text tools only.
tools=$tmp/tools
mkdir "$tools"
for t in awk sed grep cat head tail tr cut sort date sleep mkdir rm rmdir mv ls basename \
         dirname uname timeout env; do
  p=$(command -v "$t") || fail "this machine lacks $t, which run.sh needs"
  ln -s "$p" "$tools/$t"
done
for t in nproc hostname getconf; do   # run.sh has fallbacks for these
  p=$(command -v "$t") && ln -s "$p" "$tools/$t"
done
ln -s "$(command -v dash || command -v sh)" "$tools/sh"
for c in cc gcc g++ c++ clang ld as cmake make python3 bash cargo go; do
  [ ! -e "$tools/$c" ] || fail "the clean PATH holds $c"
done
mkdir "$tmp/cwd"
( cd "$tmp/cwd" && env -i PATH="$tools" sh "$b/run.sh" --repetitions 2 --out "$tmp/run" ) ||
  fail "run.sh failed in the clean environment"
[ -z "$(ls -A "$tmp/cwd")" ] || fail "run.sh wrote into its working folder: $(ls -A "$tmp/cwd")"
extra=$(cd "$tmp/run" && ls -A | grep -v '\.json$' || true)
[ -z "$extra" ] || fail "run.sh wrote more than JSON: $extra"

# 3. The JSON: loader, names, repetitions, context.
check_json() {
  "$py" - "$1" "$filter" <<'PY' || fail "the bundle's JSON did not pass the checks above"
import re, sys
sys.path.insert(0, "scripts")
from threadbench_results.load import load_run
run = load_run(sys.argv[1])
want = re.compile(sys.argv[2])
assert run.benches, "no benchmarks"
for b in run.benches.values():
    assert want.search(b.name), f"{b.name} does not match the filter"
    assert b.error is None, f"{b.name}: {b.error}"
    assert len(b.samples) == 2, f"{b.name}: {len(b.samples)} repetitions, run.sh was given 2"
for key in ("machine", "cpu_model", "cores", "kernel", "git_commit", "compiler", "tbb_version",
            "repetitions", "min_time_s", "mode", "preflight", "load_avg", "busy_procs", "pinned"):
    assert run.context.get(key), f"context lacks {key}"
assert run.context["repetitions"] == ["2"], run.context["repetitions"]
assert run.context["mode"] == ["quick"], run.context["mode"]
assert run.context["preflight"][0] in ("quiet", "busy"), run.context["preflight"]
print(f"ok: {len(run.benches)} benchmarks, 2 repetitions each, context "
      f"preflight={run.context['preflight'][0]} git_commit={run.context['git_commit'][0]}")
PY
}
check_json "$tmp/run"

# 3b. --processes 2: each binary in 2 fresh processes, the parts merged by run.sh's awk into
# one JSON per binary: every sample with its process_index, context processes=2.
( cd "$tmp/cwd" && env -i PATH="$tools" sh "$b/run.sh" --processes 2 --out "$tmp/run2" ) ||
  fail "run.sh --processes 2 failed in the clean environment"
"$py" - "$tmp/run2" <<'PY' || fail "the --processes 2 run's JSON did not pass the checks above"
import sys
sys.path.insert(0, "scripts")
from threadbench_results.load import load_run
run = load_run(sys.argv[1])
assert run.benches, "no benchmarks"
for b in run.benches.values():
    assert [s.get("process_index") for s in b.samples] == [0, 1], f"{b.name}: {b.samples}"
assert run.context["processes"] == ["2"], run.context.get("processes")
print(f"ok: --processes 2: {len(run.benches)} benchmarks, one sample from each of 2 processes")
PY

if [ "$mode" = chroot ]; then
  bb=$(command -v busybox) || fail "chroot mode needs busybox (Debian: busybox-static)"
  [[ "$(ldd "$bb" 2>&1)" != *"=>"* ]] || fail "$bb is not static (Debian: busybox-static)"
  [ "$(id -u)" -eq 0 ] || fail "chroot mode needs root"
  root=$tmp/root
  mkdir -p "$root/bin" "$root/proc" "$root/dev" "$root/out"
  cp "$bb" "$root/bin/busybox"
  chroot "$root" /bin/busybox --install -s /bin
  cp -a "$b" "$root/bundle"
  : >"$root/dev/null"
  echo "chroot: $(ls "$root" | tr '\n' ' ')(bin/ = busybox only)"
  unshare --mount --fork sh -c 'mount -t proc proc "$1/proc" && mount --bind /dev/null "$1/dev/null" &&
    chroot "$1" /bin/env -i PATH=/bin /bin/sh -c "for c in cc gcc g++ c++ ld as cmake bash python3; do
      ! command -v \$c >/dev/null || exit 9; done; cd /out && /bundle/run.sh --repetitions 2 --out /out/run"' sh "$root" ||
    fail "run.sh failed in the chroot (exit 9: the chroot holds a compiler or bash)"
  check_json "$root/out/run"
fi

# 4. Bad input: one line, non-zero, nothing clobbered.
mkdir "$tmp/full" && echo keep >"$tmp/full/file"
if ./scripts/bench.sh --pack "$tmp/full" --no-build --bin-dir "$bin_dir" 2>"$tmp/err"; then
  fail "bench.sh --pack into a non-empty folder succeeded"
fi
[ "$(cat "$tmp/full/file")" = keep ] && [ "$(ls -A "$tmp/full")" = file ] || fail "--pack touched a non-empty folder"
grep -q 'not an empty folder' "$tmp/err" || fail "--pack into a non-empty folder: unclear error: $(cat "$tmp/err")"
# The same through scripts/pack.sh itself (what bench.sh --pack runs), and its --help.
if ./scripts/pack.sh "$tmp/full" --no-build --bin-dir "$bin_dir" 2>"$tmp/err"; then
  fail "pack.sh into a non-empty folder succeeded"
fi
[ "$(ls -A "$tmp/full")" = file ] || fail "pack.sh touched a non-empty folder"
grep -q 'not an empty folder' "$tmp/err" || fail "pack.sh into a non-empty folder: unclear error: $(cat "$tmp/err")"
./scripts/pack.sh --help | grep -q 'bench.sh --pack DIR' || fail "pack.sh --help does not say what it is"
before=$(ls -A "$tmp/run")
env -i PATH="$tools" sh "$b/run.sh" --out "$tmp/run" 2>"$tmp/err" && fail "run.sh --out onto an existing folder succeeded"
[ "$(ls -A "$tmp/run")" = "$before" ] || fail "run.sh changed an existing --out folder"
env -i PATH="$tools" sh "$b/run.sh" --repetitions 0 --out "$tmp/x" 2>"$tmp/err" && fail "run.sh --repetitions 0 succeeded"
grep -q 'positive integer' "$tmp/err" || fail "run.sh --repetitions 0: unclear error: $(cat "$tmp/err")"
echo "ok: bad input fails with one line and clobbers nothing"
