"""Speed goals: targets attached to the headline ratios (headlines.py) or, for the one goal
that is a value, to one benchmark's median. A goal never computes a ratio of its own.

Each goal picks headline rows (family, scenario, contender, keys), takes the worst row
against its target, and says PASS (every row meets it), MISS (one or more does not), not
measured (the run lacks the rows: a filtered run, no peers) or not applicable (the goal is
for machines with more cores than the run had; the measured value is still shown).
Only 8-byte payload rows count for channel goals.
"""
from dataclasses import dataclass
from typing import Callable

from . import machine
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
    measured: str
    target: str
    result: str     # PASS, MISS, not measured, not applicable
    meaning: str


def _fmt(value, unit):
    return f"{value:.3f}%" if unit == "%" else f"{value:.2f}x"


def _applies(goal, cores):
    if goal.min_cores and (cores or 0) < goal.min_cores:
        return "not applicable", f" [goal for {goal.min_cores}+ cores; this run: {cores or '?'}]"
    return None, ""


def judge(goal, headlines, run):
    """The Verdict of one goal on one run."""
    target = f"{goal.op} {goal.target:g}{'%' if goal.unit == '%' else 'x'}"
    cores = machine.cores(run)
    na, note = _applies(goal, cores)
    if isinstance(goal, ValueGoal):
        bench = run.find(goal.family, goal.scenario, **goal.keys)
        value = bench.median(goal.metric) if bench else None
        if value is None:
            why = "failed" if bench and bench.error else "not in this run"
            return Verdict(goal.name, "-", target, "not measured", f"{goal.meaning} [{goal.scenario} {why}]")
        ok = OPS[goal.op](value, goal.target)
        return Verdict(goal.name, _fmt(value, goal.unit), target, na or ("PASS" if ok else "MISS"),
                       goal.meaning + note)
    rows = goal.rows(headlines)
    valued = [h for h in rows if h.value is not None]
    if not valued:
        why = f" [{rows[0].sentence}]" if rows else " [no rows for it in this run]"
        return Verdict(goal.name, "-", target, "not measured", goal.meaning + why)
    measured = [(goal.measure(h), h) for h in valued]
    worst_first = sorted(measured, key=lambda m: m[0], reverse=goal.op.startswith("<"))
    value, worst = worst_first[0]
    passing = sum(OPS[goal.op](v, goal.target) for v, _ in measured)
    if len(measured) > 1:
        where = f" [worst: {worst.title} vs {worst.contender}; {passing} of {len(measured)} meet it]"
    else:
        where = f" [{worst.sentence}]" if goal.explain else ""
    return Verdict(goal.name, _fmt(value, goal.unit), target,
                   na or ("PASS" if passing == len(measured) else "MISS"), goal.meaning + where + note)


def judge_all(headlines, run):
    return [judge(g, headlines, run) for g in GOALS]


def summary(verdicts):
    counts = {s: sum(v.result == s for v in verdicts)
              for s in ("PASS", "MISS", "not measured", "not applicable")}
    return (", ".join(f"{n} {s}" for s, n in counts.items()) +
            " (ratios from one run; on a shared or busy machine they are sanity checks only)")


HEADER = ("goal", "measured", "target", "result", "what it means")


def as_text(verdicts):
    """goals.txt / goals.py's output: a padded table and the count line."""
    rows = [(v.goal, v.measured, v.target, v.result, v.meaning) for v in verdicts]
    return "\n".join(text_table(HEADER, rows) + ["", summary(verdicts)]) + "\n"


def as_markdown(verdicts):
    rows = [(v.goal, v.measured, f"{v.target}", f"**{v.result}**" if v.result in ("PASS", "MISS")
             else v.result, v.meaning) for v in verdicts]
    return md_table(HEADER, rows) + ["", summary(verdicts)]
