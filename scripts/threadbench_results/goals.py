"""Speed goals: targets attached to the headline ratios (headlines.py) or, for the one goal
that is a value, to one benchmark's median. A goal never computes a ratio of its own: it
reads each row's bootstrap Estimate (interval.py).

Each goal picks headline rows (family, scenario, contender, keys); every one of them must
meet the target. With k rows the goal reads each row's interval at 1 - 0.05/k (Bonferroni:
the k intervals hold together with 95% confidence), and says
  PASS          every row's whole interval meets the target;
  MISS          some row's whole interval misses it (that row is shown);
  UNCLEAR       neither: a row's interval straddles the target, or a row has one repetition
                (no interval: a sanity check only); the note says what would settle it;
  not measured  the run lacks the rows (a filtered run, no peers);
  not applicable  the goal is for machines with more cores than the run had (the measured
                value and its interval are still shown).
Only 8-byte payload rows count for channel goals.
"""
from dataclasses import dataclass
from typing import Callable

import textwrap

from . import interval, machine
from .fmt import md_table, text_table
from .kinds import LIMIT
from .names import key_value

OPS = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b}


def _payload8(keys):
    return keys.get("payload", "8") == "8"


@dataclass
class Goal:
    name: str
    family: str
    op: str
    target: float
    meaning: str
    scenarios: tuple = None          # headline scenarios; None = any
    contenders: tuple = None         # None = any but the atomic_spin limit
    where: Callable = _payload8      # keys -> bool
    invert: bool = False             # compare 1 / ratio (e.g. threadbench p50 / atomic_spin p50)
    best_of: bool = False            # per scenario, only the contender closest to threadbench counts
    min_cores: int = None
    unit: str = "x"
    explain: bool = False            # a single row's own sentence joins the meaning

    def rows(self, headlines):
        rows = [h for h in headlines if h.family == self.family
                and (self.scenarios is None or h.scenario in self.scenarios)
                and (h.contender in self.contenders if self.contenders else h.contender != LIMIT)
                and self.where(h.keys)]
        if self.best_of:   # the smallest speed-up of a scenario is the one over its best contender
            best = {}
            for h in rows:
                if h.value is not None and (h.title not in best or h.value < best[h.title].value):
                    best[h.title] = h
            rows = list(best.values())
        return rows

    def measure(self, h):
        return 1 / h.value if self.invert else h.value


@dataclass
class ValueGoal:
    """A goal on one benchmark's median (not a ratio): e.g. the idle receiver's CPU."""
    name: str
    family: str
    scenario: str
    keys: dict
    metric: str
    op: str
    target: float
    meaning: str
    unit: str = "%"
    min_cores: int = None


