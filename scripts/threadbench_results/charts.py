"""The charts of one run, as PNG files (matplotlib, Agg backend).

Every number drawn is the median of the repetitions; error bars span min..max of the
repetitions (the stddev aggregate around the median when only aggregates were written; see
load.Bench.stat), and a row with one repetition has none (no bar, no cap: error_bars). Every
figure's title sits above its panels' titles (layout_with_legend), and every reference line
says what it is in the legend. C++ contenders are drawn in matplotlib's first colours; the Rust and Go
peers in colours of their own (rust: reds/browns, go: blues/teal) and hatched bars or
dash-dot lines, with the language in the label ('rust:crossbeam', 'go:chan'), in one legend.
Files are written with fixed metadata, so the same input gives the same bytes.
"""
import math
import textwrap
from collections import Counter, defaultdict
from functools import partial

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

from .fmt import describe, fmt_bytes, fmt_ns, fmt_payload, fmt_si, rank  # noqa: E402
from .kinds import IMPL_ORDER, PERCENTILES, THROUGHPUT_SCENARIOS, contenders_of, ping_pong_panels  # noqa: E402
from .load import value_order  # noqa: E402
from .names import key_value  # noqa: E402

CAPTURE_MODES = ("move", "copy", "shared_ptr", "scoped_ref")
IMPL_STYLE = {"thread": ("-", "o"), "tbb_task": ("--", "s")}   # capture impl -> line, marker
# One colour per contender, the same in every chart, in the order of the one list of known
# contenders (kinds.IMPL_ORDER): the C++ ones (and the atomic_spin limit) take tab10's
# colours, the peers their language's; others get the next free colour.
IMPL_COLOR = {impl: f"C{n}" for n, impl in enumerate(i for i in IMPL_ORDER if ":" not in i)}
# The peers' own colours, outside tab10 so that they never collide with a C++ contender.
PEER_COLORS = {"rust": ("#8b1a1a", "#d2691e", "#b8860b", "#cd5c5c", "#5c3317", "#e9967a"),
               "go": ("#00add8", "#006d77", "#5dc9e2", "#1f4e79")}
PEER_COLOR = {}
for _label in (i for i in IMPL_ORDER if ":" in i):
    _language = _label.partition(":")[0]
    _taken = sum(k.startswith(_language + ":") for k in PEER_COLOR)
    PEER_COLOR[_label] = PEER_COLORS[_language][_taken]
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
    """Error bars (below, above the median) for matplotlib's xerr / yerr: the repetitions'
    min..max. A row with one repetition has no spread to show: nan there (matplotlib draws
    neither bar nor cap), and None when no row has more than one (no error bars at all)."""
    if all(s.n <= 1 for s in stats):
        return None
    return [[s.median - s.lo if s.n > 1 else math.nan for s in stats],
            [s.hi - s.median if s.n > 1 else math.nan for s in stats]]


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
        ax.barh(i, s.median, xerr=error_bars([s]), capsize=3,
                color=impl_color(b.contender) if b.is_peer else "C0", **peer_style(b.contender))
    y = range(len(rows))
    ax.set_yticks(y, [label for label, _, _ in rows])
    for tick, (_, _, b) in zip(ax.get_yticklabels(), rows):   # peers' names in their own colour
        if b.is_peer:
            tick.set_color(impl_color(b.contender))
    ax.invert_yaxis()
    for i, s in enumerate(stats):
        ax.text(s.hi * 1.15, i, fmt_ns(s.median), va="center", fontsize=8,   # readable over the floor line
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})
    ax.set_xscale("log")
    ax.set_xlim(min(s.median for s in stats) / 3, max(s.hi for s in stats) * 6)
    floor = [s for label, s, _ in rows if label == "pthread"]
    if floor:
        ax.axvline(floor[0].median, color="k", ls="--", lw=1,
                   label=f"pthread: a bare pthread_create + join, the floor ({fmt_ns(floor[0].median)})")
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


