#!/usr/bin/env python3
"""Check threadbench's speed goals against one benchmark run.

    scripts/goals.py RESULTS_DIR            every *.json in the folder (one per binary, peers too)
    scripts/goals.py chan.json pool.json    or the JSON files themselves

The goals are targets on the headline ratios of report.md (threadbench_results/goals.py
lists them and says how each is read; headlines.py computes the ratios, interval.py their
95% intervals): the same table plot.py writes into report.md and goals.txt. Per goal: the
measured ratio of the row shown (where a goal covers several rows: its first MISS, else its
UNCLEAR, else its worst), that row's interval, the target, and PASS (the whole interval meets
the target) / MISS (the whole interval misses it) / UNCLEAR (it straddles the target, or a
row has 1 repetition: a sanity check only) / not measured (the run lacks its benchmarks: a
filtered run, no peers) / not applicable (a goal for machines with more cores than the run
had). Below the table, one note per goal: what the ratio is, which row is shown and, when
UNCLEAR, what would settle it. Lines fit in 120 columns. Exit status: 0 whenever the input could be read, PASS or
MISS alike (goals are information, not a gate); 2 with one error line when a file or folder
is missing, unreadable or not Google Benchmark JSON. Standard library only. The work is
threadbench_results/report.py (goal_verdicts) and goals.py; this is its command line.
"""
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from threadbench_results import goals, report  # noqa: E402
from threadbench_results.cli import PROG, RunError  # noqa: E402
from threadbench_results.load import json_files, load_files  # noqa: E402


def main(argv):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # quiet when piped into head
    if len(argv) < 1 or argv[0] in ("-h", "--help"):
        if argv and argv[0] in ("-h", "--help"):
            print(__doc__)
            return 0
        print(f"{PROG}: error: usage: {PROG} RESULTS_DIR | FILE.json ...", file=sys.stderr)
        return 2
    try:
        run = load_files(json_files(argv), Path(argv[0]))
    except RunError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    sys.stdout.write(goals.as_text(report.goal_verdicts(run), run))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
