"""Confidence intervals on the numbers made from medians: a seeded bootstrap.

A benchmark row's samples are its iteration entries (one per repetition), from every process
that ran it: a process is the entry's own process_index / threadbench_process field when it
has one, and the JSON file it came from (a row found in two files ran in two processes, as in
bench.sh's merged rounds). An Estimate is a number made from the medians of one or more rows
(a ratio of two medians, the per-task overhead ratio, one row's median): its value is that
function of the medians, and its draws are the same function of RESAMPLES bootstrap medians.

Each row is resampled on its own, two levels deep: draw its processes with replacement, then
within each drawn process its repetitions with replacement, and take the median of what was
drawn (one level, repetitions only, when it ran in one process). The random stream of a row is
seeded by its name, metric and a tag (compare.py's 'base'/'new'), so the same input gives the
same draws on every run, in any order, and two sides never share a stream. An interval is the
percentile interval of the draws: [q, 1 - q] quantiles with q = (1 - level) / 2.

With one sample on a side there is nothing to resample: the Estimate has no draws and no
interval, and says SANITY instead.

Few samples: a bootstrap interval of a median can never be wider than the samples' range, so
it cannot reach every confidence level. The range [x(1), x(n)] of n samples holds the true
median with probability 1 - 2^(1-n) (75% at n = 3, 93.75% at n = 5, 98.4% at n = 7), and a
number made from k rows can claim at most the product over its rows (Estimate.max_level). A
verdict asked at a higher level than that is UNCLEAR ("too few samples"), whatever the
interval says: with 5 samples a row no ratio of two rows can be judged at 95% (at most 88%);
7 samples a row reach 96.9%.
"""
import math
import random
import zlib
from dataclasses import dataclass
from functools import lru_cache

RESAMPLES = 2000        # bootstrap draws per row; quantiles down to 1/2000 are resolvable
LEVEL = 0.95            # the confidence of every interval printed, unless a goal says otherwise
SANITY = "1 repetition: sanity check only"   # printed where a number has no interval
PROCESS_FIELDS = ("process_index", "threadbench_process")   # per-process fields an entry may carry


def process_of(entry):
    """The process an iteration entry came from: its file (load.py records it) and the
    per-process field when the JSON has one."""
    field = next((entry[f] for f in PROCESS_FIELDS if f in entry), None)
    return (entry.get("threadbench_file", ""), "" if field is None else str(field))


def groups(bench, metric):
    """A row's samples of metric per process, processes in order of first appearance:
    ((rep, rep, ...), (rep, ...), ...). Empty when the row failed or has no iteration entries."""
    if bench.error:
        return ()
    by = {}
    for e in bench.samples:
        if isinstance(e.get(metric), (int, float)):
            by.setdefault(process_of(e), []).append(float(e[metric]))
    return tuple(tuple(v) for v in by.values())


def shape(gs):
    """'2x5': processes x repetitions per process ('2x4-5' when processes differ; '0' none)."""
    if not gs:
        return "0"
    reps = sorted({len(g) for g in gs})
    per = str(reps[0]) if len(reps) == 1 else f"{reps[0]}-{reps[-1]}"
    return f"{len(gs)}x{per}"


def _median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


@lru_cache(maxsize=None)
def resampled_medians(gs, key):
    """RESAMPLES bootstrap medians of one row (gs: groups()), from the stream seeded by key."""
    rng = random.Random(zlib.crc32(key.encode()))
    if len(gs) == 1:
        reps, n = gs[0], len(gs[0])
        return tuple(_median(rng.choices(reps, k=n)) for _ in range(RESAMPLES))
    out = []
    for _ in range(RESAMPLES):
        drawn = []
        for g in rng.choices(gs, k=len(gs)):      # processes, with replacement
            drawn += rng.choices(g, k=len(g))     # then that process's repetitions
        out.append(_median(drawn))
    return tuple(out)


def quantile(sorted_draws, q):
    """The q-quantile of sorted draws (nearest rank, q in [0, 1])."""
    i = min(len(sorted_draws) - 1, max(0, math.ceil(q * len(sorted_draws)) - 1))
    return sorted_draws[i]


