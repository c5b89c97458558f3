#!/usr/bin/python3
"""compare.py BASE_RUN NEW_RUN [--fail-above R] [--alpha A] [--strict] [--aa]: is NEW_RUN slower than BASE_RUN?
compare.py --icount BASE.json NEW.json [--threshold F]: did an operation get more expensive?

Timings (threadbench_results/ab.py computes and prints them, and says what each number is;
this is its command line). A run is a results/<run-id>/ folder or one Google Benchmark JSON
file; a folder's files may hold the same benchmark from several processes (merged rounds):
every repetition of every process is one sample. First one line per side: its commit, samples per row (processes x repetitions), the
minimum time and the preflight verdict. Then for each benchmark both runs measured without
error:
  new/base      new median real_time / base median real_time (above 1: new is slower);
  95% interval  a seeded bootstrap of that ratio (processes, then repetitions, per side);
  p             two-sided Mann-Whitney U test over the samples (with 3 a side it never
                reaches 0.05, with 5 it can); the verdict says when a row had too few;
Then the geometric mean of the ratios with its 95% interval (bootstrap over the rows and
their resamples). Rows with 1 repetition on a side have no interval: a sanity check only.

--aa: the two runs are one build measured twice (an A/A run): also print the share of rows
whose two 95% intervals of the median overlap (target >= 95%), the share whose ratio interval
holds 1, the median |log(new/base)| (target <= 3%) and the rows that moved most.

--fail-above R fails the comparison only on evidence: when the geomean's whole interval is
above R, or when a row's whole interval is above R and p < alpha / rows (Bonferroni). A row above R whose interval
reaches below R, or without significance, does not fail it. When no row has an interval
(1-repetition runs) it says "cannot decide: 1 repetition" instead of PASS; when a side was
busy, "cannot decide" too (a load between runs shifts every row alike, which intervals from
one process per side cannot show), with what the intervals alone would say.
A side made on a busy machine (preflight=busy, or a high load at its start) or too short to
decide (1 repetition, --quick) gets a warning; --strict refuses such input instead (exit 2,
one line).

Instruction counts (--icount, the JSON scripts/icount.sh writes): the gate. Counts do not
depend on the machine's load, so the tolerance is tight: an operation whose
instructions_per_op exceeds the baseline's by more than --threshold (default 0.02 = 2%), or
that the new counts lack, fails it (threadbench_results/icount.py). Standard library only
(no scipy).

Exit status: 0 no regression shown beyond R (always 0 without --fail-above; also when it
cannot decide, with a warning) / the gate passed, 1 regression, 2 unusable input or usage, or
--strict refusing busy or too-short input (one line on stderr says why).
"""
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from threadbench_results import ab, icount  # noqa: E402
from threadbench_results.cli import ArgParser, RunError, fail, number_in  # noqa: E402


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # quiet when piped into head
    parser = ArgParser(description=__doc__.split("\n")[0])
    parser.add_argument("base", metavar="BASE_RUN",
                        help="results/<run-id>/ folder or JSON file (--icount: JSON file) to compare against")
    parser.add_argument("new", metavar="NEW_RUN", help="results/<run-id>/ folder or JSON file (--icount: JSON file) to judge")
    parser.add_argument("--icount", action="store_true",
                        help="gate on instruction counts (icount.sh JSON) instead of timings")
    parser.add_argument("--threshold", metavar="F", type=number_in(0, 1, "a fraction between 0 and 1, e.g. 0.02"),
                        default=icount.DEFAULT_THRESHOLD,
                        help="--icount: tolerated growth of instructions per operation (default 0.02)")
    parser.add_argument("--fail-above", metavar="R",
                        type=number_in(0, float("inf"), "a ratio above 0, e.g. 1.10"),
                        help="exit 1 if the geomean ratio, or a significant single ratio, exceeds R")
    parser.add_argument("--alpha", type=number_in(0, 1, "a probability between 0 and 1, e.g. 0.05"),
                        default=0.05, metavar="A",
                        help="significance level of the Mann-Whitney U test (default 0.05)")
    parser.add_argument("--aa", action="store_true",
                        help="the two runs are the same build twice: also print the A/A repeatability "
                             "(share of rows whose intervals overlap, median |log ratio|, worst rows)")
    parser.add_argument("--strict", action="store_true",
                        help="refuse (exit 2) when a side was busy or too short to decide, instead of warning")
    args = parser.parse_args()
    if args.icount:
        try:
            lines, passed = icount.gate_files(args.base, args.new, args.threshold)
        except RunError as e:
            fail(str(e))
        print("\n".join(lines))
        return 0 if passed else 1
    return ab.run(args.base, args.new, alpha=args.alpha, fail_above=args.fail_above, aa=args.aa,
                  strict=args.strict)


if __name__ == "__main__":
    raise SystemExit(main())
