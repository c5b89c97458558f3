#!/usr/bin/python3
"""plot.py RUN_DIR: one results run -> RUN_DIR/plots/*.png, report.md, tables.md and goals.txt.
plot.py RUN_A RUN_B ... --out DIR: the same scenarios on several machines side by side.

One run: reads the Google Benchmark JSON files of the run (C++ and, when present, the Rust
and Go peers' rust_bench.json / go_bench.json); any subset of the families spawn, capture,
channel and pool may be present. Every number drawn is the median of the repetitions;
error bars span the repetitions' min..max (median +- the stddev aggregate when the JSON has
only aggregates); a row with one sample has no error bar. report.md opens with its answer: a
warning at the top when the run was made on a busy machine (saying what was busy: the load
average against the cores, the preflight verdict, the processes it named), how the numbers
were made (processes x repetitions x minimum time, the preflight verdict), then a Summary:
every speed goal's verdict, PASS / MISS / UNCLEAR on its interval, and threadbench's five
largest leads and trails among the headline ratios, each with its interval ('1 repetition:
sanity check only' where a row has one sample). Then the charts, then the tables: headline
ratios with their 95% intervals per family, the speed goals in full (also written as
goals.txt), the noise check (twin rows that disagree beyond their intervals), the harness
floor, the machine (a value that differs between files attributed to each file). Every
benchmark's own row (median, cv, processes x repetitions) is in tables.md, linked from
report.md. Its title is --title, else the title of the report.md already there, else
RUN_DIR's name, so re-running plot.py on a run reproduces its report.md and tables.md byte
for byte.

Several runs (hosts view): DIR/plots/hosts_*.png and DIR/report.md draw the thread-scaling
of each contender on each machine side by side, one column per run, shared axes.

Everything is written into a temporary folder first and moved into place at the end: a
failed run leaves earlier output intact.
Exit status: 0 done, 2 unusable input (one line on stderr says why).
"""
import shutil
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from threadbench_results.cli import ArgParser, RunError, fail, require, warn  # noqa: E402
from threadbench_results.kinds import FAMILIES, classify  # noqa: E402
from threadbench_results.load import load_run  # noqa: E402
from threadbench_results import goals, report  # noqa: E402

require("matplotlib")
from threadbench_results import charts, hosts  # noqa: E402  (only after require() has said what to install)


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


def main():
    parser = ArgParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR", help="a results/<run-id>/ folder (several: hosts view)")
    parser.add_argument("--title", help="the name in report.md (default: the existing report's, else the folder's)")
    parser.add_argument("--out", metavar="DIR", help="hosts view: the folder for its plots/ and report.md")
    args = parser.parse_args()
    if args.out is None and len(args.runs) > 1:
        fail("several runs make a hosts view: name the folder it goes into with --out DIR")
    if args.out is None:
        one_run(Path(args.runs[0]), args.title)
    else:
        many_runs([Path(r) for r in args.runs], args.out, args.title)


if __name__ == "__main__":
    main()
