"""The harness floor: how much of each channel flow row is the crew's own round.

A flow row (channel spsc, mpsc, mpmc) times one round of its crew per iteration: the clock
starts when the benchmark thread releases the P producers and C consumers parked at the
start gate and stops when it sees the last consumer report its last message (bench/kit.hpp's
bench::Crew; bench/rust/src/crew.rs and bench/go/crew.go are the same protocol). The crew
rows, channel/crew/impl:<what runs it>/producers:P/consumers:C (impl:std_thread in C++,
rust_thread, goroutine), time the same round with nothing to send: the release and wake-up
of the parked crew and the noticing of the last consumer, which every flow row of that
shape and language contains too.

    share = median real_time of the crew row of the flow row's language, P and C
            / median real_time of the flow row (ns per round / ns per iteration)

A share of 5% says that 5% of the row's time per iteration is the harness, not the
messages: its messages/s would be about 5% higher without it. Rows at or above SHOWN_FROM
are listed; the summary says how many flow rows are below it and which row has the most.
"""
from dataclasses import dataclass

from .fmt import fmt_ns

FLOW_SCENARIOS = ("spsc", "mpsc", "mpmc")
CREW_SCENARIO = "crew"
SHOWN_FROM = 0.02   # a floor share from 2% up is listed row by row


@dataclass
class FloorShare:
    row: object     # the flow row (a load.Bench)
    floor: object   # the crew row of its language and shape
    share: float    # floor ns per round / row ns per iteration (medians of real_time)

    @property
    def floor_ns(self):
        return self.floor.median("real_time")

    @property
    def row_ns(self):
        return self.row.median("real_time")


def _shape(bench):
    return bench.language, bench.keys.get("producers"), bench.keys.get("consumers")


def is_flow(bench):
    return bench.family == "channel" and bench.scenario in FLOW_SCENARIOS


def is_crew(bench):
    return bench.family == "channel" and bench.scenario == CREW_SCENARIO


def floor_shares(benches):
    """(shares, unmatched): a FloorShare per measured flow row that has a measured crew row
    of its language and shape, in the given order; and the measured flow rows that have
    none (a run made before the crew rows existed, or a filter that left them out).
    Failed rows, and rows without a real_time, are in neither list."""
    benches = list(benches)
    floors = {}
    for b in benches:
        if is_crew(b) and b.median("real_time"):
            floors.setdefault(_shape(b), b)
    shares, unmatched = [], []
    for b in benches:
        if not is_flow(b) or not b.median("real_time"):
            continue
        floor = floors.get(_shape(b))
        if floor is None:
            unmatched.append(b)
        else:
            shares.append(FloorShare(b, floor, floor.median("real_time") / b.median("real_time")))
    return shares, unmatched


def fmt_share(share):
    """0.0412 -> '4.1%', 0.123 -> '12%', 0.0004 -> '0.04%': a percentage to one decimal below
    10%, whole from there, two decimals below 0.1%."""
    pct = 100 * share
    return f"{pct:.0f}%" if pct >= 10 else f"{pct:.1f}%" if pct >= 0.1 else f"{pct:.2f}%"


def summary(shares):
    """'floor share under 2% on N of M flow rows; max X% at ROW' (None without shares)."""
    if not shares:
        return None
    under = sum(1 for s in shares if s.share < SHOWN_FROM)
    top = max(shares, key=lambda s: s.share)
    return (f"floor share under {SHOWN_FROM:.0%} on {under} of {len(shares)} flow rows; "
            f"max {fmt_share(top.share)} at `{top.row.name}`")


def section(benches):
    """The report's 'Harness floor' section as Markdown lines, the shape of noise.section:
    empty when the run has no crew row (a run made before they existed says nothing)."""
    shares, unmatched = floor_shares(benches)
    if not shares:
        return []
    lines = ["## Harness floor", "",
             "A channel spsc/mpsc/mpmc row times one round of its crew: from releasing the parked "
             "producers and consumers to seeing the last consumer's last message. The crew rows "
             "(channel/crew/...) time the same round with nothing to send, per language and "
             "producers x consumers: that much of each row of their shape is the harness, not the "
             "messages. Floor share = the crew row's median time per round ÷ the row's median time "
             "per iteration.", "",
             summary(shares) + ".", ""]
    shown = sorted((s for s in shares if s.share >= SHOWN_FROM), key=lambda s: (-s.share, s.row.name))
    lines += [f"- `{s.row.name}`: floor is {fmt_share(s.share)} of this row ({fmt_ns(s.floor_ns)} per "
              f"round of `{s.floor.name}` ÷ {fmt_ns(s.row_ns)} per iteration)" for s in shown]
    if shown:
        lines.append("")
    if unmatched:
        lines += [f"{len(unmatched)} flow row{'s have' if len(unmatched) > 1 else ' has'} no crew row of "
                  "the same language and producers x consumers in this run, so no floor share.", ""]
    return lines
