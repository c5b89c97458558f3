"""What a run's context says about the machine it ran on: cores, a host label, and whether
the machine was quiet (the preflight verdict bench.sh records, or the load average)."""
import re
from dataclasses import dataclass

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


@dataclass
class BusyFacts:
    """What a run's contexts say about the load when it started (busy_facts)."""
    preflight_busy: bool    # some file's context has preflight=busy (bench.sh's check before timing)
    load: float = None      # the 1-minute load average at the start of the run, or None
    load_file: str = None   # the file it is read from: the earliest binary's
    cores: int = None
    others_cpu: float = None   # cores other work used during bench.sh's 2 s sample, or None
    procs: tuple = ()       # the busy processes bench.sh named ('cc1plus:98%', ...)
    procs_recorded: bool = False   # the context has busy_procs at all ('none' included)

    @property
    def threshold(self):
        """The load average that counts as busy: BUSY_LOAD_PER_CORE x cores (None: cores unknown)."""
        return BUSY_LOAD_PER_CORE * self.cores if self.cores else None

    @property
    def load_busy(self):
        return self.load is not None and self.threshold is not None and self.load >= self.threshold

    @property
    def busy(self):
        return self.preflight_busy or self.load_busy


def busy_facts(run):
    """The run's BusyFacts. The load average is the first binary's (earliest date): later
    binaries start with the suite's own load from the ones before them."""
    procs, recorded, others = set(), False, []
    for _, ctx in run.contexts:
        value = ctx.get("busy_procs")
        if value is not None:
            recorded = True
        if value not in (None, "", "0", 0, "none", []):
            procs.add(str(value))
        o = _first_number(ctx.get("others_cpu"))
        if o is not None:
            others.append(o)
    load = file = None
    dated = [(str(ctx.get("date", "")), f, ctx) for f, ctx in run.contexts]
    if dated:
        _, file, ctx = min(dated, key=lambda d: (d[0], d[1]))
        load = _first_number(ctx.get("load_avg"))
    preflight_busy = any(str(ctx.get("preflight", "")).lower() == "busy" for _, ctx in run.contexts)
    return BusyFacts(preflight_busy, load, file if load is not None else None, cores(run),
                     max(others) if others else None, tuple(sorted(procs)), recorded)


def _procs_words(procs):
    """'cc1plus:98% make:12%' (preflight.sh's busy_procs) -> 'cc1plus (98% of a core), make
    (12% of a core)'; any other form is kept as it is."""
    words = []
    for value in procs:
        parts = value.split()
        if all(re.fullmatch(r"\S+:\d+%", p) for p in parts):
            words += [re.sub(r"^(\S+):(\d+)%$", r"\1 (\2% of a core)", p) for p in parts]
        else:
            words.append(value)
    return ", ".join(words)


def busy_verdict(run):
    """One Markdown line saying, in words, that the run was made on a busy machine and what
    was busy (the load average against the cores, bench.sh's preflight verdict, the other
    processes it named), or None if nothing says so (busy_facts)."""
    facts = busy_facts(run)
    if not facts.busy:
        return None
    parts = []
    if facts.load is not None and facts.cores:
        when = f"1-minute, when {facts.load_file}, the first binary, started"
        side = "at or above" if facts.load_busy else "below"
        parts.append(f"load average {facts.load:.2f} on {facts.cores} cores ({when}), {side} "
                     f"{facts.threshold:g}, half the cores")
    elif facts.load is not None:
        parts.append(f"load average {facts.load:.2f} (1-minute, when {facts.load_file}, the first binary, "
                     "started; core count not recorded)")
    if facts.preflight_busy:
        check = "bench.sh's check before timing (preflight) said busy"
        if facts.others_cpu is not None and facts.others_cpu >= 0.1:
            check += f": other work used {facts.others_cpu:g} cores during its 2 s sample"
        parts.append(check)
    if facts.procs:
        parts.append(f"other busy processes: {_procs_words(facts.procs)}")
    elif facts.procs_recorded:
        parts.append("no other process was busy enough to be named (10% of a core or more)")
    return (f"> **Busy machine.** The machine was busy when this run started: {'; '.join(parts)}. "
            "Its times are inflated and noisy; ratios within it are sanity checks, not results.")


def busy_reasons(run):
    """Why the run counts as made on a busy machine, as short phrases (compare.py prints
    them); [] when nothing says so.

    Busy when any file's context has preflight=busy (bench.sh's check before timing), or the
    1-minute load average at the start of the run (the earliest binary's context) is
    >= BUSY_LOAD_PER_CORE x cores."""
    facts = busy_facts(run)
    reasons = []
    if facts.preflight_busy:
        reasons.append("preflight: busy")
    if facts.load_busy:
        reasons.append(f"1-minute load average {facts.load:.2f} on {facts.cores} cores at the start of the run "
                       f"({facts.load_file}), at or above {facts.threshold:g} (half the cores)")
    if reasons and facts.procs:
        reasons.append(f"busy processes: {'; '.join(facts.procs)}")
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


