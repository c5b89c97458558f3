#!/usr/bin/env bash
# scripts/icount.sh: instructions per channel operation, counted by valgrind's callgrind,
# as Google-Benchmark-shaped JSON (counter instructions_per_op); with --gate, compared to a
# baseline (compare.py --icount): a regression tripwire that does not flake on a busy machine.
#
#   ./scripts/icount.sh                        build icount_probe (Release), count, write
#                                              results/icount-<host>-<date>.json
#   ./scripts/icount.sh --gate results/reference/icount-baseline.json
#                                              ... then fail (exit 1) on any operation that got
#                                              more than 2% more expensive than the baseline
#   --threshold F     the gate's tolerance as a fraction (default 0.02)
#   --out FILE        where the JSON goes
#   --probe BIN       count this icount_probe build (implies --no-build)
#   --no-build        do not build; use build/release/bench/icount_probe as it is
#   --valgrind PATH   this valgrind (default: the one on PATH, installed when missing)
#   -n N              operations of the shorter run (default 20000; a multiple of 20)
#
# Each operation (icount_probe --list) runs twice under callgrind, N and 2N times; the
# difference of the two instruction totals divided by N is the cost of one operation, with
# start-up and set-up cancelled out. Counts depend on the compiler and its flags, not on
# the machine's load: compare only counts made by the same toolchain (the JSON's context says
# which).
set -euo pipefail
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$0")/.."
. scripts/lib.sh

usage() { sed -n '2,23p' "$self" | sed 's/^# \{0,1\}//'; }

out="" probe="" build=1 valgrind="" n=20000 gate="" threshold=0.02
while [ $# -gt 0 ]; do
  case "$1" in
    --out) [ $# -ge 2 ] || die "--out needs a FILE"; out=$2; shift ;;
    --probe) [ $# -ge 2 ] || die "--probe needs a program"; probe=$2; build=0; shift ;;
    --no-build) build=0 ;;
    --valgrind) [ $# -ge 2 ] || die "--valgrind needs a PATH"; valgrind=$2; shift ;;
    -n) [ $# -ge 2 ] || die "-n needs a number"; n=$2; shift ;;
    --gate) [ $# -ge 2 ] || die "--gate needs a baseline JSON"; gate=$2; shift ;;
    --threshold) [ $# -ge 2 ] || die "--threshold needs a fraction"; threshold=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  shift
done
[[ "$n" =~ ^[1-9][0-9]*$ ]] && [ $((n % 20)) -eq 0 ] || die "-n must be a positive multiple of 20, got '$n'"
[[ "$threshold" =~ ^0?[.][0-9]+$ ]] || die "--threshold must be a fraction below 1 such as 0.02, got '$threshold'"
[ -z "$gate" ] || [ -f "$gate" ] || die "no baseline $gate (make one: ./scripts/icount.sh --out $gate)"
[ -n "$out" ] || out="results/icount-$(hostname -s 2>/dev/null || echo host)-$(date +%Y%m%d-%H%M%S).json"

if [ -z "$valgrind" ]; then
  command -v valgrind >/dev/null 2>&1 || ensure_packages valgrind
  valgrind=$(command -v valgrind) || die "valgrind is not installed (apt-get install valgrind)"
fi
[ -x "$valgrind" ] || die "valgrind '$valgrind' is not an executable: install valgrind (apt-get install valgrind)"
py=$(find_python sys) || die "no python3 to write the JSON"

if [ -z "$probe" ]; then
  probe=build/release/bench/icount_probe
  if [ $build -eq 1 ]; then
    ensure_packages "${TB_BUILD_PACKAGES[@]}"
    say "building icount_probe (Release, build/release)"
    cmake --preset release >/dev/null || die "configure failed"
    cmake --build --preset release --target icount_probe >/dev/null || die "build of icount_probe failed"
  fi
fi
[ -x "$probe" ] || die "no icount_probe at $probe (build it: cmake --build --preset release --target icount_probe)"

mapfile -t pairs < <("$probe" --list) || die "$probe --list failed"
[ ${#pairs[@]} -gt 0 ] || die "$probe --list named no operation"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# total OP FLAVOUR COUNT: instructions callgrind counted for the whole program.
total() {
  "$valgrind" --tool=callgrind --callgrind-out-file="$work/cg" "$probe" "$@" \
    >"$work/log" 2>&1 || { tail -3 "$work/log" >&2; die "$probe $* failed under valgrind"; }
  sed -n 's/^summary: \([0-9]*\)$/\1/p' "$work/cg"
}
say "counting ${#pairs[@]} operations under $("$valgrind" --version) (N=$n and 2N each)"
for pair in "${pairs[@]}"; do
  read -r op flavour <<<"$pair"
  short=$(total "$op" "$flavour" "$n")
  long=$(total "$op" "$flavour" $((2 * n)))
  [ -n "$short" ] && [ -n "$long" ] || die "no instruction total from callgrind for $pair"
  echo "$op $flavour $n $short $((2 * n)) $long" | tee -a "$work/counts" | sed 's/^/  /'
done

compiler=$( (g++ --version 2>/dev/null || echo unknown) | head -1)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo none)
[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && commit="$commit-dirty"
mkdir -p "$(dirname "$out")"
PYTHONPATH=scripts "$py" -m threadbench_results.icount "$work/counts" "$out" \
  "probe=$(basename "$probe")" "valgrind=$("$valgrind" --version)" "compiler=$compiler" \
  "git_commit=$commit" "machine=$(hostname -s 2>/dev/null || echo host)" \
  || die "writing $out failed"
say "wrote $out"
if [ -n "$gate" ]; then
  "$py" scripts/compare.py --icount "$gate" "$out" --threshold "$threshold"
fi