@dataclass
class Estimate:
    """A number made from row medians, with its bootstrap draws (None: no interval)."""
    value: float           # f(medians of the rows): the point the tables print
    draws: tuple = None    # f(resampled medians), sorted; None when a row has one sample
    shapes: tuple = ()     # processes x repetitions of each row, in the order f takes them
    raw: tuple = None      # the draws in resample order (to combine estimates draw by draw)
    counts: tuple = ()     # samples of each row (processes x repetitions, added up)

    def max_level(self):
        """The highest confidence an interval from these sample counts can honestly claim:
        the product over rows of 1 - 2^(1-n) (see the module's note); 1.0 with no counts
        (an estimate made of other estimates, such as a geomean over many rows)."""
        return math.prod(1 - 2.0 ** (1 - n) for n in self.counts) if self.counts else 1.0

    def samples_needed(self, level):
        """The fewest samples a row that make max_level() reach level (every row that many)."""
        k = max(1, len(self.counts))
        n = 2
        while (1 - 2.0 ** (1 - n)) ** k < level and n < 64:
            n += 1
        return n

    @property
    def single(self):
        return self.draws is None

    def interval(self, level=LEVEL):
        """(lo, hi) holding the value with confidence level; None without draws."""
        if self.draws is None:
            return None
        q = (1 - level) / 2
        return quantile(self.draws, q), quantile(self.draws, 1 - q)

    def inverse(self):
        """The Estimate of 1 / value (goals that compare a ratio the other way round)."""
        inv = lambda x: math.inf if x == 0 else 1 / x   # noqa: E731
        raw = None if self.raw is None else tuple(inv(d) for d in self.raw)
        return Estimate(None if self.value is None else inv(self.value),
                        None if raw is None else tuple(sorted(raw)), self.shapes, raw, self.counts)

    def samples_text(self):
        """'1x3 / 1x3': processes x repetitions of each row the number is made from."""
        return " / ".join(self.shapes)


def estimate(rows, f, tag=""):
    """Estimate of f(median of row 1's metric, median of row 2's, ...); rows: (bench, metric)
    or (bench, metric, tag) tuples (a row's own tag seeds its stream instead of tag: two runs'
    rows of the same name must not share one). The value uses each row's median as
    load.Bench.median gives it; None when a row has none or f gives None. f may return
    math.inf or nan for a draw (a denominator at 0)."""
    rows = [(r[0], r[1], r[2] if len(r) > 2 else tag) for r in rows]
    medians = [b.median(m) for b, m, _ in rows]
    gs = [groups(b, m) for b, m, _ in rows]
    shapes = tuple(shape(g) for g in gs)
    counts = tuple(sum(map(len, g)) for g in gs)
    if any(m is None for m in medians):
        return Estimate(None, None, shapes, None, counts)
    value = f(*medians)
    if value is None or any(n < 2 for n in counts):
        return Estimate(value, None, shapes, None, counts)
    columns = [resampled_medians(g, f"{t}|{b.name}|{m}") for g, (b, m, t) in zip(gs, rows)]
    draws = []
    for xs in zip(*columns):
        d = f(*xs)
        draws.append(math.nan if d is None else d)
    draws = tuple(math.inf if math.isnan(d) else d for d in draws)   # undefined draw: unbounded
    return Estimate(value, tuple(sorted(draws)), shapes, draws, counts)


def ratio(a, b, metric_a, metric_b=None, tag="", tags=None):
    """Estimate of median(a) / median(b); tags=(tag of a, tag of b) when a and b share a name."""
    ta, tb = tags or (tag, tag)
    return estimate([(a, metric_a, ta), (b, metric_b or metric_a, tb)],
                    lambda x, y: x / y if y else None)


def geomean(estimates, key="geomean"):
    """Estimate of the geometric mean of estimates' values (each positive, with raw draws).
    Each draw picks len(estimates) estimates with replacement and takes the geometric mean of
    their draws of that index: the interval holds both each row's own noise and how much the
    rows disagree (run-wide noise that one process per side cannot show inside a row)."""
    values = [e.value for e in estimates]
    point = math.exp(math.fsum(map(math.log, values)) / len(values))
    if any(e.raw is None for e in estimates):
        return Estimate(point, None, ())
    rng = random.Random(zlib.crc32(key.encode()))
    logs = [[math.log(d) if 0 < d < math.inf else (math.inf if d > 0 else -math.inf) for d in e.raw]
            for e in estimates]
    n = len(estimates)
    raw = []
    for i in range(RESAMPLES):
        picks = rng.choices(logs, k=n)
        raw.append(math.exp(math.fsum(p[i] for p in picks) / n) if n else 1.0)
    return Estimate(point, tuple(sorted(raw)), (), tuple(raw))


def fmt_bound(x):
    return "∞" if math.isinf(x) else f"{x:.3g}"


def fmt_interval(est, level=LEVEL, unit=""):
    """'0.95–1.03' (the interval at level), or SANITY when there is none."""
    iv = est.interval(level) if est is not None else None
    if iv is None:
        return SANITY
    return f"{fmt_bound(iv[0])}–{fmt_bound(iv[1])}{unit}"


def too_few(est, level=LEVEL):
    """True when est's sample counts cannot support an interval at level (max_level)."""
    return est.max_level() < level


def verdict(est, op, target, level=LEVEL):
    """PASS when the whole interval meets 'value op target', MISS when the whole interval
    misses it, UNCLEAR when it straddles the target, there is no interval, or the rows have
    too few samples for an interval at level to mean what it says (too_few)."""
    iv = est.interval(level)
    if iv is None or too_few(est, level):
        return "UNCLEAR"
    lo, hi = iv
    meets = {">=": lambda x: x >= target, "<=": lambda x: x <= target, "<": lambda x: x < target}[op]
    if meets(lo) and meets(hi):
        return "PASS"
    if not meets(lo) and not meets(hi):
        return "MISS"
    return "UNCLEAR"
