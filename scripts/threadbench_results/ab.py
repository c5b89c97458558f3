"""Two runs of the same benchmarks compared (compare.py's timings): as data, then as text.

For each benchmark both runs measured without error:
  ratio     new median real_time / base median real_time (above 1: new is slower).
            A row that counts items on both sides (items_per_second: messages, tasks) is
            compared per item instead: base median items/s / new median items/s, the ratio of
            the times per item, so a revision that changed how many messages an iteration
            moves is still compared fairly; such a row is marked "(per item)" and its base
            and new columns are ns per item. Medians over every repetition of every process.
  interval  95% bootstrap interval of that ratio (interval.py: processes, then repetitions,
            resampled on each side, each side with its own seeded stream).
  p         two-sided Mann-Whitney U test over the two sides' samples (every repetition of
            every process is one sample). With n samples a side it cannot go below
            2 / C(2n, n): with 3 it never reaches 0.05, with 5 it can.
  geomean   geometric mean of the ratios, with a bootstrap interval that also resamples the
            rows (interval.geomean).

The gate (--fail-above R) fails only on evidence: the geomean's whole interval above R, or a
row whose whole interval is above R with p < alpha / rows (Bonferroni). Rows with one sample on a side have no
interval (a sanity check only) and never decide it; when no row has an interval the gate
cannot decide.
"""
import math
import statistics
from pathlib import Path
from dataclasses import dataclass

from . import interval, machine
from .cli import RunError, fail, require, warn
from .fmt import fmt_ns
from .load import json_files, load_files

BASE, NEW = "base", "new"   # the tags that seed each side's bootstrap stream


@dataclass
class Side:
    """What one run says about how it was made."""
    label: str
    path: str
    commit: str        # git_commit(s) of the context, or 'unknown'
    samples: str       # processes x repetitions per row ('2x5'; several shapes listed)
    fewest: int        # the fewest samples any row has (1: some row has no interval)
    min_time: str      # '0.1 s', or 'unknown'
    preflight: str     # 'quiet', 'busy', 'unknown', or 'not recorded'
    busy: str          # machine.busy_verdict's reasons, or None when nothing says busy
    quick: bool        # bench.sh --quick (mode=quick): 1 repetition, 0.01 s

    @classmethod
    def of(cls, label, run):
        reasons = "; ".join(machine.busy_reasons(run)) or None
        return cls(label, str(run.path), " / ".join(machine.commits(run)) or "unknown",
                   machine.samples_text(run), machine.fewest_samples(run), machine.min_time(run) or "unknown",
                   " / ".join(machine.preflight(run)) or "not recorded", reasons,
                   "quick" in run.context.get("mode", []))

    def problems(self):
        """Why this side cannot support a verdict on its own: busy, or too short."""
        out = []
        if self.busy:
            out.append(f"{self.label} was made on a busy machine ({self.busy})")
        if self.fewest < 2:
            out.append(f"{self.label} has rows with 1 repetition ({self.samples}): {interval.SANITY}")
        elif self.quick:
            out.append(f"{self.label} is a --quick run (mode=quick): too short to decide")
        return out


@dataclass
class Row:
    name: str
    base: float          # base median real_time, ns
    new: float           # new median real_time, ns
    est: interval.Estimate   # new / base with its bootstrap draws
    p: float             # two-sided Mann-Whitney U p over the samples; None without samples
    verdict: str         # in words: slower / faster / no significant change / why not decided
    samples: str         # 'base PxR / new PxR'
    key: str = ""        # the benchmark's name in both runs (name may carry PER_ITEM_MARK)

    @property
    def ratio(self):
        return self.est.value


RATE = "items_per_second"
PER_ITEM_MARK = " (per item)"   # a row compared by time per item (both sides count items)


def _per_item(before, after):
    """Both sides report items/s for every sample: compare time per item, not per iteration."""
    return all(b.median(RATE) and len(b.values(RATE)) == len(b.values("real_time")) for b in (before, after))


def smallest_p(n_base, n_new):
    """The smallest two-sided p the exact test can give for these sample sizes."""
    return 2 / math.comb(n_base + n_new, n_base)