CAPTURE_PANELS = {"thread": "std::thread: spawn + join per closure",
                  "tbb_task": "oneTBB task: one task run per closure",
                  "rust:thread": "Rust std::thread: spawn + join per closure"}


def plot_capture(benches, path, spawn):
    """Time vs payload size: one panel per implementation (thread, tbb_task, rust:thread, ...),
    one line per capture mode in it, the same colour for a mode in every panel, shared axes;
    the cost of a spawn for scale. The legend goes below the panels, clear of the data."""
    lines = defaultdict(list)
    for b in benches:
        lines[b.scenario, b.contender].append((float(b.keys["size"]), b.stat("real_time")))
    modes = sorted({m for m, _ in lines}, key=lambda m: rank(m, CAPTURE_MODES))
    impls = sorted({i for _, i in lines}, key=lambda i: (language_of(i) is not None, rank(i, tuple(IMPL_STYLE))))
    fig, axes = plt.subplots(1, len(impls), figsize=(5.2 * len(impls), 4.8), squeeze=False, sharex=True,
                             sharey=True)
    axes = list(axes[0])
    reference = spawn_reference(spawn, benches)
    sizes = sorted({x for points in lines.values() for x, _ in points})
    sizes = sizes[::math.ceil(len(sizes) / 6)]   # at most 6 labels a panel
    for ax, impl in zip(axes, impls):
        for mode in modes:
            points = sorted(lines.get((mode, impl), []), key=lambda p: p[0])
            if not points:
                continue
            stats = [s for _, s in points]
            ax.errorbar([x for x, _ in points], [s.median for s in stats], yerr=error_bars(stats),
                        color=f"C{modes.index(mode)}", ls=line_style(impl), marker="o", capsize=3, label=mode)
        if reference:
            ax.axhline(reference[0], color="k", ls=":", lw=1, label=f"{reference[1]} ({fmt_ns(reference[0])})")
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [fmt_bytes(x) for x in sizes])
        ax.set_yscale("log")
        ax.set_xlabel("captured payload size (log scale)")
        ax.set_title(CAPTURE_PANELS.get(impl, impl), fontsize=10,
                     color=impl_color(impl) if language_of(impl) else "black")
        ax.grid(True, which="major", alpha=0.3)
        ax.tick_params(axis="x", labelbottom=True)
    log_axis(axes[0].yaxis, fmt_ns)
    axes[0].set_ylabel("time per spawn + join or task run (log scale)")
    layout_with_legend(fig, axes, "Capture: moving, copying or sharing what the closure holds", sort=False)
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
    layout_with_legend(fig, axes, f"Channel throughput by capacity{about} (longer is faster)")
    save(fig, path)
    return True


TITLE_SPACE = 0.4   # inches above the panels for the figure's title (clear of the panels' own)


def legend_columns(labels, width, most=6):
    """The most columns (up to most) whose legend fits in width inches: matplotlib fills the
    columns top to bottom, each as wide as its longest label (about 0.075 in a character at
    the default size) plus its handle."""
    for ncol in range(min(len(labels), most), 1, -1):
        rows = math.ceil(len(labels) / ncol)
        columns = [labels[i:i + rows] for i in range(0, len(labels), rows)]
        if sum(0.075 * max(map(len, c)) + 0.8 for c in columns) <= width:
            return ncol
    return 1