GOALS = (
    # The project's own goals (2-core development machine).
    *(Goal(f"ping_pong p50 RTT, {key_value('cap', cap)}", "channel", "<=", 2.5,
           "threadbench round-trip median / raw atomic spin round-trip median (1x = as fast as two "
           "cores can hand a cache line back and forth)", scenarios=("ping_pong",), contenders=(LIMIT,),
           where=lambda k, cap=cap: _payload8(k) and k.get("cap") == cap, invert=True)
      for cap in ("0", "1", "1024", "unbounded")),
    Goal("spsc cap:1024 vs tbb_bounded_queue", "channel", ">=", 5,
         "threadbench messages/s / tbb::concurrent_bounded_queue messages/s, 1 producer 1 consumer",
         scenarios=("spsc",), contenders=("tbb_bounded_queue",),
         where=lambda k: _payload8(k) and k.get("cap") == "1024"),
    Goal("spsc cap:1024 vs mutex_deque", "channel", ">=", 1.5,
         "threadbench messages/s / mutex+condvar deque messages/s, same setup",
         scenarios=("spsc",), contenders=("mutex_deque",),
         where=lambda k: _payload8(k) and k.get("cap") == "1024"),
    *(Goal(f"mpmc 8x8 {key_value('cap', cap)} vs mutex_deque", "channel", ">=", 1,
           "threadbench messages/s / mutex deque messages/s, 8 producers + 8 consumers",
           scenarios=("mpmc",), contenders=("mutex_deque",),
           where=lambda k, cap=cap: _payload8(k) and k.get("cap") == cap and k.get("producers") == "8")
      for cap in ("1024", "unbounded")),
    ValueGoal("idle receiver CPU", "channel", "idle_recv", {"impl": "threadbench"}, "cpu_pct", "<", 1,
              "CPU time of a receiver blocked on an empty channel / wall time x 100 (a value, not a ratio)"),
    Goal("pool per-task overhead, 1 us grain, T=2", "pool", "<=", 1.5,
         "channel_workers overhead / tbb_task_group overhead, overhead = T/(tasks/s) - grain",
         scenarios=("overhead",), where=lambda k: k.get("grain") == "1000" and k.get("threads") == "2",
         explain=True),
    Goal("pool_dispatch p50 / ping_pong cap:1 p50", "spawn", "<=", 1.2,
         "spawn/pool_dispatch's median round trip (a job to a running worker and its reply, two "
         "unbounded channels) / threadbench ping_pong's at cap:1 (issue 19's target: the pool, and the "
         "unbounded list's round trip against the ring's)",
         scenarios=("pool_dispatch ÷ ping_pong cap:1",), contenders=("ping_pong cap:1",)),
    # Against the Rust and Go peers (rows only when the run has them).
    Goal("every spsc/mpsc/mpmc vs rust:crossbeam", "channel", ">=", 1.0,
         "threadbench messages/s / crossbeam-channel's, worst shared scenario",
         scenarios=("spsc", "mpsc", "mpmc"), contenders=("rust:crossbeam",)),
    Goal("every spsc vs rust:std", "channel", ">=", 1.5,
         "threadbench messages/s / Rust std::sync::mpsc's, worst shared spsc scenario",
         scenarios=("spsc",), contenders=("rust:std",)),
    Goal("ping_pong p50 vs rust:crossbeam", "channel", ">=", 1.0,
         "crossbeam's p50 round trip / threadbench's (1 = no worse), worst capacity",
         scenarios=("ping_pong",), contenders=("rust:crossbeam",)),
    # On machines with 8 or more cores, where contention is real.
    Goal("unbounded spsc + mpsc 4p vs rust:std (8+ cores)", "channel", ">=", 1.5,
         "threadbench messages/s / Rust std::sync::mpsc's, unbounded, spsc and mpsc 4 producers",
         scenarios=("spsc", "mpsc"), contenders=("rust:std",), min_cores=8,
         where=lambda k: _payload8(k) and k.get("cap") == "unbounded" and k.get("producers") in ("1", "4")),
    Goal("mpsc/mpmc up to 8x8 vs best other (8+ cores)", "channel", ">=", 1.0,
         "threadbench messages/s / the fastest other contender's at the same capacity, worst scenario",
         scenarios=("mpsc", "mpmc"), best_of=True, min_cores=8,
         where=lambda k: _payload8(k) and float(k.get("producers", 0)) <= 8),
    Goal("ping_pong p50 vs atomic_spin, every cap (8+ cores)", "channel", "<=", 2.0,
         "threadbench round-trip median / raw atomic spin round-trip median, worst capacity",
         scenarios=("ping_pong",), contenders=(LIMIT,), invert=True, min_cores=8),
)


@dataclass
class Verdict:
    goal: str
    measured: str   # the shown row's point value: a ratio ('0.99x') or a value ('0.394%')
    interval: str   # its interval at the goal's level ('0.95-1.03x'), or '-' when it has none
    target: str
    result: str     # PASS, MISS, UNCLEAR, not measured, not applicable
    meaning: str    # what the number is, which row is shown, and what would settle UNCLEAR
    sanity: bool = False   # the row shown has 1 sample a side: no interval, a sanity check only


FAMILY_LEVEL = interval.LEVEL   # the confidence all of a goal's row intervals hold together


def _fmt(value, unit):
    if value is None:
        return "-"
    if unit == "%":
        return f"{value:.3f}%"
    return "inf" if value == float("inf") else f"{value:.2f}x"


