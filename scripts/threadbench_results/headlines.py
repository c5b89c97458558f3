"""The ratios report.md leads with, as data: one Headline per (scenario, subject, contender).
Goals (goals.py) are targets over these rows; nothing else computes a ratio.

Directions, each stated where the row is made:
  channel  speed-up of threadbench over a contender: threadbench messages/s / the contender's
           (throughput), or the contender's p50 round trip / threadbench's (ping_pong);
           above 1 threadbench is faster.
  spawn    cost ratio a / b of two ways to start work (median time per thread or task), and
           pool_dispatch's p50 round trip / threadbench ping_pong's at cap:1.
  pool     tbb_task_group tasks/s / another method's tasks/s (above 1 TBB is faster), and
           channel_workers' per-task overhead / tbb_task_group's, where
           overhead = threads / (tasks/s) - grain: thread-time a task costs beyond its work.

Every row carries an interval.Estimate of its ratio: the same function of the two rows'
medians, bootstrapped over their repetitions (and processes), for a 95% interval.
"""
import math
from collections import defaultdict
from dataclasses import dataclass, field

from . import interval
from .fmt import describe, fmt_ns, rank
from .kinds import IMPL_ORDER, LIMIT, ping_pong_panels
from .load import value_order
from .names import keys_text

SAME = 1.05   # ratios within 5% of 1 are reported as "on par"


@dataclass
class Headline:
    family: str
    scenario: str        # the benchmark scenario: 'spsc', 'ping_pong', 'std_thread ÷ pthread', ...
    title: str           # the row's scenario as the report prints it: 'mpmc 4p/4c cap:1024 payload:8'
    subject: str         # whose ratio it is: 'threadbench', 'tbb_task_group', 'std_thread'
    contender: str       # against whom: 'rust:crossbeam', 'go:workers', 'pthread'
    value: float         # the ratio (direction: see the module docstring); None if not computable
    sentence: str        # what it means, in words (or why there is no value)
    keys: dict = field(default_factory=dict)   # the scenario's keys (impl left out)
    estimate: interval.Estimate = None   # value with its bootstrap draws (interval.py)


def speed_sentence(ratio, contender, unit):
    """What threadbench's speed-up over a contender means, in words."""
    if contender == LIMIT:
        return f"threadbench reaches {ratio:.0%} of the bare spinning hand-off, the hardware limit"
    if ratio >= SAME:
        return f"threadbench is {ratio:.3g}× faster than {contender} ({unit})"
    if ratio <= 1 / SAME:
        return f"threadbench is {1 / ratio:.3g}× slower than {contender} ({unit})"
    return f"threadbench and {contender} are on par (within {SAME - 1:.0%}, {unit})"


def channel(throughput, latency):
    """threadbench vs each other contender (C++ and peers), per scenario, capacity, payload."""
    groups = defaultdict(list)
    for b in throughput:
        groups[describe(b, skip=("impl",))].append(b)
    comparisons = [(title, bs, "items_per_second", "messages/s") for title, bs in groups.items()]
    comparisons += [(title, bs + ([limit] if limit else []), "p50_ns", "median round trip")
                    for title, (bs, limit) in ping_pong_panels(latency).items()]
    rows = []
    for title, benches, metric, unit in comparisons:
        value = {b.contender: b.median(metric) for b in benches}
        bench = {b.contender: b for b in benches}
        ours = next((b for b in benches if b.contender == "threadbench"), None)
        if ours is None or not value["threadbench"]:
            continue
        keys = {k: v for k, v in ours.keys.items() if k != "impl"}
        for impl in sorted(set(value) - {"threadbench"}, key=lambda i: rank(i, IMPL_ORDER)):
            if not value[impl]:
                continue
            # a speed-up: more messages/s, or a shorter round trip
            est = interval.ratio(ours, bench[impl], metric) if metric == "items_per_second" \
                else interval.ratio(bench[impl], ours, metric)
            ratio = est.value
            rows.append(Headline("channel", ours.scenario, title, "threadbench", impl, ratio,
                                 speed_sentence(ratio, impl, unit), keys, est))
    return rows


SPAWN_PAIRS = (  # (a, b, sentence): "a costs r x b", then what that means
    ("std_thread", "pthread", "what std::thread adds to a bare pthread_create + join"),
    ("std_thread", "pool_dispatch", "a fresh thread per job vs handing the job to threads already running"),
    ("std_thread", "tbb_task", "a fresh thread per job vs a oneTBB task: work much shorter than a spawn "
                               "belongs in tasks"),
    ("pool_dispatch", "tbb_task", "our pool's hand-off vs oneTBB's task spawn"),
    ("std_thread", "rust:thread", "C++ std::thread vs Rust's std::thread::spawn + join: both start an OS thread"),
    ("std_thread", "go:goroutine", "an OS thread vs a goroutine (go + WaitGroup), a task on Go's own scheduler"),
    ("rust:thread", "go:goroutine", "Rust's OS thread vs a goroutine"),
    ("tbb_task", "rust:rayon_task", "a oneTBB task vs a rayon task (spawn into the pool and wait)"),
    ("tbb_task", "go:goroutine", "a oneTBB task vs a goroutine"),
)