def _row_verdict(est, p, n_base, n_new, alpha):
    if est.single:
        return interval.SANITY
    if p is None:
        return "no per-repetition samples"
    if smallest_p(n_base, n_new) >= alpha:
        return f"too few reps ({n_base}/{n_new}) for p < {alpha:g}"
    lo, hi = est.interval()
    if p < alpha and (lo > 1 or hi < 1):
        return "slower" if lo > 1 else "faster"
    return "no significant change"


def compare(base, new, alpha, stats):
    """One Row per benchmark both runs measured; and how many were left out, in words."""
    rows, missing, failed = [], 0, 0
    for name, before in base.benches.items():
        after = new.benches.get(name)
        if after is None:
            missing += 1
            continue
        if before.error or after.error or not before.median("real_time") or not after.median("real_time"):
            failed += 1
            continue
        if before.median("real_time") <= 0 or after.median("real_time") <= 0:
            failed += 1
            continue
        if _per_item(before, after):
            # Both count items: compare the time per item (base items/s over new items/s), which
            # stays right when a revision changed the work of an iteration (the flow rows went
            # from 16384 to 65536 messages); base/new are then ns per item.
            est = interval.ratio(before, after, RATE, tags=(BASE, NEW))
            xs, ys = before.values(RATE), after.values(RATE)
            base_ns, new_ns = 1e9 / before.median(RATE), 1e9 / after.median(RATE)
            name_shown = name + PER_ITEM_MARK
        else:
            est = interval.ratio(after, before, "real_time", tags=(NEW, BASE))
            xs, ys = before.values("real_time"), after.values("real_time")
            base_ns, new_ns = before.median("real_time"), after.median("real_time")
            name_shown = name
        p = stats.mannwhitneyu(ys, xs, alternative="two-sided").pvalue if xs and ys else None
        rows.append(Row(name_shown, base_ns, new_ns, est, p,
                        _row_verdict(est, p, len(xs), len(ys), alpha), f"{est.shapes[1]} / {est.shapes[0]}",
                        name))
    extra = len(set(new.benches) - set(base.benches))
    left_out = [f"{count} {what}" for count, what in ((missing, "only in base"), (extra, "only in new"),
                                                      (failed, "failed or took no time in a run")) if count]
    return rows, ", ".join(left_out)


@dataclass
class Gate:
    result: str      # 'FAIL', 'PASS', 'cannot decide'
    why: str         # one line


def gate(rows, geo, limit, alpha, sides=()):
    """The --fail-above verdict: FAIL only when the geomean's whole interval is above limit,
    or a row's whole interval is above limit with p < alpha / rows (Bonferroni, see _evidence). 'cannot decide' when no row has
    an interval, or a side was busy: a load that comes and goes between two runs shifts every
    row alike, which no interval made inside one process per side can show (what the
    intervals alone would say is kept in the line)."""
    decided = [r for r in rows if not r.est.single]
    if not decided:
        return Gate("cannot decide", f"cannot decide: 1 repetition ({interval.SANITY}; no row has an interval)")
    verdict = _evidence(decided, geo, limit, alpha)
    busy = [s.label for s in sides if s.busy]
    if busy:
        return Gate("cannot decide", f"cannot decide: {' and '.join(busy)} made on a busy machine "
                                     f"(the intervals alone would say {verdict.result}: {verdict.why})")
    return verdict


def _evidence(decided, geo, limit, alpha):
    """FAIL / PASS from the intervals and p values of the rows that have an interval. A single
    row fails the gate only at p < alpha / rows (Bonferroni): with hundreds of rows some
    would fall below alpha by chance alone."""
    giv = geo.interval()
    row_alpha = alpha / len(decided)
    worse = [r.name for r in decided
             if r.est.interval()[0] > limit and r.p is not None and r.p < row_alpha]
    why = []
    if giv and giv[0] > limit:
        why.append(f"geomean {geo.value:.3f}, 95% interval {giv[0]:.3f}-{giv[1]:.3f}, wholly above {limit:g}")
    if worse:
        why.append(f"{len(worse)} significantly slower above {limit:g} (whole interval above it, "
                   f"p < {alpha:g} / {len(decided)} rows): "
                   f"{', '.join(worse)}")
    if why:
        return Gate("FAIL", "; ".join(why))
    gtext = f"geomean {geo.value:.3f}" + (f" (95% interval {giv[0]:.3f}-{giv[1]:.3f})" if giv else "")
    if giv and giv[1] > limit:
        return Gate("PASS", f"{gtext} straddles {limit:g}: not shown to regress; more repetitions/processes "
                            f"would settle it")
    return Gate("PASS", f"{gtext} <= {limit:g} and no significant single regression above it")


