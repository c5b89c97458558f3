#!/usr/bin/python3
"""compare.py BASE_RUN NEW_RUN [--fail-above R] [--alpha A]: is NEW_RUN slower than BASE_RUN?
compare.py --icount BASE.json NEW.json [--threshold F]: did an operation get more expensive?

Timings. For each benchmark both runs measured without error:
  ratio = new median real_time / base median real_time. Time per iteration, so above 1 means
          new is slower; a throughput benchmark's messages/s or tasks/s falls by the same
          factor, since a benchmark's work per iteration is fixed.
  p     = two-sided Mann-Whitney U test over the per-repetition real_time samples. With n
          repetitions a side it cannot go below 2 / C(2n, n): with 3 it never reaches 0.05,
          with 5 it can. The verdict column says when a benchmark had too few.
The last line is the geometric mean of all ratios.

--fail-above R fails the comparison when the geometric-mean ratio is above R, or when any
one benchmark is above R and significantly slower (p < alpha). A single benchmark above R
without significance (noise, too few repetitions) does not fail it alone: it moves the mean.

Instruction counts (--icount, the JSON scripts/icount.sh writes): the gate. Counts do not
depend on the machine's load, so the tolerance is tight: an operation whose
instructions_per_op exceeds the baseline's by more than --threshold (default 0.02 = 2%), or
that the new counts lack, fails it. Standard library only (no scipy).

Exit status: 0 no regression beyond R (always 0 without --fail-above) / the gate passed,
1 regression, 2 unusable input or usage (one line on stderr says why).
"""
import math
import signal
import statistics
from argparse import ArgumentTypeError
from collections import namedtuple

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from threadbench_results import icount  # noqa: E402
from threadbench_results.cli import ArgParser, RunError, fail, require  # noqa: E402
from threadbench_results.fmt import fmt_ns  # noqa: E402
from threadbench_results.load import load_run  # noqa: E402

Row = namedtuple("Row", "name base new ratio p verdict")


def number_in(low, high, what):
    """argparse type: a float strictly between low and high."""
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not low < value < high:
            raise ArgumentTypeError(f"'{text}' is not {what}")
        return value
    return parse


def smallest_p(n_base, n_new):
    """The smallest two-sided p the exact test can give for these sample sizes."""
    return 2 / math.comb(n_base + n_new, n_base)


def compare(base, new, alpha, stats):
    """One Row per benchmark both runs measured; and how many were left out, in words."""
    rows, missing, failed = [], 0, 0
    for name, before in base.benches.items():
        after = new.benches.get(name)
        if after is None:
            missing += 1
            continue
        if before.error or after.error:
            failed += 1
            continue
        base_t, new_t = before.stat("real_time").median, after.stat("real_time").median
        if base_t <= 0 or new_t <= 0:
            failed += 1
            continue
        xs, ys = before.values("real_time"), after.values("real_time")
        ratio = new_t / base_t
        p = stats.mannwhitneyu(ys, xs, alternative="two-sided").pvalue if xs and ys else None
        if p is None:
            verdict = "no per-repetition samples"
        elif smallest_p(len(xs), len(ys)) >= alpha:
            verdict = f"too few reps ({len(xs)}/{len(ys)}) for p < {alpha:g}"
        elif p < alpha:
            verdict = "slower" if ratio > 1 else "faster"
        else:
            verdict = "no significant change"
        rows.append(Row(name, base_t, new_t, ratio, p, verdict))
    extra = len(set(new.benches) - set(base.benches))
    left_out = [f"{count} {what}" for count, what in ((missing, "only in base"), (extra, "only in new"),
                                                      (failed, "failed or took no time in a run")) if count]
    return rows, ", ".join(left_out)


def print_table(rows):
    header = ("benchmark", "base", "new", "new/base", "p", "verdict")
    cells = [(r.name, fmt_ns(r.base, 4), fmt_ns(r.new, 4), f"{r.ratio:.3f}",
              "-" if r.p is None else f"{r.p:.3g}", r.verdict) for r in rows]
    widths = [max(len(row[i]) for row in [header] + cells) for i in range(len(header))]
    for row in [header] + cells:
        print("  ".join(c.ljust(w) if i in (0, 5) else c.rjust(w)
                        for i, (c, w) in enumerate(zip(row, widths))).rstrip())


def gate(args):
    """--icount: exit 1 when any operation costs more instructions than the baseline allows."""
    try:
        (base, base_ctx), (new, new_ctx) = icount.load_counts(args.base), icount.load_counts(args.new)
    except RunError as e:
        fail(str(e))
    lines, passed = icount.gate(base, new, args.threshold)
    for key in ("compiler", "valgrind"):
        if base_ctx.get(key) != new_ctx.get(key):
            lines.insert(-1, f"note: {key} differs from the baseline's ({' / '.join(base_ctx.get(key, ['?']))} "
                             f"vs {' / '.join(new_ctx.get(key, ['?']))}): counts follow the toolchain")
    print("\n".join(lines))
    return 0 if passed else 1


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # quiet when piped into head
    parser = ArgParser(description=__doc__.split("\n")[0])
    parser.add_argument("base", metavar="BASE_RUN", help="results/<run-id>/ folder (--icount: JSON file) to compare against")
    parser.add_argument("new", metavar="NEW_RUN", help="results/<run-id>/ folder (--icount: JSON file) to judge")
    parser.add_argument("--icount", action="store_true",
                        help="gate on instruction counts (icount.sh JSON) instead of timings")
    parser.add_argument("--threshold", metavar="F", type=number_in(0, 1, "a fraction between 0 and 1, e.g. 0.02"),
                        default=icount.DEFAULT_THRESHOLD,
                        help="--icount: tolerated growth of instructions per operation (default 0.02)")
    parser.add_argument("--fail-above", metavar="R",
                        type=number_in(0, math.inf, "a ratio above 0, e.g. 1.10"),
                        help="exit 1 if the geomean ratio, or a significant single ratio, exceeds R")
    parser.add_argument("--alpha", type=number_in(0, 1, "a probability between 0 and 1, e.g. 0.05"),
                        default=0.05, metavar="A",
                        help="significance level of the Mann-Whitney U test (default 0.05)")
    args = parser.parse_args()
    if args.icount:
        return gate(args)
    require("scipy")
    import scipy.stats   # only after require() has said what to install
    try:
        base, new = load_run(args.base), load_run(args.new)
    except RunError as e:
        fail(str(e))
    rows, left_out = compare(base, new, args.alpha, scipy.stats)
    if not rows:
        fail(f"{base.path} and {new.path} have no benchmark in common that ran without error")
    print(f"ratio = new/base median real_time (above 1: new is slower); p = two-sided Mann-Whitney U "
          f"over the repetitions, significant below {args.alpha:g}")
    print_table(rows)
    geomean = math.exp(statistics.fmean(math.log(r.ratio) for r in rows))
    print(f"geometric-mean ratio over {len(rows)} benchmarks: {geomean:.3f}"
          + (f" (not compared: {left_out})" if left_out else ""))
    if args.fail_above is None:
        return 0
    limit = args.fail_above
    worse = [r.name for r in rows if r.verdict == "slower" and r.ratio > limit]
    if geomean > limit or worse:
        why = [f"geomean {geomean:.3f} > {limit:g}"] if geomean > limit else []
        why += [f"{len(worse)} significantly slower above {limit:g}: {', '.join(worse)}"] if worse else []
        print(f"FAIL: {'; '.join(why)}")
        return 1
    print(f"PASS: geomean {geomean:.3f} <= {limit:g} and no significant single regression above it")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