def spawn(benches):
    """Cost ratios of the spawn methods (keyless benchmarks: one thread or task each)."""
    cost, row = {}, {}
    for b in benches:
        if not b.keys:
            metric = "ns_per_thread" if b.median("ns_per_thread") is not None else "real_time"
            cost[b.contender], row[b.contender] = b.median(metric), (b, metric)
    return [Headline("spawn", f"{a} ÷ {b}", f"{a} ÷ {b}", a, b, cost[a] / cost[b],
                     f"{a} ({fmt_ns(cost[a])}) costs {cost[a] / cost[b]:.3g}× {b} ({fmt_ns(cost[b])}): {meaning}",
                     estimate=interval.ratio(row[a][0], row[b][0], row[a][1], row[b][1]))
            for a, b, meaning in SPAWN_PAIRS if cost.get(a) and cost.get(b)]


def dispatch(spawn_benches, latency):
    """Issue 19's test of the hand-made pool: spawn/pool_dispatch's median round trip (p50_ns:
    an empty job to a running worker and its reply) / threadbench's ping_pong p50 at cap:1
    (payload 8), the same clock and one stamp a round on both sides. Above 1 the pool costs
    more. The pool's two channels are unbounded (as in the Rust book), so the ratio holds the
    list's round trip against the ring's as well as what the pool itself adds. A row without
    a value (saying why) when either side lacks p50_ns: pool_dispatch has had one since
    commit 5f8ed25."""
    pd = next((b for b in spawn_benches if b.contender == "pool_dispatch" and not b.keys), None)
    pp = next((b for b in latency if b.scenario == "ping_pong" and b.keys.get("impl") == "threadbench"
               and b.keys.get("cap") == "1" and b.keys.get("payload", "8") == "8"), None)
    if pd is None or pp is None:
        return []
    title = "pool_dispatch ÷ ping_pong cap:1"
    ours, theirs = pd.median("p50_ns"), pp.median("p50_ns")
    if not ours or not theirs:
        lacking = " and ".join(n for n, v in (("pool_dispatch", ours), ("ping_pong cap:1", theirs)) if not v)
        return [Headline("spawn", title, title, "pool_dispatch", "ping_pong cap:1", None,
                         f"{lacking}: no p50_ns in this run (pool_dispatch reports it from commit 5f8ed25 on)")]
    est = interval.ratio(pd, pp, "p50_ns")
    return [Headline("spawn", title, title, "pool_dispatch", "ping_pong cap:1", est.value,
                     f"pool_dispatch's median round trip ({fmt_ns(ours)}) is {est.value:.3g}× the channel's own "
                     f"at cap:1 ({fmt_ns(theirs)}); the pool's channels are unbounded", estimate=est)]


def pool(benches, cores):
    """At threads 2 and the machine's cores, every grain: tbb_task_group vs channel_workers and
    each peer's pool (tasks/s), and channel_workers' per-task overhead vs tbb_task_group's."""
    by = defaultdict(dict)
    for b in benches:
        by[b.keys.get("grain"), b.keys.get("threads")][b.contender] = b
    wanted = {"2", str(cores)} if cores else {"2"}
    rows = []
    for (grain, threads), methods in sorted(by.items(), key=lambda kv: (value_order(kv[0][1]),
                                                                          value_order(kv[0][0]))):
        if threads not in wanted or "tbb_task_group" not in methods:
            continue
        keys = {"grain": grain, "threads": threads}
        title = keys_text(keys)
        tbb = methods["tbb_task_group"].median("items_per_second")
        others = [m for m in methods if m == "channel_workers" or methods[m].is_peer]
        for other in sorted(others, key=lambda m: (methods[m].is_peer, m)):
            tps = methods[other].median("items_per_second")
            if tbb and tps:
                est = interval.ratio(methods["tbb_task_group"], methods[other], "items_per_second")
                r = est.value
                rows.append(Headline("pool", "tasks/s", title, "tbb_task_group", other, r,
                                     f"tbb_task_group runs {r:.3g}× the tasks per second of {other}", keys, est))
        ch = methods.get("channel_workers")
        if ch and tbb and ch.median("items_per_second"):
            t, g = float(threads), float(grain)
            over_ch = t * 1e9 / ch.median("items_per_second") - g
            over_tbb = t * 1e9 / tbb - g
            est = interval.estimate([(ch, "items_per_second"), (methods["tbb_task_group"], "items_per_second")],
                                    lambda c, b: _overhead_ratio(t, g, c, b))
            if over_tbb > 0:
                r = over_ch / over_tbb
                sentence = (f"channel_workers pays {fmt_ns(over_ch)} per task beyond its work, "
                            f"tbb_task_group {fmt_ns(over_tbb)}: {r:.3g}×")
            else:
                r, est = None, None
                sentence = (f"tbb_task_group's overhead ({over_tbb:.0f} ns) is at or below 0, "
                            f"below the noise; channel_workers {over_ch:.0f} ns")
            rows.append(Headline("pool", "overhead", title, "channel_workers", "tbb_task_group", r,
                                 sentence, keys, est))
    return rows


def _overhead_ratio(threads, grain, ch_tps, tbb_tps):
    """channel_workers' per-task overhead / tbb_task_group's (overhead = threads / (tasks/s) -
    grain, in ns); math.inf when a bootstrap draw puts TBB's overhead at or below 0."""
    over_ch = threads * 1e9 / ch_tps - grain
    over_tbb = threads * 1e9 / tbb_tps - grain
    return over_ch / over_tbb if over_tbb > 0 else math.inf
