"""report.md of one run, its answer first: the busy-machine line (when the context says so),
how the numbers were made (processes x repetitions x minimum time, the preflight verdict),
then a Summary (every speed goal's verdict, threadbench's largest leads and trails among the
headline ratios, each with its interval), then the charts, then the tables: headline ratios
per family (each with its 95% interval), the speed goals in full, the noise check, the
harness floor, the machine. Every benchmark's own row goes to tables.md beside it. The same
run gives the same bytes: nothing in it depends on when or where it is written (the
bootstrap is seeded by the rows' names)."""
from . import floor, goals, headlines, interval, machine, noise, peers
from .fmt import fmt_metric, fmt_ns, md_table, rank
from .kinds import FAMILIES, IMPL_ORDER, LIMIT, classify
from .load import context_text

CONTEXT_ORDER = ("machine", "cpu_model", "cores", "num_cpus", "mhz_per_cpu", "governor",
                 "cpu_scaling_enabled", "kernel", "compiler", "tbb_version", "git_commit",
                 "library_version", "library_build_type", "host_name", "date", "load_avg",
                 "preflight", "busy_procs", "language")
TITLE = "# threadbench results: "


def context_table(run):
    """One row per context key and value; 'files' names the files that hold the value ('all'
    when every file of the run does), so a value that differs between files is attributed to
    each file instead of joined."""
    keys = sorted(run.context, key=lambda k: rank(k, CONTEXT_ORDER))
    rows = []
    for key in keys:
        for value in run.context[key]:
            files = [f for f, ctx in run.contexts if key in ctx and context_text(ctx[key]) == value]
            where = "all" if len(files) == len(run.contexts) else ", ".join(files)
            rows.append((key, value, where))
    return md_table(("key", "value", "files"), rows)


def family_table(benches):
    rows = []
    for b in benches:
        if b.error:
            rows.append((f"`{b.name}`", f"error: {b.error}", "", "", ""))
            continue
        s = b.stat("real_time")
        others = ", ".join(fmt_metric(m, b.stat(m).median) for m in b.metrics() if m != "real_time")
        cv = "–" if s.cv is None else f"{s.cv:.1%}"
        shape = interval.shape(interval.groups(b, "real_time")) if b.samples else str(s.n)
        rows.append((f"`{b.name}`", fmt_ns(s.median), cv, shape, others))
    return md_table(("benchmark", "median time", "cv", "reps", "other metrics (median)"), rows)


def all_headlines(run, kinds):
    """Every Headline of the run, family by family."""
    return (headlines.spawn(kinds["spawn"]) + headlines.dispatch(kinds["spawn"], kinds["latency"])
            + headlines.channel(kinds["throughput"], kinds["latency"])
            + headlines.pool(kinds["pool"], machine.cores(run)))


def goal_verdicts(run):
    """Every speed goal judged on run's headline ratios (goals.py's table, without the charts)."""
    kinds, _ = classify(run.benches.values())
    return goals.judge_all(all_headlines(run, kinds), run)


def headline_table(family, rows, show=str):
    """The headline rows of one family as Markdown (empty list when there are none). show
    turns a contender's label into the one printed (peers.labeller: with its version); the
    rows' own labels, which goals key on, stay bare."""
    rows = [h for h in rows if h.family == family]
    if not rows:
        return []
    value = lambda h: "–" if h.value is None else f"{h.value:.3g}"   # noqa: E731
    iv = lambda h: "–" if h.estimate is None else interval.fmt_interval(h.estimate)   # noqa: E731
    if family == "spawn":
        # a ÷ b: what a costs over what b costs (median time per thread or task)
        return [INTERVAL_LEGEND, ""] + md_table(("ratio", "value", "95% interval", "what it means"),
                                                [(f"{show(h.subject)} ÷ {show(h.contender)}", value(h), iv(h),
                                                  h.sentence) for h in rows])
    if family == "channel":
        return ["Speed-up = threadbench messages/s ÷ contender's (throughput), or contender's p50 ÷ "
                "threadbench's (ping_pong); above 1 threadbench is faster. Peers are named by "
                "language (rust:, go:), with the version measured. " + INTERVAL_LEGEND, ""] + \
            md_table(("scenario", "contender", "speed-up", "95% interval", "what it means"),
                     [(h.title, show(h.contender), value(h), iv(h), h.sentence) for h in rows])
    return ["tasks/s: tbb_task_group tasks/s ÷ the other method's (above 1 TBB is faster); overhead: "
            "per-task overhead (threads ÷ tasks/s − grain) of channel_workers ÷ tbb_task_group's "
            "(above 1 the channel pool costs more). " + INTERVAL_LEGEND, ""] + \
        md_table(("scenario", "ratio", "value", "95% interval", "what it means"),
                 [(h.title, f"{show(h.subject)} ÷ {show(h.contender)} {h.scenario}", value(h), iv(h), h.sentence)
                  for h in rows])


