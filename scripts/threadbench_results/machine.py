"""What a run's context says about the machine it ran on: cores, a host label, and whether
the machine was quiet (the preflight verdict bench.sh records, or the load average)."""
import re

BUSY_LOAD_PER_CORE = 0.5   # a 1-minute load average at or above this x cores counts as busy


def _first_number(value):
    """The first number in a context value: 1.29 from [1.29, 0.31, 0.1] or '1.29 0.31 0.1'."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = re.search(r"-?\d+(\.\d+)?", str(value)) if value is not None else None
    return float(match.group()) if match else None


def cores(run):
    """The machine's core count: bench.sh's 'cores', else Google Benchmark's 'num_cpus'."""
    for key in ("cores", "num_cpus"):
        for _, ctx in run.contexts:
            n = _first_number(ctx.get(key))
            if n and n > 0:
                return int(n)
    return None


def host_label(run):
    """'xeon-16c: Intel(R) Xeon(R) Processor, 16 cores': the run's folder and its machine."""
    cpu = next((str(ctx["cpu_model"]) for _, ctx in run.contexts if ctx.get("cpu_model")), None)
    n = cores(run)
    about = ", ".join(x for x in (cpu, f"{n} cores" if n else None) if x)
    return f"{run.path.name}: {about}" if about else run.path.name


def busy_verdict(run):
    """One Markdown line saying the run was made on a busy machine, or None if nothing says so
    (the reasons: busy_reasons)."""
    reasons = busy_reasons(run)
    if not reasons:
        return None
    return (f"> **Busy machine: this run was not made on a quiet machine** ({'; '.join(reasons)}). "
            "Its times are inflated and noisy; ratios within it are sanity checks, not results.")


def busy_reasons(run):
    """Why the run counts as made on a busy machine, as phrases; [] when nothing says so.

    Busy when any file's context has preflight=busy (bench.sh's check before timing), or the
    1-minute load average at the start of the run (the earliest binary's context) is
    >= BUSY_LOAD_PER_CORE x cores."""
    n = cores(run)
    reasons = []
    if any(str(ctx.get("preflight", "")).lower() == "busy" for _, ctx in run.contexts):
        reasons.append("preflight: busy")
    # The load average at the start of the run: the first binary's (earliest date). Later
    # binaries start with the suite's own load from the ones before them.
    dated = [(str(ctx.get("date", "")), file, ctx) for file, ctx in run.contexts]
    if dated:
        _, file, ctx = min(dated, key=lambda d: (d[0], d[1]))
        load = _first_number(ctx.get("load_avg"))
        if load is not None and n and load >= BUSY_LOAD_PER_CORE * n:
            reasons.append(f"1-minute load average {load:.2f} at the start of the run ({file}), "
                           f"busy from {BUSY_LOAD_PER_CORE * n:g} on {n} cores")
    procs = sorted({str(ctx["busy_procs"]) for _, ctx in run.contexts
                    if ctx.get("busy_procs") not in (None, "", "0", 0, "none", [])})
    if reasons and procs:
        reasons.append(f"busy processes: {'; '.join(procs)}")
    return reasons


def sample_shapes(run, metric="real_time"):
    """[(processes, repetitions per process as text, rows)] over the rows that ran, the most
    common first: (1, '3', 120) = 120 rows ran in 1 process of 3 repetitions; '4-5' when a
    row's processes ran different counts."""
    from . import interval   # here, not at the top: interval stays free of the run's modules
    counts = {}
    for b in run.benches.values():
        gs = interval.groups(b, metric)
        if gs:
            reps = sorted({len(g) for g in gs})
            key = (len(gs), str(reps[0]) if len(reps) == 1 else f"{reps[0]}-{reps[-1]}")
            counts[key] = counts.get(key, 0) + 1
    return [(p, r, n) for (p, r), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def samples_text(run):
    """'1x3' (processes x repetitions of every row), or '1x3 (120 rows); 1x1 (4 rows)'."""
    shapes = sample_shapes(run)
    if not shapes:
        return "no per-repetition samples"
    if len(shapes) == 1:
        return f"{shapes[0][0]}x{shapes[0][1]}"
    return "; ".join(f"{p}x{r} ({n} rows)" for p, r, n in shapes)


def fewest_samples(run):
    """The fewest samples (processes x repetitions) any row of the run has; 0 without samples."""
    shapes = sample_shapes(run)
    return min((p * int(r.split("-")[0]) for p, r, _ in shapes), default=0)


def min_time(run):
    """bench.sh's --min-time of the run ('0.1 s'), or None when the context does not say."""
    values = [str(ctx["min_time_s"]) for _, ctx in run.contexts if ctx.get("min_time_s") not in (None, "")]
    return f"{' / '.join(sorted(set(values)))} s" if values else None


def preflight(run):
    """The preflight verdicts the run's files record ('quiet', 'busy', 'unknown'), sorted; []
    when none does (a run made without bench.sh's check)."""
    return sorted({str(ctx["preflight"]).lower() for _, ctx in run.contexts if ctx.get("preflight")})


def commits(run):
    """The git commits the run's files record; [] when none does."""
    return list(run.context.get("git_commit", []))