def _fmt_iv(iv, unit):
    """'0.95-1.03x': an interval as the goals table prints it; '-' when there is none."""
    return "-" if iv is None else f"{_fmt(iv[0], unit)[:-1]}-{_fmt(iv[1], unit)}"


def _applies(goal, cores):
    if goal.min_cores and (cores or 0) < goal.min_cores:
        return "not applicable", f" [goal for {goal.min_cores}+ cores; this run: {cores or '?'}]"
    return None, ""


def _verdict(goal, measured, iv, target, result, meaning, na, note, sanity=False):
    """The Verdict; a goal that does not apply says what its interval would have given."""
    if na:
        note = f"{note[:-1]}; by its interval it would be {result}]"
    return Verdict(goal.name, measured, iv, target, na or result, meaning + note, sanity)


def _level(k):
    """The per-row confidence that makes k row intervals hold together at FAMILY_LEVEL."""
    return 1 - (1 - FAMILY_LEVEL) / k


def _settle(est, level, goal, unit):
    """What would settle an UNCLEAR row: its samples and how wide its interval is."""
    if est.single:
        return f"{interval.SANITY} ({est.samples_text()} samples); settle: more repetitions/processes"
    if interval.too_few(est, level):
        return (f"too few samples for a {level:.2%} interval: {est.samples_text()} (processes x "
                f"repetitions) can claim at most {est.max_level():.1%}; settle: at least "
                f"{est.samples_needed(level)} samples a row (bench.sh --processes / --repetitions)")
    lo, hi = est.interval(level)
    return (f"interval {_fmt_iv((lo, hi), unit)} (width {_fmt(hi - lo, unit)}) straddles the "
            f"target {goal.target:g}{'%' if unit == '%' else 'x'}; settle: more repetitions/processes "
            f"than {est.samples_text()}, or a quieter machine")


def _judge_value(goal, run, target, na, note):
    bench = run.find(goal.family, goal.scenario, **goal.keys)
    value = bench.median(goal.metric) if bench else None
    if value is None:
        why = "failed" if bench and bench.error else "not in this run"
        return Verdict(goal.name, "-", "-", target, "not measured", f"{goal.meaning} [{goal.scenario} {why}]")
    est = interval.estimate([(bench, goal.metric)], lambda x: x)   # the row's median itself
    result = interval.verdict(est, goal.op, goal.target)
    extra = "" if result != "UNCLEAR" else "; " + _settle(est, interval.LEVEL, goal, goal.unit)
    return _verdict(goal, _fmt(value, goal.unit), _fmt_iv(est.interval(), goal.unit), target, result,
                    goal.meaning + extra, na, note, est.single)


def judge(goal, headlines, run):
    """The Verdict of one goal on one run."""
    target = f"{goal.op} {goal.target:g}{'%' if goal.unit == '%' else 'x'}"
    cores = machine.cores(run)
    na, note = _applies(goal, cores)
    if isinstance(goal, ValueGoal):
        return _judge_value(goal, run, target, na, note)
    rows = goal.rows(headlines)
    valued = [h for h in rows if h.value is not None and h.estimate is not None]
    if not valued:
        why = f" [{rows[0].sentence}]" if rows else " [no rows for it in this run]"
        return Verdict(goal.name, "-", "-", target, "not measured", goal.meaning + why)
    level = _level(len(valued))
    # each row: (its verdict, its Estimate in the goal's direction, the headline)
    judged = []
    for h in valued:
        est = h.estimate.inverse() if goal.invert else h.estimate
        judged.append((interval.verdict(est, goal.op, goal.target, level), est, h))
    worse = goal.op.startswith("<")   # larger is worse for <= / < goals
    worst_first = sorted(judged, key=lambda j: j[1].value, reverse=worse)
    counts = {r: sum(j[0] == r for j in judged) for r in ("PASS", "MISS", "UNCLEAR")}
    if counts["MISS"]:
        result = "MISS"
        shown = next(j for j in worst_first if j[0] == "MISS")
    elif counts["UNCLEAR"]:
        result = "UNCLEAR"
        shown = next(j for j in worst_first if j[0] == "UNCLEAR")
    else:
        result = "PASS"
        shown = worst_first[0]
    _, est, h = shown
    if len(judged) > 1:
        where = (f" [shown: {h.title} vs {h.contender}; of {len(judged)} rows {counts['PASS']} PASS, "
                 f"{counts['MISS']} MISS, {counts['UNCLEAR']} UNCLEAR; intervals at {level:.2%} each, "
                 f"{FAMILY_LEVEL:.0%} together]")
    else:
        where = f" [{h.sentence}]" if goal.explain else ""
    if result == "UNCLEAR":
        where += "; " + _settle(est, level, goal, goal.unit)
    return _verdict(goal, _fmt(est.value, goal.unit), _fmt_iv(est.interval(level), goal.unit), target, result,
                    goal.meaning + where, na, note, est.single)


