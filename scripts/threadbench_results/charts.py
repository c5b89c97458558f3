"""The charts of one run, as PNG files (matplotlib, Agg backend).

Every number drawn is the median of the repetitions; error bars span min..max of the
repetitions (the stddev aggregate around the median when only aggregates were written; see
load.Bench.stat). C++ contenders are drawn in matplotlib's first colours; the Rust and Go
peers in colours of their own (rust: reds/browns, go: blues/teal) and hatched bars or
dash-dot lines, with the language in the label ('rust:crossbeam', 'go:chan'), in one legend.
Files are written with fixed metadata, so the same input gives the same bytes.
"""
import math
from collections import Counter, defaultdict
from functools import partial

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

from .fmt import describe, fmt_bytes, fmt_ns, fmt_payload, fmt_si, rank  # noqa: E402
from .kinds import IMPL_ORDER, LIMIT, PERCENTILES, THROUGHPUT_SCENARIOS, contenders_of, ping_pong_panels  # noqa: E402
from .load import value_order  # noqa: E402
from .names import key_value  # noqa: E402

CAPTURE_MODES = ("move", "copy", "shared_ptr", "scoped_ref")
IMPL_STYLE = {"thread": ("-", "o"), "tbb_task": ("--", "s")}   # capture impl -> line, marker
# One colour per contender, the same in every chart; others get the next free tab10 colour.
IMPL_COLOR = {impl: f"C{n}" for n, impl in enumerate(
    ("threadbench", "mutex_deque", "tbb_bounded_queue", "tbb_queue", "moodycamel", "atomic_spin"))}
# The peers' own colours, outside tab10 so that they never collide with a C++ contender.
PEER_COLORS = {"rust": ("#8b1a1a", "#d2691e", "#b8860b", "#cd5c5c", "#5c3317", "#e9967a"),
               "go": ("#00add8", "#006d77", "#5dc9e2", "#1f4e79")}
PEER_COLOR = {"rust:crossbeam": PEER_COLORS["rust"][0], "rust:std": PEER_COLORS["rust"][1],
              "rust:flume": PEER_COLORS["rust"][2], "go:chan": PEER_COLORS["go"][0]}
HATCH = {"rust": "//", "go": ".."}
METADATA = {"Software": None}   # no matplotlib version in the file: same input, same bytes


def language_of(label):
    """'rust' for 'rust:crossbeam', None for a C++ contender."""
    head, colon, _ = label.partition(":")
    return head if colon and head in PEER_COLORS else None


def impl_color(label):
    """The colour of a contender: fixed for the known ones, the next free one otherwise."""
    language = language_of(label)
    if language:
        if label not in PEER_COLOR:
            used = sum(language_of(k) == language for k in PEER_COLOR)
            PEER_COLOR[label] = PEER_COLORS[language][used % len(PEER_COLORS[language])]
        return PEER_COLOR[label]
    return IMPL_COLOR.setdefault(label, f"C{len(IMPL_COLOR) % 10}")


def peer_style(label):
    """Extra bar keywords for a peer: a hatch per language (none for C++)."""
    language = language_of(label)
    return {"hatch": HATCH[language], "edgecolor": "white", "linewidth": 0} if language else {}


def line_style(label):
    return "-." if language_of(label) else "-"
# ---- chart helpers -----------------------------------------------------------------------

