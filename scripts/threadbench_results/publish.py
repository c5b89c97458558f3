"""plot.py's work, as functions: one run -> RUN_DIR/plots/*.png, report.md, tables.md and
goals.txt (one_run); several runs -> DIR/plots/hosts_*.png and DIR/report.md (many_runs).
Everything is written into a temporary folder inside the target first and moved into place
at the end, so a failed run leaves earlier output intact. Input or output that cannot be
used prints one line and exits 2 (cli.fail). Imports matplotlib (through charts and hosts):
import it after cli.require("matplotlib").
"""
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path

from . import charts, goals, hosts, report
from .cli import RunError, fail, warn
from .kinds import FAMILIES, classify
from .load import load_run


def families_of(run):
    """family -> benchmarks, unknown families dropped with a warning (all unknown: an error)."""
    families = defaultdict(list)
    for b in run.benches.values():
        families[b.family].append(b)
    unknown = sorted(set(families) - set(FAMILIES))
    if len(unknown) == len(families):
        fail(f"{run.path}: no benchmarks of a known family ({', '.join(FAMILIES)}); "
             f"found only {', '.join(unknown)}")
    for family in unknown:
        warn(f"skipping {len(families.pop(family))} benchmark(s) of unknown family '{family}'")
    return families


def publish(tmp, out, names):
    """Swap the freshly written plots/ and files into out."""
    if (out / "plots").exists():
        (out / "plots").rename(tmp / "old-plots")
    (tmp / "plots").rename(out / "plots")
    for name in names:
        (tmp / name).replace(out / name)


def write_into(out, make):
    """Run make(tmp) in a temporary folder inside out, then publish what it names."""
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".plot-", dir=out))
        try:
            (tmp / "plots").mkdir()
            names = make(tmp)
            publish(tmp, out, names)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError as e:
        fail(f"cannot write the plots and report into {out}: {e}")


def one_run(path, title):
    try:
        run = load_run(path)
    except RunError as e:
        fail(str(e))
    families = families_of(run)
    kinds, warnings = classify(b for bs in families.values() for b in bs)
    for line in warnings:
        warn(line)
    title = title or report.previous_title(run.path / "report.md") or run.path.name
    drawn = {}

    def make(tmp):
        drawn.update(charts.draw_all(kinds, tmp / "plots"))
        text, verdicts = report.render(run, title, families, kinds, drawn)
        (tmp / "report.md").write_text(text)
        (tmp / report.TABLES).write_text(report.render_tables(run, title, families))
        (tmp / "goals.txt").write_text(goals.as_text(verdicts, run))
        return ["report.md", report.TABLES, "goals.txt"]
    write_into(run.path, make)
    count = sum(map(len, drawn.values()))
    print(f"plot.py: wrote {run.path / 'report.md'}, {report.TABLES}, goals.txt and {count} plots in "
          f"{run.path / 'plots'}")


def many_runs(paths, out, title):
    runs = []
    for path in paths:
        try:
            runs.append(load_run(path))
        except RunError as e:
            fail(str(e))
    out = Path(out)
    if out.exists() and not out.is_dir():
        fail(f"{out}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        fail(f"cannot make {out}: {e}")
    title = title or report.previous_title(out / "report.md") or out.name
    drawn = []

    def make(tmp):
        drawn.extend(hosts.draw_all(runs, tmp / "plots"))
        if not drawn:
            raise RunError("the runs share no thread-scaled scenario (channel mpsc/mpmc/spsc, pool)")
        (tmp / "report.md").write_text(hosts.render(runs, title, drawn))
        return ["report.md"]
    try:
        write_into(out, make)
    except RunError as e:
        fail(str(e))
    print(f"plot.py: wrote {out / 'report.md'} and {len(drawn)} hosts plots in {out / 'plots'}")
