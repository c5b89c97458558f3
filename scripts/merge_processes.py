#!/usr/bin/python3
"""merge_processes.py OUT.json PART.json...: one Google Benchmark JSON from the part files
that N fresh processes of one benchmark program wrote (scripts/bench.sh --processes N, the
peers' run.sh --processes N, scripts/ab.sh).

PARTs are given in process order: the first is process_index 0. OUT keeps every repetition
of every process (each iteration entry with its process_index), the aggregates (mean,
median, stddev, cv) recomputed over all samples, and the first part's context with
"processes" set to the number of parts. OUT is written whole or not at all and never
replaces an existing file. The merge is threadbench_results/processes.py; this is its
command line.

Exit status: 0 written; 2 unusable input or usage (one line on stderr says why).
Standard library only.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from threadbench_results.cli import ArgParser, RunError, fail  # noqa: E402
from threadbench_results.processes import write_merged  # noqa: E402


def main(argv=None):
    parser = ArgParser(description=__doc__.split("\n\n")[0],
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="the merged JSON file to write (must not exist)")
    parser.add_argument("parts", type=Path, nargs="+", help="part files, in process order")
    args = parser.parse_args(argv)
    try:
        write_merged(args.out, args.parts)
    except RunError as e:
        fail(str(e))


if __name__ == "__main__":
    main()
