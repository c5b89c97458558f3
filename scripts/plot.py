#!/usr/bin/python3
"""plot.py RUN_DIR: turn one results run into RUN_DIR/plots/*.png and RUN_DIR/report.md.

Reads the Google Benchmark JSON files of the run (never console logs); any subset of the
families spawn, capture, channel and pool may be present. Every number drawn is the median
of the repetitions; error bars are the stddev aggregate, or min..max of the repetitions
when the run has no aggregates. Everything is written into a temporary folder inside
RUN_DIR first and moved into place at the end: a failed run leaves earlier output intact.
Exit status: 0 done, 2 unusable input (one line on stderr says why).
"""
import math
import shutil
import tempfile
from collections import Counter, defaultdict
from functools import partial
from pathlib import Path

from bench_results import ArgParser, RunError, fail, fmt_ns, load_run, require, value_order, warn

require("matplotlib")
import matplotlib  # noqa: E402  (only after require() has said what to install)
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

FAMILIES = ("spawn", "capture", "channel", "pool")
THROUGHPUT_SCENARIOS = ("seq", "spsc", "mpsc", "mpmc")
PERCENTILES = (("p50_ns", "p50"), ("p99_ns", "p99"), ("p999_ns", "p99.9"))
CAPTURE_MODES = ("move", "copy", "shared_ptr", "scoped_ref")
IMPL_STYLE = {"thread": ("-", "o"), "tbb_task": ("--", "s")}   # capture impl -> line, marker
IMPL_ORDER = ("threadbench", "mutex_deque", "tbb_bounded_queue", "tbb_queue", "moodycamel", "atomic_spin")
# One colour per channel implementation, the same in every chart; others get the next free.
IMPL_COLOR = {impl: f"C{n}" for n, impl in enumerate(IMPL_ORDER)}
SAME = 1.05   # ratios within 5% of 1 are reported as "on par"


# ---- number formatting -------------------------------------------------------------------

def is_number(text):
    return value_order(text)[0] == 0


def fmt_si(value, unit=""):
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}".rstrip()


def fmt_bytes(value):
    value = float(value)
    for factor, unit in ((2 ** 20, "MiB"), (2 ** 10, "KiB")):
        if value >= factor:
            return f"{value / factor:.3g} {unit}"
    return f"{value:.3g} B"


def fmt_payload(value):
    return fmt_bytes(value) if is_number(value) else value


def fmt_metric(name, value):
    if name == "items_per_second":
        return f"items/s {fmt_si(value)}"
    if name == "bytes_per_second":
        return f"bytes/s {fmt_si(value, 'B')}"
    if name.endswith("_ns") or name.startswith("ns_"):
        return f"{name} {fmt_ns(value)}"
    return f"{name} {value:.3g}"


def describe(bench, skip=()):
    """'mpmc 4p/4c cap:1024': the scenario and its keys, producers/consumers shortened
    (and left out for spsc, where they are 1 and 1 by definition)."""
    keys = {k: v for k, v in bench.keys.items() if k not in skip}
    parts = [bench.scenario]
    p, c = keys.pop("producers", None), keys.pop("consumers", None)
    if (p or c) and bench.scenario != "spsc":
        parts.append(f"{p or '?'}p/{c or '?'}c")
    parts += [f"{k}:{v}" for k, v in keys.items()]
    return " ".join(parts)


# ---- chart helpers -----------------------------------------------------------------------