def layout_with_legend(fig, axes, title=None, sort=True, note=None):
    """The figure's title at the top, clear of the panels' titles; tight layout below it; then
    one legend below all panels holding every label of every panel once (C++ contenders
    first, then the peers, unless sort is False: first seen first), and under the legend an
    optional note (wrapped to the figure's width)."""
    entries = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    height = fig.get_figheight()
    if title:   # after the layout, which would otherwise make room for it a second time
        fig.tight_layout(rect=(0, 0, 1, 1 - TITLE_SPACE / height))
        fig.suptitle(title, y=1 - 0.08 / height, va="top")
    else:
        fig.tight_layout()
    labels = list(entries)
    if sort:
        labels.sort(key=lambda label: (language_of(label) is not None, rank(label, IMPL_ORDER)))
    legend = fig.legend([entries[label] for label in labels], labels, loc="upper center",
                        bbox_to_anchor=(0.5, 0.0), ncol=legend_columns(labels, fig.get_figwidth()))
    if note:
        box = legend.get_window_extent(fig.canvas.get_renderer()).transformed(fig.transFigure.inverted())
        text = "\n".join(textwrap.fill(part, int(fig.get_figwidth() * 13)) for part in note)
        fig.text(0.5, box.y0 - 0.1 / height, text, ha="center", va="top", fontsize=9)


PAYLOAD_NOTES = {"boxed": "boxed: each message is a pointer to an 8 B value on the heap, allocated by the "
                           "producer and freed by the consumer"}
GO_BOXED = " (Go: by its garbage collector)"


def plot_payload(benches, path):
    """Messages/s per payload, for each scenario measured at several payloads: the payloads
    are categories (8 B, 64 B, 1 KiB, boxed), not points on a size axis, so each is a group
    of bars, one bar per contender, nothing joining one payload to the next."""
    panels = defaultdict(list)
    for b in benches:
        if "payload" in b.keys:
            panels[describe(b, skip=("impl", "payload"))].append(b)
    panels = {title: bs for title, bs in panels.items() if len({b.keys["payload"] for b in bs}) > 1}
    if not panels:
        return False
    fig, axes = grid([4.4] * len(panels), 7, sharey=True)
    stats_all, payloads_all = [], set()
    for ax, (title, bs) in zip(axes, panels.items()):
        payloads = sorted({b.keys["payload"] for b in bs}, key=value_order)
        payloads_all.update(payloads)
        impls = [i for i in impls_of(bs) if sum(b.contender == i for b in bs) >= 2]
        width = 0.84 / len(impls)
        for n, impl in enumerate(impls):
            mine = sorted(((payloads.index(b.keys["payload"]), b.stat("items_per_second"))
                           for b in bs if b.contender == impl), key=lambda p: p[0])
            stats = [s for _, s in mine]
            stats_all += stats
            ax.bar([x - 0.42 + width * (n + 0.5) for x, _ in mine], [s.median for s in stats], width,
                   yerr=error_bars(stats), capsize=1.5, error_kw={"elinewidth": 0.8},
                   color=impl_color(impl), label=impl, **peer_style(impl))
        for x in range(len(payloads) - 1):   # a rule between categories
            ax.axvline(x + 0.5, color="0.8", lw=0.8)
        ax.set_xlim(-0.5, len(payloads) - 0.5)
        ax.set_xticks(range(len(payloads)), [fmt_payload(p) for p in payloads])
        ax.set_yscale("log")
        ax.set_xlabel("payload per message")
        ax.set_ylabel("messages/s (log scale)")
        ax.set_title(title)
        ax.grid(True, axis="y", which="major", alpha=0.3)
        ax.tick_params(axis="y", labelleft=True)
    axes[0].set_ylim(min(s.lo if s.lo > 0 else s.median for s in stats_all) / 2,
                     max(s.hi for s in stats_all) * 1.5)
    log_axis(axes[0].yaxis, fmt_si)
    go = any(language_of(b.contender) == "go" for bs in panels.values() for b in bs)
    notes = [PAYLOAD_NOTES[p] + (GO_BOXED if p == "boxed" and go else "")
             for p in sorted(payloads_all) if p in PAYLOAD_NOTES]
    layout_with_legend(fig, axes, "Channel throughput per payload (taller is faster)", note=notes)
    save(fig, path)
    return True


LIMIT_LABEL = ("atomic_spin p50 ({}): two threads on two cores handing one cache line back and forth, "
               "no queue: the cross-core limit")