def side_lines(sides):
    """One line per side: what it is, how it was made."""
    return [f"{s.label}: {s.path}  commit {s.commit}  samples per row {s.samples} (processes x repetitions)  "
            f"min time {s.min_time}  preflight {s.preflight}" + ("  [busy]" if s.busy else "")
            for s in sides]


def table_lines(rows):
    header = ("benchmark", "base", "new", "new/base", "95% interval", "p", "samples new/base", "verdict")
    cells = [(r.name, fmt_ns(r.base, 4), fmt_ns(r.new, 4), f"{r.ratio:.3f}",
              "-" if r.est.single else "{:.3f}-{:.3f}".format(*r.est.interval()),
              "-" if r.p is None else f"{r.p:.3g}", r.samples, r.verdict) for r in rows]
    widths = [max(len(row[i]) for row in [header] + cells) for i in range(len(header))]
    return ["  ".join(c.ljust(w) if i in (0, 6, 7) else c.rjust(w)
                      for i, (c, w) in enumerate(zip(row, widths))).rstrip() for row in [header] + cells]


def geomean_line(rows, geo, covered, left_out):
    """The geomean of new/base over the rows with an interval, and its 95% interval."""
    iv = geo.interval()
    ivtext = (f", 95% interval {iv[0]:.3f}-{iv[1]:.3f} (bootstrap over rows and their resamples)" if iv
              else f" ({interval.SANITY}: no interval)")
    skipped = len(rows) - covered
    if skipped:
        left_out = ", ".join(x for x in (left_out, f"{skipped} with 1 repetition left out of the mean") if x)
    return (f"geometric-mean ratio over {covered} benchmarks: {geo.value:.3f}{ivtext}"
            + (f" (not compared: {left_out})" if left_out else ""))


def geomean_of(rows):
    """The geomean Estimate over the rows that have an interval; over every row, without an
    interval, when none has one. Returns (Estimate, how many rows it covers)."""
    decided = [r.est for r in rows if not r.est.single]
    return interval.geomean(decided or [r.est for r in rows]), len(decided or rows)


# ---- A/A: the same build measured twice (compare.py --aa) -------------------------------------

AA_OVERLAP_TARGET = 0.95   # share of rows whose two runs' median intervals overlap
AA_LOG_TARGET = 0.03       # median |log(run 2 / run 1)|


@dataclass
class Repeatability:
    """How well two runs of one build agree, over the rows with an interval on both sides."""
    rows: int                # rows with samples enough for an interval on both sides
    overlap: int             # rows whose two 95% intervals of the median overlap
    holds_one: int           # rows whose ratio's 95% interval holds 1 (the stricter test)
    median_abs_log: float    # median over those rows of |log(new median / base median)|
    worst: list              # the rows with the largest |log ratio|, worst first
    level: float             # the most any per-side interval could claim (few samples)


def _median_interval(bench, tag):
    est = interval.estimate([(bench, "real_time", tag)], lambda x: x)
    return est, est.interval()


def repeatability(base, new, rows, worst=5):
    """The A/A figures over rows (ab.compare's) that have an interval: each side's 95%
    bootstrap interval of its median (seeded per side), whether the two overlap, whether the
    ratio's interval holds 1, and |log ratio|. None when no row has an interval."""
    decided = [r for r in rows if not r.est.single]
    if not decided:
        return None
    overlap = holds_one = 0
    level = 1.0
    for r in decided:
        (eb, (blo, bhi)), (en, (nlo, nhi)) = (_median_interval(base.benches[r.key or r.name], BASE),
                                              _median_interval(new.benches[r.key or r.name], NEW))
        level = min(level, eb.max_level(), en.max_level())
        overlap += blo <= nhi and nlo <= bhi
        lo, hi = r.est.interval()
        holds_one += lo <= 1 <= hi
    median = statistics.median(abs(math.log(r.ratio)) for r in decided)
    ranked = sorted(decided, key=lambda r: abs(math.log(r.ratio)), reverse=True)[:worst]
    return Repeatability(len(decided), overlap, holds_one, median, ranked, level)


