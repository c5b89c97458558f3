"""Instruction counts per channel operation: the JSON scripts/icount.sh writes, and the gate
compare.py --icount runs on two such files.

icount.sh counts each operation of bench/icount_probe under callgrind twice, N and 2N
times; instructions_per_op = (total(2N) - total(N)) / N, so everything both runs share
(start-up, the loader, building the channel, pre-filling it) cancels. The JSON has Google
Benchmark's shape so the usual loader reads it: one iteration entry per operation, named
icount/OP/cap:C (C: unbounded, 1024, 1, 0), with real_time 0 (nothing is timed) and the counter
instructions_per_op; the context says which probe, valgrind and compiler made it.

    python3 -m threadbench_results.icount COUNTS OUT [key=value ...]
        COUNTS: lines 'OP FLAVOUR N TOTAL_N 2N TOTAL_2N' (icount.sh writes them)
"""
import json
import sys
from pathlib import Path

from .cli import RunError
from .fmt import text_table
from .load import json_files, load_files

METRIC = "instructions_per_op"
DEFAULT_THRESHOLD = 0.02


def parse_counts(text):
    """[(op, flavour, n, instructions per op)] from icount.sh's count lines."""
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        try:
            op, flavour, n1, t1, n2, t2 = parts[0], parts[1], *map(int, parts[2:])
        except (ValueError, IndexError):
            raise RunError(f"count line {number} is not 'OP FLAVOUR N TOTAL 2N TOTAL': {line!r}") from None
        if len(parts) != 6 or n2 <= n1 or t2 < t1:
            raise RunError(f"count line {number}: needs 2N > N and total(2N) >= total(N): {line!r}")
        rows.append((op, flavour, n1, (t2 - t1) / (n2 - n1)))
    if not rows:
        raise RunError("no count lines")
    return rows


def to_json(rows, context):
    """Google-Benchmark-shaped JSON of instruction counts."""
    benchmarks = []
    for op, flavour, n, per_op in rows:
        name = f"icount/{op}/{'cap:unbounded' if flavour == 'unbounded' else flavour}"
        benchmarks.append({"name": name, "run_name": name, "run_type": "iteration", "repetitions": 1,
                           "repetition_index": 0, "threads": 1, "iterations": n,
                           "real_time": 0.0, "cpu_time": 0.0, "time_unit": "ns",
                           METRIC: round(per_op, 3)})
    return {"context": {"tool": "valgrind --tool=callgrind", "method":
                        "instructions_per_op = (total(2N) - total(N)) / N", **context},
            "benchmarks": benchmarks}


def load_counts(path):
    """name -> instructions per op of an icount JSON file (or run folder)."""
    path = Path(path)
    if not path.exists():
        raise RunError(f"{path}: no such file or folder")
    run = load_files(json_files([path]), path)
    counts = {name: b.median(METRIC) for name, b in run.benches.items() if b.median(METRIC) is not None}
    if not counts:
        raise RunError(f"{path}: no {METRIC} counters (not an icount.sh JSON?)")
    return counts, run.context


def gate(base, new, threshold):
    """(lines to print, passed): every base operation must be in new and cost at most
    (1 + threshold) x its baseline instructions."""
    rows, worse, missing = [], [], []
    for name, before in base.items():
        after = new.get(name)
        if after is None:
            missing.append(name)
            rows.append((name, f"{before:.1f}", "-", "-", "not measured"))
            continue
        ratio = after / before if before else float("inf")
        verdict = "more expensive" if ratio > 1 + threshold else \
            "cheaper" if ratio < 1 - threshold else "same"
        if verdict == "more expensive":
            worse.append(name)
        rows.append((name, f"{before:.1f}", f"{after:.1f}", f"{ratio - 1:+.2%}", verdict))
    lines = [f"instructions per operation (callgrind), new vs baseline; tolerance {threshold:.1%}"]
    lines += text_table(("operation", "baseline", "new", "change", "verdict"), rows)
    extra = sorted(set(new) - set(base))
    if extra:
        lines.append(f"not in the baseline (not gated): {', '.join(extra)}")
    failed = worse + missing
    if failed:
        why = []
        if worse:
            why.append(f"more than {threshold:.1%} more instructions: {', '.join(worse)}")
        if missing:
            why.append(f"missing from the new counts: {', '.join(missing)}")
        lines.append(f"icount gate: FAIL: {len(failed)} of {len(base)} operations; {'; '.join(why)}")
    else:
        lines.append(f"icount gate: PASS: all {len(base)} operations within {threshold:.1%} of the baseline")
    return lines, not failed



def gate_files(base_path, new_path, threshold):
    """compare.py --icount: (lines to print, passed) for two icount JSON files (or folders),
    with a note where the compiler or valgrind differ from the baseline's (counts follow the
    toolchain). Raises RunError when a side cannot be read."""
    (base, base_ctx), (new, new_ctx) = load_counts(base_path), load_counts(new_path)
    lines, passed = gate(base, new, threshold)
    for key in ("compiler", "valgrind"):
        if base_ctx.get(key) != new_ctx.get(key):
            lines.insert(-1, f"note: {key} differs from the baseline's ({' / '.join(base_ctx.get(key, ['?']))} "
                             f"vs {' / '.join(new_ctx.get(key, ['?']))}): counts follow the toolchain")
    return lines, passed

def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        rows = parse_counts(Path(argv[0]).read_text())
        context = dict(arg.split("=", 1) for arg in argv[2:] if "=" in arg)
        Path(argv[1]).write_text(json.dumps(to_json(rows, context), indent=2) + "\n")
    except (OSError, RunError) as e:
        print(f"icount: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
