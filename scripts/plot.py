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
failed run leaves earlier output intact. The work is threadbench_results/publish.py (with
report.py, charts.py, hosts.py); this is its command line.
Exit status: 0 done, 2 unusable input (one line on stderr says why).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from threadbench_results.cli import ArgParser, fail, require  # noqa: E402

require("matplotlib")
from threadbench_results import publish  # noqa: E402  (only after require() has said what to install)


def main():
    parser = ArgParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR", help="a results/<run-id>/ folder (several: hosts view)")
    parser.add_argument("--title", help="the name in report.md (default: the existing report's, else the folder's)")
    parser.add_argument("--out", metavar="DIR", help="hosts view: the folder for its plots/ and report.md")
    args = parser.parse_args()
    if args.out is None and len(args.runs) > 1:
        fail("several runs make a hosts view: name the folder it goes into with --out DIR")
    if args.out is None:
        publish.one_run(Path(args.runs[0]), args.title)
    else:
        publish.many_runs([Path(r) for r in args.runs], args.out, args.title)


if __name__ == "__main__":
    main()