def below_limit_note(names):
    """Why a contender's p50 can sit below the atomic_spin line: for Go, its scheduler may run
    both goroutines on one core; otherwise atomic_spin was itself slowed (it needs two free
    cores)."""
    go = [n for n in names if language_of(n) == "go"]
    other = [n for n in names if language_of(n) != "go"]
    notes = []
    if go:
        notes.append(f"* {', '.join(go)}: p50 below the atomic_spin line. It measures a different hand-off, not "
                     "one faster than the hardware: Go's scheduler can run both goroutines on one core (one "
                     "P) and switch between them in user space, so its round trip need not cross cores at all.")
    if other:
        notes.append(f"* {', '.join(other)}: p50 below the atomic_spin line. atomic_spin needs two free cores; "
                     "on a busy or small machine its own round trip includes waits for a core, and the line "
                     "is then no limit.")
    return notes


def plot_latency(benches, path):
    """ping_pong round trips: p50/p99/p99.9 bars per impl (horizontal, the names on the left:
    no slanted labels), one panel per capacity on one shared time axis, atomic_spin's p50 as
    the cross-core limit (labelled with what it is); a contender whose p50 is below it is
    starred and the note under the legend says why."""
    panels = ping_pong_panels(benches)
    if not panels:
        return False
    heights = [0.5 * max(len(bs), 2) + 1.3 for bs, _ in panels.values()]
    fig, axes = grid(heights, 7, sharex=True)
    all_stats, below = [], []
    for ax, (title, (bs, limit)) in zip(axes, panels.items()):
        bars = sorted(bs, key=lambda b: rank(b.contender, IMPL_ORDER))
        height = 0.8 / len(PERCENTILES)
        for n, (metric, label) in enumerate(PERCENTILES):
            stats = [b.stat(metric) for b in bars]
            ax.barh([i - 0.4 + height * (n + 0.5) for i in range(len(bars))], [s.median for s in stats],
                    height, xerr=error_bars(stats), capsize=2, color=f"C{n}", alpha=0.85, label=label)
        all_stats += [b.stat(m) for b in bs + ([limit] if limit else []) for m, _ in PERCENTILES]
        names = [b.contender for b in bars]
        if limit:
            p50 = limit.stat("p50_ns").median
            ax.axvline(p50, color="k", ls="--", lw=1, label=LIMIT_LABEL.format(fmt_ns(p50)))
            low = [b.contender for b in bars if b.stat("p50_ns").median < p50]
            below += [n for n in low if n not in below]
            names = [f"{n}*" if n in low else n for n in names]
        ax.set_yticks(range(len(bars)), names)
        for tick, b in zip(ax.get_yticklabels(), bars):   # peers' names in their own colour
            if b.is_peer:
                tick.set_color(impl_color(b.contender))
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlabel("round-trip latency (log scale)")
        ax.set_title(title)
        ax.grid(True, axis="x", which="major", alpha=0.3)
        ax.tick_params(axis="x", labelbottom=True)
    axes[0].set_xlim(min(s.lo if s.lo > 0 else s.median for s in all_stats) / 2,
                     max(s.hi for s in all_stats) * 1.5)
    log_axis(axes[0].xaxis, fmt_ns)
    layout_with_legend(fig, axes, "Channel round trips: p50 / p99 / p99.9 per implementation (shorter is faster)",
                       note=below_limit_note(below))
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
    layout_with_legend(fig, axes.ravel(), "Task pools: throughput and efficiency vs work per task")
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
            ("channel", "channel_payload.png", "channel throughput per payload", "throughput", plot_payload),
            ("channel", "channel_latency.png", "ping_pong latency percentiles", "latency", plot_latency),
            ("pool", "pool.png", "pool tasks/s and efficiency vs grain", "pool", plot_pool)):
        if kinds[kind] and plot(kinds[kind], out / file):
            charts[family].append((file, caption))
    return charts