def judge_all(headlines, run):
    return [judge(g, headlines, run) for g in GOALS]


RESULTS = ("PASS", "MISS", "UNCLEAR", "not measured", "not applicable")


def summary(verdicts):
    counts = {s: sum(v.result == s for v in verdicts) for s in RESULTS}
    return ", ".join(f"{n} {s}" for s, n in counts.items())


LEGEND = ("measured: the ratio (or value) of the row shown, from the medians; interval: its bootstrap "
          "confidence interval (95%, or 1 - 0.05/k per row when a goal covers k rows, so that all k "
          "hold together at 95%); PASS / MISS only when the whole interval meets / misses the target, "
          "UNCLEAR when it straddles, a row has 1 repetition (sanity check only), or the rows have too "
          "few samples for that confidence (n samples bound a median with at most 1 - 2^(1-n): a ratio "
          "of two rows needs 7 a row for 95%).")
HEADER = ("goal", "measured", "interval", "target", "result", "note")
WIDTH = 120   # goals.txt's line width: the table, then the notes wrapped to it


def busy_line(run):
    """A line for a run made on a busy machine (machine.busy_reasons), else None."""
    if not machine.busy_reasons(run):
        return None
    return ("Made on a busy machine (report.md says why in its first lines): a load that came and went "
            "shifts whole processes, which intervals from one process per row do not hold; read PASS and "
            "MISS here as provisional.")


def as_text(verdicts, run=None):
    """goals.txt / goals.py's output: a padded table, the count line, then one note per goal."""
    rows = [(v.goal, v.measured, v.interval, v.target, v.result, f"[{n}]") for n, v in enumerate(verdicts, 1)]
    busy = busy_line(run) if run is not None else None
    lines = text_table(HEADER, rows) + ["", summary(verdicts), ""]
    lines += textwrap.wrap(busy, WIDTH) + [""] if busy else []
    lines += textwrap.wrap(LEGEND, WIDTH) + [""]
    for n, v in enumerate(verdicts, 1):
        lines += textwrap.wrap(f"[{n}] {v.goal}: {v.meaning}", WIDTH, subsequent_indent="     ",
                               break_on_hyphens=False)
    return "\n".join(lines) + "\n"


def _bold(result):
    return f"**{result}**" if result in ("PASS", "MISS", "UNCLEAR") else result


def as_summary(verdicts):
    """report.md's Summary of the goals: one row a goal, its result first, then the measured
    value, its interval (interval.SANITY, '1 repetition: sanity check only', where the row
    shown has one sample) and the target, then the count line. The notes stay in the Speed
    goals section and goals.txt."""
    rows = [(v.goal, _bold(v.result), v.measured, interval.SANITY if v.sanity else v.interval, v.target)
            for v in verdicts]
    return md_table(("goal", "result", "measured", "interval", "target"), rows) + ["", summary(verdicts)]


def as_markdown(verdicts, run=None):
    rows = [(v.goal, v.measured, v.interval, v.target, _bold(v.result), v.meaning) for v in verdicts]
    return md_table(("goal", "measured", "interval", "target", "result", "what it means"), rows) + \
        ["", summary(verdicts), "", LEGEND] + (["", busy_line(run)] if run is not None and busy_line(run) else [])