INTERVAL_LEGEND = ("95% interval: a seeded bootstrap of the same ratio over the two rows' repetitions "
                   "(processes, then repetitions, when a row ran in several processes); with fewer than "
                   "6 samples a side it is at most the samples' range and covers less than 95%.")


def peer_table(rows, show=str):
    """The channel headlines against the Rust and Go peers as one grid: a row per scenario, a
    column per peer (the same speed-ups as the headline table, side by side), each column
    headed by show(peer) (peers.labeller: the label with its version)."""
    rows = [h for h in rows if h.family == "channel" and ":" in h.contender]
    if not rows:
        return []
    peers = sorted({h.contender for h in rows}, key=lambda c: rank(c, IMPL_ORDER))
    grid = {}
    for h in rows:   # the speed-up and, in brackets, its 95% interval (as in the table above)
        iv = h.estimate.interval() if h.estimate else None
        bounds = f" [{interval.fmt_bound(iv[0])}–{interval.fmt_bound(iv[1])}]" if iv else " (1 rep)"
        cell = f"{h.value:.3g}{bounds}"
        grid.setdefault(h.title, {})[h.contender] = cell
    return ["#### threadbench vs the Rust and Go peers", "",
            "Speed-up of threadbench over each peer (as above: above 1 threadbench is faster), its 95% "
            "interval in brackets ('1 rep': one repetition, a sanity check only); – where the peer has "
            "no such scenario.", ""] + \
        md_table(("scenario", *map(show, peers)), [(t, *(cells.get(p, "–") for p in peers)) for t, cells in grid.items()]) + [""]


SUMMARY_ROWS = 5   # the Summary's leads and trails: this many of each
TABLES = "tables.md"   # every benchmark's table, beside report.md (render_tables)


def threadbench_rows(rows):
    """The headline rows that rank threadbench itself: its channel speed-ups over every other
    contender with a value (not over atomic_spin, ping_pong's limit: a bound, not a contender)."""
    return [h for h in rows if h.family == "channel" and h.subject == "threadbench"
            and h.contender != LIMIT and h.value is not None]


def leads_and_trails(rows, n=SUMMARY_ROWS):
    """(leads, trails): threadbench's n largest speed-ups above 1, largest first, and its n
    smallest below 1, smallest first (threadbench_rows; ties by scenario, then contender)."""
    mine = threadbench_rows(rows)
    order = lambda h: (h.title, rank(h.contender, IMPL_ORDER))   # noqa: E731
    leads = sorted((h for h in mine if h.value > 1), key=lambda h: (-h.value, order(h)))[:n]
    trails = sorted((h for h in mine if h.value < 1), key=lambda h: (h.value, order(h)))[:n]
    return leads, trails


def rank_table(rows, show=str):
    """Leads or trails as Markdown: the speed-up and its 95% interval, or SANITY ('1 repetition:
    sanity check only') where a row has one sample and so no interval."""
    return md_table(("scenario", "contender", "speed-up", "95% interval", "what it means"),
                    [(h.title, show(h.contender), f"{h.value:.3g}", interval.fmt_interval(h.estimate),
                      h.sentence) for h in rows])


def summary_section(run, rows, verdicts, show=str):
    """The report's '## Summary': every speed goal's verdict in one row each, threadbench's
    largest leads and trails among the headline ratios, and the benchmarks that failed."""
    lines = ["## Summary", "",
             "**Speed goals**: one row per goal, its interval at the goal's level (see "
             "[Speed goals](#speed-goals) below and goals.txt for what each goal means and what would "
             "settle an UNCLEAR one).", ""] + goals.as_summary(verdicts) + [""]
    leads, trails = leads_and_trails(rows)
    if leads or trails:
        lines += [f"**Where threadbench leads and trails most**: its {SUMMARY_ROWS} largest and "
                  f"{SUMMARY_ROWS} smallest speed-ups among the channel headline ratios (threadbench "
                  "messages/s ÷ the contender's, or the contender's p50 round trip ÷ threadbench's; above "
                  "1 threadbench is faster), with 95% intervals; an interval that holds 1 shows no difference.",
                  ""]
        for name, group in (("Leads", leads), ("Trails", trails)):
            lines += [f"{name}:", ""] + (rank_table(group, show) if group else ["none"]) + [""]
    failed = sorted(b.name for b in run.benches.values() if b.error)
    if failed:
        lines += [f"**Failed** ({len(failed)}, errors in [{TABLES}]({TABLES})): "
                  + ", ".join(f"`{name}`" for name in failed), ""]
    lines += [f"Every benchmark's median, cv and samples: [{TABLES}]({TABLES}).", ""]
    return lines


