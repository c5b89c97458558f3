"""The built-in noise check: rows that measure the same work must agree within their intervals.

Twins: for one contender, capacity and payload, channel spsc, mpsc producers:1/consumers:1 and
mpmc producers:1/consumers:1 all move messages from one producer thread to one consumer
thread through the same channel, so their messages/s should be equal. For each pair of twins
the check bootstraps the ratio of their medians (interval.py) and flags the group when a
pair's 95% interval leaves out 1: the difference between twins is then larger than the
intervals account for (placement, frequency, a neighbour), and every interval of the run is
to be read as that much too narrow. At 95% about 1 pair in 20 is flagged by chance alone.
"""
from dataclasses import dataclass
from itertools import combinations

from . import interval
from .kinds import IMPL_ORDER
from .fmt import fmt_payload, fmt_si, md_table, rank

TWIN_SCENARIOS = ("spsc", "mpsc", "mpmc")   # with one producer and one consumer: the same work
METRIC = "items_per_second"


@dataclass
class TwinGroup:
    contender: str
    cap: str
    payload: str
    benches: list        # the twins, in TWIN_SCENARIOS order
    pairs: list          # (bench a, bench b, Estimate of median(a) / median(b))

    @property
    def spread(self):
        """Largest median / smallest median of the twins (1.00 = they agree exactly)."""
        medians = [b.median(METRIC) for b in self.benches]
        return max(medians) / min(medians)

    @property
    def disagreeing(self):
        """The pairs whose 95% interval of the ratio leaves out 1."""
        out = []
        for a, b, est in self.pairs:
            iv = est.interval()
            if iv is not None and (iv[0] > 1 or iv[1] < 1):
                out.append((a, b, est))
        return out

    @property
    def checkable(self):
        return any(not est.single for _, _, est in self.pairs)


def is_twin(bench):
    return (bench.family == "channel" and bench.scenario in TWIN_SCENARIOS
            and bench.keys.get("producers", "1") == "1" and bench.keys.get("consumers", "1") == "1"
            and bench.median(METRIC))


def twin_groups(benches):
    """Every group of two or more twins in the run, with an Estimate per pair."""
    by = {}
    for b in benches:
        if is_twin(b):
            by.setdefault((b.contender, b.keys.get("cap", "?"), b.keys.get("payload", "?")), []).append(b)
    groups = []
    for (contender, cap, payload), bs in sorted(by.items(), key=lambda kv: (rank(kv[0][0], IMPL_ORDER), kv[0][1:])):
        if len({b.scenario for b in bs}) < 2:
            continue
        bs.sort(key=lambda b: TWIN_SCENARIOS.index(b.scenario))
        pairs = [(a, b, interval.ratio(a, b, METRIC)) for a, b in combinations(bs, 2)]
        groups.append(TwinGroup(contender, cap, payload, bs, pairs))
    return groups


def section(benches):
    """The report's 'Noise check' section as Markdown lines (empty when the run has no twins)."""
    groups = twin_groups(benches)
    if not groups:
        return []
    lines = ["## Noise check", "",
             "Twins measure the same work: channel spsc, mpsc 1p/1c and mpmc 1p/1c of one contender, "
             "capacity and payload (one producer thread, one consumer thread). Spread = the fastest twin's "
             "median messages/s ÷ the slowest's; a group is flagged when the 95% interval of a pair's "
             "ratio leaves out 1, i.e. the twins differ by more than the intervals allow, and every "
             "interval in this report is then that much too narrow. About 1 pair in 20 is flagged by "
             "chance alone.", ""]
    checkable = [g for g in groups if g.checkable]
    flagged = [g for g in checkable if g.disagreeing]
    npairs = sum(len(g.pairs) for g in checkable)
    nflag = sum(len(g.disagreeing) for g in checkable)
    if not checkable:
        return lines + [f"Not checked: {interval.SANITY} (every twin has one sample).", ""]
    lines += [f"**{len(flagged)} of {len(checkable)} twin groups disagree** ({nflag} of {npairs} pairs "
              f"outside their 95% interval; by chance about {npairs * 0.05:.1f}).", ""]
    if flagged:
        rows = []
        for g in flagged:
            twins = ", ".join(f"{b.scenario} {fmt_si(b.median(METRIC))}" for b in g.benches)
            pairs = "; ".join(f"{a.scenario} ÷ {b.scenario} {est.value:.3g} "
                              f"({interval.fmt_interval(est)}, {est.samples_text()})" for a, b, est in g.disagreeing)
            rows.append((g.contender, g.cap, fmt_payload(g.payload), twins, f"{g.spread:.3g}", pairs))
        lines += md_table(("contender", "cap", "payload", "twins (median messages/s)", "spread",
                           "disagreeing pairs: ratio (95% interval, samples)"), rows) + [""]
    return lines