def log_axis(axis, fmt):
    """Log scale labelled by fmt: at decades over wide ranges, at 1-2-5 steps over narrow ones."""
    lo, hi = axis.get_view_interval()
    axis.set_major_locator(LogLocator(subs=(1.0,) if hi / lo > 100 else (1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: fmt(v)))
    axis.set_minor_formatter(NullFormatter())


def error_bars(stats):
    return [[s.median - s.lo for s in stats], [s.hi - s.median for s in stats]]


def impl_color(impl):
    return IMPL_COLOR.setdefault(impl, f"C{len(IMPL_COLOR) % 10}")


def rank(value, known):
    """Sort key: the order of known first, then anything else alphabetically."""
    return (known.index(value) if value in known else len(known), value)


def impls_of(benches):
    return sorted({b.keys.get("impl", "?") for b in benches}, key=lambda i: rank(i, IMPL_ORDER))


def save(fig, path):
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def stat_of(bench, *metrics):
    """The first of metrics the benchmark reports."""
    return next(s for s in map(bench.stat, metrics) if s is not None)


def grid(heights, width, **kw):
    """A figure of len(heights) panels, two per row when more than one, each row as tall as
    its tallest panel needs (heights in inches); spare slots removed."""
    cols = 2 if len(heights) > 1 else 1
    rows = [max(heights[i:i + cols]) for i in range(0, len(heights), cols)]
    fig, axes = plt.subplots(len(rows), cols, figsize=(width * cols, sum(rows)), squeeze=False,
                             gridspec_kw={"height_ratios": rows}, **kw)
    axes = axes.ravel()
    for ax in axes[len(heights):]:
        ax.remove()
    return fig, axes[:len(heights)]


# ---- which chart draws which benchmark ---------------------------------------------------

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
        return "table" if bench.scenario == "idle_recv" else None
    if bench.family == "pool" and "grain" in numeric and "items_per_second" in metrics:
        return "pool"
    return None


# ---- the charts --------------------------------------------------------------------------

def plot_spawn(benches, path):
    """Horizontal bars, one per spawn method, cheapest first; pthread marks the floor."""
    rows = sorted(((describe(b), stat_of(b, "ns_per_thread", "real_time")) for b in benches),
                  key=lambda row: row[1].median)
    stats = [s for _, s in rows]
    fig, ax = plt.subplots(figsize=(9, 0.4 * len(rows) + 1.6))
    y = range(len(rows))
    ax.barh(y, [s.median for s in stats], xerr=error_bars(stats), capsize=3, color="C0")
    ax.set_yticks(y, [label for label, _ in rows])
    ax.invert_yaxis()
    for i, s in enumerate(stats):
        ax.text(s.hi * 1.15, i, fmt_ns(s.median), va="center", fontsize=8)
    ax.set_xscale("log")
    ax.set_xlim(min(s.median for s in stats) / 3, max(s.hi for s in stats) * 6)
    floor = [s for label, s in rows if label == "pthread"]
    if floor:
        ax.axvline(floor[0].median, color="k", ls="--", lw=1,
                   label=f"pthread floor ({fmt_ns(floor[0].median)})")
        ax.legend(loc="upper right")
    log_axis(ax.xaxis, fmt_ns)
    ax.set_xlabel("time per thread or task (log scale; batch: per thread)")
    ax.set_title("Spawn + join: what one thread or task costs (shorter is cheaper)")
    save(fig, path)
    return True


def spawn_reference(spawn, capture):
    """(ns, label) of what one spawn costs: std_thread if measured, else the cheapest move."""
    for b in spawn:
        if b.scenario == "std_thread":
            return b.stat("real_time").median, "std::thread spawn + join"
    moves = [b for b in capture if b.scenario == "move" and b.keys.get("impl") == "thread"]
    if not moves:
        return None
    b = min(moves, key=lambda b: value_order(b.keys["size"]))
    return b.stat("real_time").median, f"move into a thread at {fmt_bytes(b.keys['size'])}"


def plot_capture(benches, path, spawn):
    """Time vs payload size, one line per mode and implementation, spawn cost for scale."""
    lines = defaultdict(list)
    for b in benches:
        lines[b.scenario, b.keys.get("impl", "")].append((float(b.keys["size"]), b.stat("real_time")))
    modes = sorted({m for m, _ in lines}, key=lambda m: rank(m, CAPTURE_MODES))
    fig, ax = plt.subplots(figsize=(9, 5.5))
    order = sorted(lines, key=lambda line: (modes.index(line[0]), rank(line[1], tuple(IMPL_STYLE))))
    for mode, impl in order:
        points = lines[mode, impl]
        points.sort(key=lambda p: p[0])
        style, marker = IMPL_STYLE.get(impl, (":", "^"))
        stats = [s for _, s in points]
        ax.errorbar([x for x, _ in points], [s.median for s in stats], yerr=error_bars(stats),
                    color=f"C{modes.index(mode)}", ls=style, marker=marker, capsize=3,
                    label=f"{mode} ({impl})")
    reference = spawn_reference(spawn, benches)
    if reference:
        ax.axhline(reference[0], color="k", ls=":", lw=1,
                   label=f"{reference[1]} ({fmt_ns(reference[0])})")
    sizes = sorted({x for points in lines.values() for x, _ in points})
    sizes = sizes[::math.ceil(len(sizes) / 8)]   # at most 8 labels
    ax.set_xscale("log", base=2)
    ax.set_xticks(sizes, [fmt_bytes(x) for x in sizes])
    ax.set_yscale("log")
    log_axis(ax.yaxis, fmt_ns)
    ax.set_xlabel("captured payload size (log scale)")
    ax.set_ylabel("time per spawn + join or task run (log scale)")
    ax.set_title("Capture: moving, copying or sharing what the closure holds")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    save(fig, path)
    return True


def plot_refcount(benches, path):
    """ns per refcount operation vs threads: one shared control block vs one per thread."""
    lines = defaultdict(list)
    for b in benches:
        lines[b.scenario].append((int(b.keys["threads"]), stat_of(b, "ns_per_op", "real_time")))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for n, (scenario, points) in enumerate(sorted(lines.items())):
        points.sort(key=lambda p: p[0])
        stats = [s for _, s in points]
        ax.errorbar([t for t, _ in points], [s.median for s in stats], yerr=error_bars(stats),
                    marker="o", capsize=3, color=f"C{n}", label=scenario)
    threads = sorted({t for points in lines.values() for t, _ in points})
    ax.set_xscale("log", base=2)
    ax.set_xticks(threads, [str(t) for t in threads])
    ax.set_yscale("log")
    log_axis(ax.yaxis, fmt_ns)
    ax.set_xlabel("threads")
    ax.set_ylabel("time per shared_ptr copy + drop (log scale)")
    ax.set_title("Refcount contention: one control block vs one per thread")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    save(fig, path)
    return True


def cap_title(cap):
    return {"0": "cap 0 (rendezvous)", "unbounded": "unbounded"}.get(cap, f"cap {cap}")


def common_payload(benches):
    """The payload most benchmarks use: the throughput grid shows that one only."""
    return Counter(b.keys.get("payload") for b in benches).most_common(1)[0][0]


def hbar_groups(ax, benches, label):
    """Grouped horizontal bars of messages/s: one group per label(bench), one bar per impl."""
    groups = sorted({label(b): b.sort_key() for b in benches}.items(),
                    key=lambda kv: (rank(kv[1][0], THROUGHPUT_SCENARIOS), kv[1]))
    rows = [g for g, _ in groups]
    impls = impls_of(benches)
    height = 0.8 / len(impls)
    for n, impl in enumerate(impls):
        mine = {label(b): b.stat("items_per_second") for b in benches if b.keys.get("impl", "?") == impl}
        ys = [rows.index(g) - 0.4 + height * (n + 0.5) for g in mine]
        stats = list(mine.values())
        ax.barh(ys, [s.median for s in stats], height, xerr=error_bars(stats), capsize=2,
                color=impl_color(impl), label=impl)
    ax.set_yticks(range(len(rows)), rows)
    ax.invert_yaxis()
    return [b.stat("items_per_second") for b in benches]


def plot_throughput(benches, path):
    """crossbeam-style grid: one panel per capacity, bars per impl, grouped by scenario."""
    payload = common_payload(benches)
    panels = defaultdict(list)
    for b in benches:
        if b.keys.get("payload") == payload:
            panels[b.keys.get("cap", "?")].append(b)
    caps = sorted(panels, key=value_order)
    fig, axes = grid([0.22 * len(panels[cap]) + 1.3 for cap in caps], 6.5, sharex=True)
    stats = []
    for ax, cap in zip(axes, caps):
        stats += hbar_groups(ax, panels[cap], partial(describe, skip=("impl", "cap", "payload")))
        ax.set_xscale("log")
        ax.set_title(cap_title(cap))
        ax.grid(True, axis="x", which="major", alpha=0.3)
        ax.set_xlabel("messages/s (log scale)")
        ax.tick_params(axis="x", labelbottom=True)
    axes[0].set_xlim(min(s.lo for s in stats) / 2, max(s.hi for s in stats) * 1.5)
    log_axis(axes[0].xaxis, fmt_si)
    about = f", payload {fmt_payload(payload)}" if payload else ""
    fig.suptitle(f"Channel throughput by capacity{about} (longer is faster)")
    layout_with_legend(fig, axes)
    save(fig, path)
    return True


def layout_with_legend(fig, axes):
    """Tight layout, then one legend below all panels holding every label of every panel once."""
    entries = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    fig.tight_layout()
    labels = sorted(entries, key=lambda label: rank(label, IMPL_ORDER))
    fig.legend([entries[label] for label in labels], labels, loc="upper center",
               bbox_to_anchor=(0.5, 0.0), ncol=min(len(labels), 6))


def plot_payload(benches, path):
    """Messages/s vs payload, one line per impl, for each scenario measured at several payloads."""
    panels = defaultdict(list)
    for b in benches:
        if "payload" in b.keys:
            panels[describe(b, skip=("impl", "payload"))].append(b)
    panels = {title: bs for title, bs in panels.items() if len({b.keys["payload"] for b in bs}) > 1}
    if not panels:
        return False
    fig, axes = grid([4.2] * len(panels), 6)
    for ax, (title, bs) in zip(axes, panels.items()):
        payloads = sorted({b.keys["payload"] for b in bs}, key=value_order)
        for impl in impls_of(bs):
            if sum(b.keys.get("impl", "?") == impl for b in bs) < 2:
                continue
            mine = sorted(((payloads.index(b.keys["payload"]), b.stat("items_per_second"))
                           for b in bs if b.keys.get("impl", "?") == impl), key=lambda p: p[0])
            stats = [s for _, s in mine]
            ax.errorbar([x for x, _ in mine], [s.median for s in stats], yerr=error_bars(stats),
                        marker="o", capsize=3, color=impl_color(impl), label=impl)
        ax.set_xticks(range(len(payloads)), [fmt_payload(p) for p in payloads])
        ax.set_yscale("log")
        log_axis(ax.yaxis, fmt_si)
        ax.set_xlabel("payload per message")
        ax.set_ylabel("messages/s (log scale)")
        ax.set_title(title)
        ax.grid(True, which="major", alpha=0.3)
    fig.suptitle("Channel throughput vs payload (higher is faster)")
    layout_with_legend(fig, axes)
    save(fig, path)
    return True


def ping_pong_panels(benches):
    """ping_pong benchmarks per configuration (cap, payload), each with its atomic_spin
    limit: the one measured under the same configuration, else the one measured without."""
    spins = {describe(b, skip=("impl",)): b for b in benches if b.keys.get("impl") == "atomic_spin"}
    panels = defaultdict(list)
    for b in benches:
        if b.keys.get("impl") != "atomic_spin":
            panels[describe(b, skip=("impl",))].append(b)
    fallback = next(iter(spins.values()), None)
    return {title: (bs, spins.get(title, fallback)) for title, bs in panels.items()}


def plot_latency(benches, path):
    """ping_pong round trips: p50/p99/p99.9 bars per impl, atomic_spin p50 as the limit."""
    panels = ping_pong_panels(benches)
    if not panels:
        return False
    fig, axes = grid([4.5] * len(panels), 7)
    for ax, (title, (bs, limit)) in zip(axes, panels.items()):
        bars = sorted(bs, key=lambda b: rank(b.keys.get("impl", "?"), IMPL_ORDER))
        width = 0.8 / len(PERCENTILES)
        for n, (metric, label) in enumerate(PERCENTILES):
            stats = [b.stat(metric) for b in bars]
            ax.bar([i - 0.4 + width * (n + 0.5) for i in range(len(bars))], [s.median for s in stats],
                   width, yerr=error_bars(stats), capsize=2, color=f"C{n}", alpha=0.85, label=label)
        stats = [b.stat(m) for b in bs + ([limit] if limit else []) for m, _ in PERCENTILES]
        ax.set_ylim(min(s.lo if s.lo > 0 else s.median for s in stats) / 2,
                    max(s.hi for s in stats) * 1.5)
        if limit:
            p50 = limit.stat("p50_ns").median
            ax.axhline(p50, color="k", ls="--", lw=1, label=f"atomic_spin p50, the limit ({fmt_ns(p50)})")
        ax.set_xticks(range(len(bars)), [b.keys.get("impl", "?") for b in bars], rotation=20)
        ax.set_yscale("log")
        log_axis(ax.yaxis, fmt_ns)
        ax.set_ylabel("round-trip latency (log scale)")
        ax.set_title(title)
        ax.grid(True, axis="y", which="major", alpha=0.3)
    fig.suptitle("Channel round trips: p50 / p99 / p99.9 per implementation (shorter is faster)")
    layout_with_legend(fig, axes)
    save(fig, path)
    return True


def plot_pool(benches, path):
    """tasks/s and efficiency vs grain, one panel per thread count, one line per method."""
    serial = [b for b in benches if b.scenario == "serial"]
    parallel = [b for b in benches if b.scenario != "serial"]
    threads = sorted({b.keys.get("threads", "?") for b in parallel or serial}, key=value_order)
    metrics = [("items_per_second", "tasks/s (log scale)", fmt_si)]
    if any("efficiency" in b.metrics() for b in parallel):
        metrics.append(("efficiency", "efficiency (1.0 = ideal speed-up)", None))
    fig, axes = plt.subplots(len(metrics), len(threads), figsize=(4.8 * len(threads), 4 * len(metrics)),
                             squeeze=False, sharex=True, sharey="row")
    for col, t in enumerate(threads):
        reference = [b for b in serial if b.keys.get("threads") == t] or serial
        lines = defaultdict(list)
        for b in [b for b in parallel if b.keys.get("threads") == t] + reference:
            lines[b.scenario].append(b)
        for row, (metric, ylabel, fmt) in enumerate(metrics):
            ax = axes[row][col]
            for n, (method, bs) in enumerate(sorted(lines.items())):
                points = sorted(((float(b.keys["grain"]), b.stat(metric))
                                 for b in bs if metric in b.metrics()), key=lambda p: p[0])
                if not points:
                    continue
                stats = [s for _, s in points]
                ax.errorbar([g for g, _ in points], [s.median for s in stats], yerr=error_bars(stats),
                            marker="o", capsize=3, label=method,
                            **({"color": "k", "ls": "--"} if method == "serial" else {"color": f"C{n}"}))
            ax.set_xscale("log")
            if fmt:
                ax.set_yscale("log")
            ax.set_ylabel(ylabel)
            ax.grid(True, which="major", alpha=0.3)
            ax.set_xlabel("grain: work per task (log scale)")
            ax.tick_params(axis="x", labelbottom=True)
        axes[0][col].set_title(f"threads:{t}")
    for row, (_, _, fmt) in enumerate(metrics):
        if fmt:
            log_axis(axes[row][0].yaxis, fmt)
    log_axis(axes[0][0].xaxis, fmt_ns)
    fig.suptitle("Task pools: throughput and efficiency vs work per task")
    layout_with_legend(fig, axes.ravel())
    save(fig, path)
    return True


# ---- report ------------------------------------------------------------------------------

CONTEXT_ORDER = ("machine", "cpu_model", "cores", "num_cpus", "mhz_per_cpu", "governor",
                 "cpu_scaling_enabled", "kernel", "compiler", "tbb_version", "git_commit",
                 "library_version", "library_build_type", "host_name", "date", "load_avg")

SPAWN_PAIRS = (  # (a, b, sentence): "a costs r x b", then what that means
    ("std_thread", "pthread", "what std::thread adds to a bare pthread_create + join"),
    ("std_thread", "pool_dispatch", "a fresh thread per job vs handing the job to threads already running"),
    ("std_thread", "tbb_task", "a fresh thread per job vs a oneTBB task: work much shorter than a spawn "
                               "belongs in tasks"),
    ("pool_dispatch", "tbb_task", "our pool's hand-off vs oneTBB's task spawn"),
)


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def context_table(context):
    keys = sorted(context, key=lambda k: rank(k, CONTEXT_ORDER))
    return table(("key", "value"), [(k, " / ".join(context[k])) for k in keys])


def family_table(benches):
    rows = []
    for b in benches:
        if b.error:
            rows.append((f"`{b.name}`", f"error: {b.error}", "", "", ""))
            continue
        s = b.stat("real_time")
        others = ", ".join(fmt_metric(m, b.stat(m).median) for m in b.metrics() if m != "real_time")
        cv = "–" if s.cv is None else f"{s.cv:.1%}"
        rows.append((f"`{b.name}`", fmt_ns(s.median), cv, s.n, others))
    return table(("benchmark", "median time", "cv", "reps", "other metrics (median)"), rows)


def speed_sentence(ratio, contender, unit):
    """What threadbench's speed-up over a contender means, in words."""
    if contender == "atomic_spin":
        return f"threadbench reaches {ratio:.0%} of the bare spinning hand-off, the hardware limit"
    if ratio >= SAME:
        return f"threadbench is {ratio:.3g}× faster than {contender} ({unit})"
    if ratio <= 1 / SAME:
        return f"threadbench is {1 / ratio:.3g}× slower than {contender} ({unit})"
    return f"threadbench and {contender} are on par (within {SAME - 1:.0%}, {unit})"


def channel_headlines(throughput, latency):
    """threadbench vs each other impl, per scenario and capacity (and payload)."""
    groups = defaultdict(list)
    for b in throughput:
        groups[describe(b, skip=("impl",))].append(b)
    comparisons = [(title, bs, "items_per_second", "messages/s") for title, bs in groups.items()]
    comparisons += [(title, bs + ([limit] if limit else []), "p50_ns", "median round trip")
                    for title, (bs, limit) in ping_pong_panels(latency).items()]
    rows = []
    for scenario, benches, metric, unit in comparisons:
        value = {b.keys.get("impl"): b.stat(metric).median for b in benches}
        if "threadbench" not in value:
            continue
        for impl in sorted(set(value) - {"threadbench"}, key=lambda i: rank(i, IMPL_ORDER)):
            # a speed-up: more messages/s, or a shorter round trip
            ratio = value["threadbench"] / value[impl] if metric == "items_per_second" \
                else value[impl] / value["threadbench"]
            rows.append((scenario, impl, f"{ratio:.3g}", speed_sentence(ratio, impl, unit)))
    if not rows:
        return []
    return ["Speed-up = threadbench messages/s ÷ contender's (throughput), or contender's p50 ÷ "
            "threadbench's (ping_pong); above 1 threadbench is faster.", ""] + \
        table(("scenario", "contender", "speed-up", "what it means"), rows)


def spawn_headlines(spawn):
    cost = {b.scenario: stat_of(b, "ns_per_thread", "real_time").median for b in spawn if not b.keys}
    rows = [(f"{a} ÷ {b}", f"{cost[a] / cost[b]:.3g}",
             f"{a} ({fmt_ns(cost[a])}) costs {cost[a] / cost[b]:.3g}× {b} ({fmt_ns(cost[b])}): {meaning}")
            for a, b, meaning in SPAWN_PAIRS if a in cost and b in cost]
    return table(("ratio", "value", "what it means"), rows) if rows else []


def write_report(run, title, families, kinds, charts, path):
    lines = [f"# threadbench results: {title}", "",
             f"From {', '.join(f.name for f in run.files)}. Times are medians over the repetitions; "
             "cv = stddev / mean of the repetitions (– with one repetition).", "",
             "## Machine", ""] + context_table(run.context)
    headlines = {"spawn": spawn_headlines(kinds["spawn"]),
                 "channel": channel_headlines(kinds["throughput"], kinds["latency"])}
    for family in FAMILIES:
        if family not in families:
            continue
        lines += ["", f"## {family}", ""]
        lines += [f"![{caption}](plots/{file})\n" for file, caption in charts[family]]
        if headlines.get(family):
            lines += ["### Headline ratios", ""] + headlines[family] + [""]
        lines += ["### All benchmarks", ""] + family_table(families[family])
    path.write_text("\n".join(lines) + "\n")


# ---- main --------------------------------------------------------------------------------

def draw_all(kinds, out):
    """Draw every chart the run has benchmarks for; returns family -> [(png name, caption)]."""
    charts = defaultdict(list)
    for family, file, caption, kind, plot in (
            ("spawn", "spawn.png", "spawn cost per method", "spawn", plot_spawn),
            ("capture", "capture.png", "capture cost vs payload size", "capture",
             partial(plot_capture, spawn=kinds["spawn"])),
            ("capture", "refcount.png", "refcount contention", "refcount", plot_refcount),
            ("channel", "channel_throughput.png", "channel throughput per capacity", "throughput",
             plot_throughput),
            ("channel", "channel_payload.png", "channel throughput vs payload", "throughput", plot_payload),
            ("channel", "channel_latency.png", "ping_pong latency percentiles", "latency", plot_latency),
            ("pool", "pool.png", "pool tasks/s and efficiency vs grain", "pool", plot_pool)):
        if kinds[kind] and plot(kinds[kind], out / file):
            charts[family].append((file, caption))
    return charts


def publish(tmp, run_dir):
    """Swap the freshly written plots/ and report.md into the run folder."""
    if (run_dir / "plots").exists():
        (run_dir / "plots").rename(tmp / "old-plots")
    (tmp / "plots").rename(run_dir / "plots")
    (tmp / "report.md").replace(run_dir / "report.md")


def main():
    parser = ArgParser(description=__doc__.split("\n")[0])
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a results/<run-id>/ folder")
    parser.add_argument("--title", help="the run's name in report.md (default: RUN_DIR's name)")
    args = parser.parse_args()
    try:
        run = load_run(args.run_dir)
    except RunError as e:
        fail(str(e))
    families = defaultdict(list)
    for b in run.benches.values():
        families[b.family].append(b)
    unknown = sorted(set(families) - set(FAMILIES))
    if len(unknown) == len(families):
        fail(f"{run.path}: no benchmarks of a known family ({', '.join(FAMILIES)}); "
             f"found only {', '.join(unknown)}")
    for family in unknown:
        warn(f"skipping {len(families.pop(family))} benchmark(s) of unknown family '{family}'")
    kinds = defaultdict(list)
    for b in (b for benches in families.values() for b in benches):
        if b.error:
            warn(f"{b.name}: failed: {b.error}")
        elif chart_kind(b) is None:
            warn(f"{b.name}: no chart for this scenario shape; it is in the report table only")
        else:
            kinds[chart_kind(b)].append(b)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".plot-", dir=run.path))
        try:
            (tmp / "plots").mkdir()
            charts = draw_all(kinds, tmp / "plots")
            write_report(run, args.title or run.path.name, families, kinds, charts,
                         tmp / "report.md")
            publish(tmp, run.path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError as e:
        fail(f"cannot write the plots and report into {run.path}: {e}")
    count = sum(map(len, charts.values()))
    print(f"plot.py: wrote {run.path / 'report.md'} and {count} plots in {run.path / 'plots'}")


if __name__ == "__main__":
    main()
