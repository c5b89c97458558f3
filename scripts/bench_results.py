"""bench_results: the loader of earlier versions, kept for scripts and notes that import it.
It is now threadbench_results.load (and .cli, .fmt); use those in new code."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from threadbench_results.cli import PROG, ArgParser, RunError, fail, require, warn  # noqa: E402,F401
from threadbench_results.fmt import fmt_ns  # noqa: E402,F401
from threadbench_results.load import (Bench, Run, Stat, json_files, load_files, load_run,  # noqa: E402,F401
                                      parse_name, run_files, value_order)