def render(run, title, families, kinds, charts):
    """report.md's text and the goal verdicts (goals.txt is made from the same verdicts).
    The answer first (the Summary), then the charts, then the tables: headline ratios, the
    speed goals in full, the noise check, the harness floor, the machine. Every benchmark's
    own row is in tables.md (render_tables)."""
    rows = all_headlines(run, kinds)
    show = peers.labeller(run)   # a peer's label with its version, for display only
    verdicts = goals.judge_all(rows, run)
    lines = [TITLE + title, ""]
    busy = machine.busy_verdict(run)
    if busy:
        lines += [busy, ""]
    lines += [how_made(run), ""]
    lines += summary_section(run, rows, verdicts, show)
    drawn = [family for family in FAMILIES if family in families and charts.get(family)]
    if drawn:
        lines += ["## Charts", ""]
        for family in drawn:
            lines += [f"### {family}", ""] + [f"![{caption}](plots/{file})\n" for file, caption in charts[family]]
    tables = [family for family in FAMILIES if family in families and headline_table(family, rows)]
    if tables:
        lines += ["## Headline ratios", ""]
        for family in tables:
            lines += [f"### {family}", ""] + headline_table(family, rows, show) + [""]
            if family == "channel":
                lines += peer_table(rows, show)
    lines += ["## Speed goals", "",
              "Targets on the headline ratios above, judged on their intervals (the row shown where a "
              "goal covers several: its first MISS, else UNCLEAR, else its worst row); the same table "
              "is in goals.txt.", ""] + goals.as_markdown(verdicts, run) + [""]
    lines += noise.section(run.benches.values())
    # The harness floor's share of every channel flow row (nothing for runs without crew rows).
    lines += floor.section(run.benches.values())
    lines += ["## Machine", "", f"From {', '.join(f.name for f in run.files)}.", ""]
    # Which version of each Rust and Go peer was measured, and what Go's rows carry that the
    # others' do not (nothing for runs without peers).
    note = peers.note(run)
    if note:
        lines += note + [""]
    lines += context_table(run)
    return "\n".join(lines) + "\n", verdicts


def render_tables(run, title, families):
    """tables.md: every benchmark's row (median time, cv, processes x repetitions, its other
    metrics), family by family; report.md links to it."""
    lines = [f"{TITLE}{title}: every benchmark", "",
             f"The rows behind [report.md](report.md), from {', '.join(f.name for f in run.files)}. Times "
             "are medians over the repetitions; cv = stddev / mean of the repetitions (– with one "
             "repetition); reps = processes x repetitions per process.", "", how_made(run)]
    for family in FAMILIES:
        if family in families:
            lines += ["", f"## {family}", ""] + family_table(families[family])
    return "\n".join(lines) + "\n"


PREFLIGHT_WORDS = {
    "quiet": "quiet (bench.sh found the machine idle before timing)",
    "busy": "busy (bench.sh found other load before timing: times are inflated and noisy)",
    "unknown": "unknown (bench.sh could not measure the load)",
}


def how_made(run):
    """'**Measured as** 1 process x 3 repetitions x 0.1 s minimum time per repetition;
    **preflight:** quiet (...)': how many samples each row has, how long each was timed, and
    whether the machine was quiet, in words."""
    shapes = machine.sample_shapes(run)
    parts = []
    for procs, reps, count in shapes:
        text = f"{procs} process{'es' if procs > 1 else ''} x {reps} repetition{'s' if reps != '1' else ''}"
        parts.append(text if len(shapes) == 1 else f"{text} ({count} rows)")
    samples = "; ".join(parts) or "no per-repetition samples (aggregates only)"
    min_time = machine.min_time(run)
    min_time = f"{min_time} minimum time per repetition" if min_time else "minimum time not recorded"
    verdicts = machine.preflight(run)
    preflight = ("; ".join(PREFLIGHT_WORDS.get(v, v) for v in verdicts) if verdicts
                 else "not recorded (no bench.sh check before timing)")
    note = f" Rows with one sample have no interval: {interval.SANITY}." if machine.fewest_samples(run) == 1 else ""
    return f"**Measured as** {samples} x {min_time}; **preflight:** {preflight}.{note}"


def previous_title(path):
    """The title of an existing report.md, so that re-plotting a run keeps it."""
    try:
        first = path.read_text().split("\n", 1)[0]
    except (OSError, UnicodeDecodeError):
        return None
    return first[len(TITLE):] if first.startswith(TITLE) and len(first) > len(TITLE) else None
