"""report.md of one run: the busy-machine line (when the context says so), the machine, per
family its charts, headline ratios and every benchmark, then the speed goals. The same run
gives the same bytes: nothing in it depends on when or where it is written."""
from . import goals, headlines, machine
from .fmt import fmt_metric, fmt_ns, md_table, rank
from .kinds import FAMILIES, IMPL_ORDER

CONTEXT_ORDER = ("machine", "cpu_model", "cores", "num_cpus", "mhz_per_cpu", "governor",
                 "cpu_scaling_enabled", "kernel", "compiler", "tbb_version", "git_commit",
                 "library_version", "library_build_type", "host_name", "date", "load_avg",
                 "preflight", "busy_procs", "language")
TITLE = "# threadbench results: "


def context_table(context):
    keys = sorted(context, key=lambda k: rank(k, CONTEXT_ORDER))
    return md_table(("key", "value"), [(k, " / ".join(context[k])) for k in keys])


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
    return md_table(("benchmark", "median time", "cv", "reps", "other metrics (median)"), rows)


def all_headlines(run, kinds):
    """Every Headline of the run, family by family."""
    return (headlines.spawn(kinds["spawn"]) + headlines.channel(kinds["throughput"], kinds["latency"])
            + headlines.pool(kinds["pool"], machine.cores(run)))


def headline_table(family, rows):
    """The headline rows of one family as Markdown (empty list when there are none)."""
    rows = [h for h in rows if h.family == family]
    if not rows:
        return []
    value = lambda h: "–" if h.value is None else f"{h.value:.3g}"   # noqa: E731
    if family == "spawn":
        return md_table(("ratio", "value", "what it means"), [(h.title, value(h), h.sentence) for h in rows])
    if family == "channel":
        return ["Speed-up = threadbench messages/s ÷ contender's (throughput), or contender's p50 ÷ "
                "threadbench's (ping_pong); above 1 threadbench is faster. Peers are named by "
                "language (rust:, go:).", ""] + \
            md_table(("scenario", "contender", "speed-up", "what it means"),
                     [(h.title, h.contender, value(h), h.sentence) for h in rows])
    return ["tasks/s: tbb_task_group tasks/s ÷ the other method's (above 1 TBB is faster); overhead: "
            "per-task overhead (threads ÷ tasks/s − grain) of channel_workers ÷ tbb_task_group's "
            "(above 1 the channel pool costs more).", ""] + \
        md_table(("scenario", "ratio", "value", "what it means"),
                 [(h.title, f"{h.subject} ÷ {h.contender} {h.scenario}", value(h), h.sentence) for h in rows])


def peer_table(rows):
    """The channel headlines against the Rust and Go peers as one grid: a row per scenario, a
    column per peer (the same speed-ups as the headline table, side by side)."""
    rows = [h for h in rows if h.family == "channel" and ":" in h.contender]
    if not rows:
        return []
    peers = sorted({h.contender for h in rows}, key=lambda c: rank(c, IMPL_ORDER))
    grid = {}
    for h in rows:
        grid.setdefault(h.title, {})[h.contender] = f"{h.value:.3g}"
    return ["### threadbench vs the Rust and Go peers", "",
            "Speed-up of threadbench over each peer (as above: above 1 threadbench is faster); "
            "– where the peer has no such scenario.", ""] + \
        md_table(("scenario", *peers), [(t, *(cells.get(p, "–") for p in peers)) for t, cells in grid.items()]) + [""]


def render(run, title, families, kinds, charts):
    """report.md's text and the goal verdicts (goals.txt is made from the same verdicts)."""
    lines = [TITLE + title, ""]
    busy = machine.busy_verdict(run)
    if busy:
        lines += [busy, ""]
    lines += [f"From {', '.join(f.name for f in run.files)}. Times are medians over the repetitions; "
              "cv = stddev / mean of the repetitions (– with one repetition).", "",
              "## Machine", ""] + context_table(run.context)
    rows = all_headlines(run, kinds)
    for family in FAMILIES:
        if family not in families:
            continue
        lines += ["", f"## {family}", ""]
        lines += [f"![{caption}](plots/{file})\n" for file, caption in charts[family]]
        table = headline_table(family, rows)
        if table:
            lines += ["### Headline ratios", ""] + table + [""]
        if family == "channel":
            lines += peer_table(rows)
        lines += ["### All benchmarks", ""] + family_table(families[family])
    verdicts = goals.judge_all(rows, run)
    lines += ["", "## Speed goals", "",
              "Targets on the headline ratios above (worst row shown where a goal covers several); "
              "the same table is in goals.txt.", ""] + goals.as_markdown(verdicts)
    return "\n".join(lines) + "\n", verdicts


def previous_title(path):
    """The title of an existing report.md, so that re-plotting a run keeps it."""
    try:
        first = path.read_text().split("\n", 1)[0]
    except (OSError, UnicodeDecodeError):
        return None
    return first[len(TITLE):] if first.startswith(TITLE) and len(first) > len(TITLE) else None
