"""The hosts view: the same thread-scaled scenarios measured on several machines, side by
side. One column per run (machine), one row per scenario, shared y axis per row, so a
contender's line can be followed from 2 cores to 16: where it keeps scaling, where it stops.

Drawn: channel mpsc and mpmc (messages/s vs producers, 8-byte payload, each capacity) and
pool (tasks/s vs threads at each grain). A scenario is drawn when at least one run has it;
a run without it shows an empty panel that says so.
"""
from collections import defaultdict

from .charts import impl_color, line_style, log_axis, plt, save
from .fmt import fmt_si, md_table, rank
from .kinds import IMPL_ORDER, classify
from .load import value_order
from .names import key_value
from . import interval, machine

CHANNEL_SCENARIOS = ("mpsc", "mpmc")


def _series(run, benches=False):
    """(chart, row title) -> contender -> [(threads, median)] for one run; with benches=True
    [(threads, median, bench)]."""
    kinds, _ = classify(run.benches.values())
    series = defaultdict(lambda: defaultdict(list))
    for b in kinds["throughput"]:
        if b.scenario in CHANNEL_SCENARIOS and b.keys.get("payload", "8") == "8" and "producers" in b.keys:
            row = f"{b.scenario} {key_value('cap', b.keys.get('cap', '?'))}"
            point = (int(b.keys["producers"]), b.median("items_per_second"))
            series["channel", row][b.contender].append(point + (b,) if benches else point)
    for b in kinds["pool"]:
        if b.scenario != "serial" and "threads" in b.keys:
            row = f"pool {key_value('grain', b.keys['grain'])} ns"
            series["pool", row][b.contender].append((int(b.keys["threads"]), b.median("items_per_second")))
    return series


def _row_order(key):
    chart, row = key
    scenario, _, rest = row.partition(" ")
    return (chart, rank(scenario, CHANNEL_SCENARIOS), value_order(rest.split(":")[-1].split()[0]))


def draw_all(runs, out):
    """Draw hosts_channel.png and hosts_pool.png; returns [(png name, caption)] drawn."""
    per_run = [_series(run) for run in runs]
    labels = [machine.host_label(run) for run in runs]
    drawn = []
    for chart, file, ylabel, xlabel, caption in (
            ("channel", "hosts_channel.png", "messages/s (log scale)", "producers (mpmc: and as many consumers)",
             "channel mpsc/mpmc throughput vs producers, per machine"),
            ("pool", "hosts_pool.png", "tasks/s (log scale)", "threads",
             "pool tasks/s vs threads, per machine")):
        rows = sorted({key for s in per_run for key in s if key[0] == chart}, key=_row_order)
        if not rows:
            continue
        fig, axes = plt.subplots(len(rows), len(runs), figsize=(5.2 * len(runs), 3.2 * len(rows)),
                                 squeeze=False, sharey="row")
        entries = {}
        for r, key in enumerate(rows):
            for c, series in enumerate(per_run):
                ax = axes[r][c]
                lines = series.get(key, {})
                for contender in sorted(lines, key=lambda i: rank(i, IMPL_ORDER)):
                    points = sorted(p for p in lines[contender] if p[1])
                    if not points:
                        continue
                    handle, = ax.plot([t for t, _ in points], [v for _, v in points], marker="o",
                                      color=impl_color(contender), ls=line_style(contender), label=contender)
                    entries.setdefault(contender, handle)
                if not lines:
                    ax.text(0.5, 0.5, "not measured on this machine", ha="center", va="center",
                            transform=ax.transAxes, fontsize=9, color="0.4")
                    ax.set_xticks([])
                    continue
                threads = sorted({t for pts in lines.values() for t, _ in pts})
                ax.set_xscale("log", base=2)
                ax.set_xticks(threads, [str(t) for t in threads])
                ax.set_yscale("log")
                ax.grid(True, which="major", alpha=0.3)
                ax.set_title(f"{key[1]}\n{labels[c]}", fontsize=9)
                if r == len(rows) - 1:
                    ax.set_xlabel(xlabel)
                if c == 0:
                    ax.set_ylabel(ylabel)
            if any(key in s for s in per_run):
                first = next(ax for ax, s in zip(axes[r], per_run) if key in s)
                log_axis(first.yaxis, fmt_si)
        fig.suptitle(f"{chart}: the same scenarios on {len(runs)} machines (higher is faster)")
        fig.tight_layout()
        names = sorted(entries, key=lambda i: rank(i, IMPL_ORDER))
        fig.legend([entries[n] for n in names], names, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                   ncol=min(len(names), 6))
        save(fig, out / file)
        drawn.append((file, caption))
    return drawn


def scaling_table(runs):
    """Per channel row and contender, on each machine: messages/s with 1 producer and with the
    most producers measured, and the ratio most ÷ fewest with its 95% interval, e.g.
    '67.8 M (1p) → 16.2 M (8p) ×0.239 [0.2–0.27]': how the contender holds up as threads are
    added (×1 = it keeps its rate; the interval: interval.py's bootstrap of that ratio)."""
    per_run = [_series(run, benches=True) for run in runs]
    rows = []
    for key in sorted({k for s in per_run for k in s if k[0] == "channel"}, key=_row_order):
        for contender in sorted({c for s in per_run for c in s.get(key, {})}, key=lambda i: rank(i, IMPL_ORDER)):
            cells = []
            for s in per_run:
                points = sorted((p for p in s.get(key, {}).get(contender, []) if p[1]), key=lambda p: p[0])
                if points:
                    (t0, v0, b0), (t1, v1, b1) = points[0], points[-1]
                    cell = f"{fmt_si(v0)} ({t0}p) → {fmt_si(v1)} ({t1}p)"
                    if b0 is not b1:
                        est = interval.ratio(b1, b0, "items_per_second")
                        iv = est.interval()
                        cell += f" ×{est.value:.3g} " + (f"[{interval.fmt_bound(iv[0])}–{interval.fmt_bound(iv[1])}]"
                                                        if iv else "(1 rep)")
                    cells.append(cell)
                else:
                    cells.append("–")
            rows.append((key[1], contender, *cells))
    return md_table(("scenario", "contender", *[run.path.name for run in runs]), rows)


def render(runs, title, drawn):
    lines = [f"# threadbench results: {title}", "",
             "The same scenarios on several machines, side by side (one column per machine). "
             "Absolute numbers differ between machines by design; read the shape: how each "
             "contender scales with threads on each machine.", "", "## Machines", ""]
    rows = []
    for run in runs:
        commits = " / ".join(run.context.get("git_commit", ["?"]))
        busy = "busy (see its report)" if machine.busy_verdict(run) else "quiet"
        rows.append((run.path.name, machine.host_label(run).split(": ", 1)[-1], commits, busy,
                     machine.samples_text(run)))
    lines += md_table(("run", "machine", "commit measured", "machine state", "samples per row (processes x repetitions)"), rows)
    for file, caption in drawn:
        lines += ["", f"![{caption}](plots/{file})"]
    lines += ["", "## Channel throughput from the fewest to the most producers", "",
              "messages/s of each contender with the fewest and with the most producers measured, "
              "on each machine (mpmc: as many consumers as producers); ×r = most ÷ fewest "
              "(1 = the rate holds as threads are added) with its 95% interval in brackets (a seeded "
              "bootstrap over both rows' repetitions; '1 rep': one repetition, a sanity check only).", ""]
    lines += scaling_table(runs)
    return "\n".join(lines) + "\n"