def repeatability_lines(rep):
    """The A/A summary, each figure with what it means and its target (issue 17)."""
    if rep is None:
        return [f"A/A: no row has an interval on both sides ({interval.SANITY}): nothing to judge"]
    share = rep.overlap / rep.rows
    met = lambda ok: "met" if ok else "NOT met"   # noqa: E731
    lines = [
        f"A/A repeatability (base and new taken as two runs of one build), over {rep.rows} rows with an "
        f"interval on both sides:",
        f"  rows whose two 95% intervals of the median overlap: {rep.overlap} of {rep.rows} ({share:.1%}; "
        f"target >= {AA_OVERLAP_TARGET:.0%}: {met(share >= AA_OVERLAP_TARGET)})",
        f"  rows whose new/base 95% interval holds 1 (the stricter test): {rep.holds_one} of {rep.rows} "
        f"({rep.holds_one / rep.rows:.1%})",
        f"  median |log(new/base)|: {rep.median_abs_log:.4f} (a typical row moved {math.expm1(rep.median_abs_log):.1%}; "
        f"target <= {AA_LOG_TARGET:.0%}: {met(rep.median_abs_log <= AA_LOG_TARGET)})",
    ]
    if rep.level < interval.LEVEL:
        lines.append(f"  note: with these sample counts a per-side interval can claim at most {rep.level:.1%} "
                     f"(interval.py), so 'overlap' is judged on intervals narrower than a true 95%")
    lines.append("  rows that moved most (new/base, 95% interval):")
    lines += [f"    {r.name}: {r.ratio:.3f} ({'{:.3f}-{:.3f}'.format(*r.est.interval())})" for r in rep.worst]
    return lines


def run(base_path, new_path, alpha=0.05, fail_above=None, aa=False, strict=False):
    """compare.py's timings, start to end: load both runs, print the side lines, the table,
    the geomean (and with aa the A/A repeatability), warn about sides too busy or too short
    to decide, then the gate when fail_above is given. Returns the exit status (0 no
    regression shown or cannot decide, 1 regression); unusable input (or, with strict, a busy
    or too-short side) prints one line and exits 2."""
    require("scipy")
    import scipy.stats   # only after require() has said what to install
    try:
        base, new = (load_files(json_files([p]), Path(p)) for p in (base_path, new_path))
    except RunError as e:
        fail(str(e))
    sides = [Side.of("base", base), Side.of("new", new)]
    problems = [p for side in sides for p in side.problems()]
    if strict and problems:
        fail(f"--strict: refusing to compare: {'; '.join(problems)}")
    rows, left_out = compare(base, new, alpha, scipy.stats)
    if not rows:
        fail(f"{base.path} and {new.path} have no benchmark in common that ran without error")
    print("\n".join(side_lines(sides)))
    print(f"new/base = ratio of median real_time, or of time per item for rows marked (per item) "
          f"(above 1: new is slower); 95% interval = seeded bootstrap "
          f"of it; p = two-sided Mann-Whitney U over the samples, significant below {alpha:g}")
    print("\n".join(table_lines(rows)))
    geo, covered = geomean_of(rows)
    print(geomean_line(rows, geo, covered, left_out))
    if aa:
        print("\n".join(repeatability_lines(repeatability(base, new, rows))))
    for p in problems:
        warn(f"{p}; its ratios are not evidence (--strict refuses such input)")
    if fail_above is None:
        return 0
    verdict = gate(rows, geo, fail_above, alpha, sides)
    if verdict.result == "cannot decide":
        print(verdict.why)
        warn("the gate could not decide: run again on a quiet machine, with more repetitions "
             "(bench.sh --repetitions N) or processes")
        return 0
    print(f"{verdict.result}: {verdict.why}")
    return 1 if verdict.result == "FAIL" else 0