def log_axis(axis, fmt):
    """Log scale labelled by fmt: at decades over wide ranges, at 1-2-5 steps over narrow ones."""
    lo, hi = axis.get_view_interval()
    axis.set_major_locator(LogLocator(subs=(1.0,) if hi / lo > 100 else (1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: fmt(v)))
    axis.set_minor_formatter(NullFormatter())


def error_bars(stats):
    return [[s.median - s.lo for s in stats], [s.hi - s.median for s in stats]]


def impls_of(benches):
    return contenders_of(benches)


def save(fig, path):
    fig.savefig(path, dpi=110, bbox_inches="tight", metadata=METADATA)
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


# ---- the charts --------------------------------------------------------------------------

def plot_spawn(benches, path):
    """Horizontal bars, one per spawn method, cheapest first; pthread marks the floor."""
    rows = sorted(((b.contender + describe(b)[len(b.scenario):], stat_of(b, "ns_per_thread", "real_time"), b)
                   for b in benches), key=lambda row: row[1].median)
    stats = [s for _, s, _ in rows]
    fig, ax = plt.subplots(figsize=(9, 0.4 * len(rows) + 1.6))
    for i, (label, s, b) in enumerate(rows):
        ax.barh(i, s.median, xerr=[[s.median - s.lo], [s.hi - s.median]], capsize=3,
                color=impl_color(b.contender) if b.is_peer else "C0", **peer_style(b.contender))
    y = range(len(rows))
    ax.set_yticks(y, [label for label, _, _ in rows])
    for tick, (_, _, b) in zip(ax.get_yticklabels(), rows):   # peers' names in their own colour
        if b.is_peer:
            tick.set_color(impl_color(b.contender))
    ax.invert_yaxis()
    for i, s in enumerate(stats):
        ax.text(s.hi * 1.15, i, fmt_ns(s.median), va="center", fontsize=8)
    ax.set_xscale("log")
    ax.set_xlim(min(s.median for s in stats) / 3, max(s.hi for s in stats) * 6)
    floor = [s for label, s, _ in rows if label == "pthread"]
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
        lines[b.scenario, b.contender].append((float(b.keys["size"]), b.stat("real_time")))
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
        mine = {label(b): b.stat("items_per_second") for b in benches if b.contender == impl}
        ys = [rows.index(g) - 0.4 + height * (n + 0.5) for g in mine]
        stats = list(mine.values())
        ax.barh(ys, [s.median for s in stats], height, xerr=error_bars(stats), capsize=2,
                color=impl_color(impl), label=impl, **peer_style(impl))
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
    labels = sorted(entries, key=lambda label: (language_of(label) is not None, rank(label, IMPL_ORDER)))
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
            if sum(b.contender == impl for b in bs) < 2:
                continue
            mine = sorted(((payloads.index(b.keys["payload"]), b.stat("items_per_second"))
                           for b in bs if b.contender == impl), key=lambda p: p[0])
            stats = [s for _, s in mine]
            ax.errorbar([x for x, _ in mine], [s.median for s in stats], yerr=error_bars(stats),
                        marker="o", capsize=3, color=impl_color(impl), ls=line_style(impl), label=impl)
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


def plot_latency(benches, path):
    """ping_pong round trips: p50/p99/p99.9 bars per impl, atomic_spin p50 as the limit."""
    panels = ping_pong_panels(benches)
    if not panels:
        return False
    fig, axes = grid([4.5] * len(panels), 7)
    for ax, (title, (bs, limit)) in zip(axes, panels.items()):
        bars = sorted(bs, key=lambda b: rank(b.contender, IMPL_ORDER))
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
        ax.set_xticks(range(len(bars)), [b.contender for b in bars], rotation=20)
        for tick, b in zip(ax.get_xticklabels(), bars):   # peers' names in their own colour
            if b.is_peer:
                tick.set_color(impl_color(b.contender))
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
            lines[b.contender].append(b)
        native = sorted(m for m, bs in lines.items() if not bs[0].is_peer)
        for row, (metric, ylabel, fmt) in enumerate(metrics):
            ax = axes[row][col]
            for method, bs in sorted(lines.items(), key=lambda kv: (kv[1][0].is_peer, kv[0])):
                points = sorted(((float(b.keys["grain"]), b.stat(metric))
                                 for b in bs if metric in b.metrics()), key=lambda p: p[0])
                if not points:
                    continue
                stats = [s for _, s in points]
                ax.errorbar([g for g, _ in points], [s.median for s in stats], yerr=error_bars(stats),
                            marker="o", capsize=3, label=method,
                            **({"color": "k", "ls": "--"} if method == "serial" else
                               {"color": impl_color(method), "ls": "-."} if bs[0].is_peer else
                               {"color": f"C{native.index(method)}"}))
            ax.set_xscale("log")
            if fmt:
                ax.set_yscale("log")
            ax.set_ylabel(ylabel)
            ax.grid(True, which="major", alpha=0.3)
            ax.set_xlabel("grain: work per task (log scale)")
            ax.tick_params(axis="x", labelbottom=True)
        axes[0][col].set_title(key_value("threads", t))
    for row, (_, _, fmt) in enumerate(metrics):
        if fmt:
            log_axis(axes[row][0].yaxis, fmt)
    log_axis(axes[0][0].xaxis, fmt_ns)
    fig.suptitle("Task pools: throughput and efficiency vs work per task")
    layout_with_legend(fig, axes.ravel())
    save(fig, path)
    return True




# ---- every chart of a run ----------------------------------------------------------------

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
