"""Which chart (and which headline) each benchmark belongs to, and the orders and groups
that charts and report share."""
from collections import defaultdict

from .fmt import describe, is_number, rank

FAMILIES = ("spawn", "capture", "channel", "pool")
THROUGHPUT_SCENARIOS = ("seq", "spsc", "mpsc", "mpmc")
PERCENTILES = (("p50_ns", "p50"), ("p99_ns", "p99"), ("p999_ns", "p99.9"))
# C++ contenders first, then the peers, each language's in a fixed order.
IMPL_ORDER = ("threadbench", "mutex_deque", "tbb_bounded_queue", "tbb_queue", "moodycamel",
              "rust:crossbeam", "rust:std", "rust:flume", "go:chan", "atomic_spin")
LIMIT = "atomic_spin"   # ping_pong's raw-atomic hand-off: the limit, not a contender


def chart_kind(bench):
    """The chart a benchmark belongs on, 'table' for table-only ones, None for unknown shapes."""
    metrics = bench.metrics()
    numeric = {k for k, v in bench.keys.items() if is_number(v)}
    if bench.family == "spawn":
        return "spawn"
    if bench.family == "capture":
        if bench.scenario.startswith("refcount") and "threads" in numeric:
            return "refcount"
        return "capture" if "size" in numeric else None
    if bench.family == "channel":
        if bench.scenario in THROUGHPUT_SCENARIOS and "items_per_second" in metrics:
            return "throughput"
        if bench.scenario == "ping_pong" and all(p in metrics for p, _ in PERCENTILES):
            return "latency"
        # idle_recv: a CPU share; crew: the flow rows' harness floor (floor.py): tables only.
        return "table" if bench.scenario in ("idle_recv", "crew") else None
    if bench.family == "pool" and "grain" in numeric and "items_per_second" in metrics:
        return "pool"
    return None


def classify(benches):
    """kind -> benchmarks (failed ones and unknown shapes left out), and the warnings to print."""
    kinds, warnings = defaultdict(list), []
    for b in benches:
        if b.error:
            warnings.append(f"{b.name}: failed: {b.error}")
        elif chart_kind(b) is None:
            warnings.append(f"{b.name}: no chart for this scenario shape; it is in the report table only")
        else:
            kinds[chart_kind(b)].append(b)
    return kinds, warnings


def contenders_of(benches):
    return sorted({b.contender for b in benches}, key=lambda i: rank(i, IMPL_ORDER))


def ping_pong_panels(benches):
    """ping_pong benchmarks per configuration (cap, payload), each with its atomic_spin
    limit: the one measured under the same configuration, else the one measured without."""
    spins = {describe(b, skip=("impl",)): b for b in benches if b.keys.get("impl") == LIMIT}
    panels = defaultdict(list)
    for b in benches:
        if b.keys.get("impl") != LIMIT:
            panels[describe(b, skip=("impl",))].append(b)
    fallback = next(iter(spins.values()), None)
    return {title: (bs, spins.get(title, fallback)) for title, bs in panels.items()}
