#!/usr/bin/env python3
"""Check threadbench's speed goals against one benchmark run.

    scripts/goals.py RESULTS_DIR            every *.json in the folder (one per binary)
    scripts/goals.py chan.json pool.json    or the JSON files themselves

Reads Google Benchmark JSON (--benchmark_out_format=json) with bench_results.py, the
loader plot.py and compare.py use. For each benchmark it takes bench_results' median
(Bench.stat): the median aggregate when the run had repetitions, else the median of its
iteration entries (with one repetition, that entry's value). Prints one row per goal: the
measured ratio (or value), the target, PASS/MISS, and what the ratio means. A goal whose
benchmarks are not in the input (a filtered run) or that reported an error is shown as
N/A. Exit status: 0 whenever the input could be read, PASS or MISS alike (goals are
information, not a gate); 2 with one error line when a file or folder is missing,
unreadable or not Google Benchmark JSON. Standard library only.

Definitions (all ratios are from one run, so every number saw the same machine):
  * round trip p50: counter p50_ns of channel/ping_pong/... (median of per-round RTTs).
  * throughput: items_per_second (messages/s of wall time).
  * idle CPU: counter cpu_pct of channel/idle_recv/impl:threadbench (CPU time of the
    blocked thread / wall time x 100).
  * per-task overhead of a pool at T threads and grain G:
        overhead = T / tasks_per_second - G
    i.e. the thread-time each task costs beyond its own G ns of work (T threads' worth of
    time per task, minus the work). Equivalently G x (1/efficiency - 1). Taken at T = 2
    (the machine's cores, no oversubscription) and G = 1000 ns.
"""
import sys
from pathlib import Path

from bench_results import PROG, RunError, load_files, parse_name, run_files


def bench_key(name):
    """A benchmark's identity without the runner settings Google Benchmark appends:
    'channel/spsc/impl:x/cap:1/real_time' and 'channel/spsc/impl:x/cap:1' are the same."""
    family, scenario, keys = parse_name(name)
    return family, scenario, tuple(keys.items())


def json_files(args):
    """The JSON files named on the command line: a folder stands for its *.json files."""
    files = []
    for arg in args:
        p = Path(arg)
        if p.is_dir():
            files += run_files(p)
        elif p.is_file():
            files.append(p)
        else:
            raise RunError(f"{p}: no such file or folder")
    return files


class Goals:
    """Builds the rows: (goal, measured, target, status, meaning)."""

    def __init__(self, run):
        self.benches = {bench_key(b.name): b for b in run.benches.values()}
        self.rows = []

    def has(self, name):
        return bench_key(name) in self.benches

    def value(self, name, field):
        """The median of a benchmark's field, or a string saying why there is none."""
        bench = self.benches.get(bench_key(name))
        if bench is None:
            return f"missing {name}"
        if bench.error:
            return f"error in {name}: {bench.error}"
        stat = bench.stat(field)
        if stat is None:
            return f"{name} has no {field}"
        return float(stat.median)

    def add(self, goal, measured, target, ok, meaning, fmt="{:.2f}x"):
        if isinstance(measured, str):
            self.rows.append((goal, "-", target, "N/A", f"{meaning} [{measured}]"))
        else:
            self.rows.append((goal, fmt.format(measured), target, "PASS" if ok(measured) else "MISS",
                              meaning))

    def quotient(self, num, den, field):
        vn, vd = self.value(num, field), self.value(den, field)
        if isinstance(vn, str):
            return vn
        if isinstance(vd, str):
            return vd
        if vd <= 0:
            return f"{den} {field} is {vd:g}"
        return vn / vd


def build(run):
    g = Goals(run)

    spin = "channel/ping_pong/impl:atomic_spin"
    caps = ["0", "1", "1024", "unbounded"]
    for cap in caps:
        tb = f"channel/ping_pong/impl:threadbench/cap:{cap}/payload:8"
        if cap != "unbounded" and not g.has(tb):
            continue  # only the unbounded row is reported as missing
        g.add(f"ping_pong p50 RTT, cap:{cap}", g.quotient(tb, spin, "p50_ns"), "<= 2.5x",
              lambda r: r <= 2.5,
              "threadbench round-trip median / raw atomic spin round-trip median "
              "(1x = as fast as two cores can hand a cache line back and forth)")

    spsc = "channel/spsc/impl:{}/cap:1024/producers:1/consumers:1/payload:8"
    g.add("spsc cap:1024 vs tbb_bounded_queue",
          g.quotient(spsc.format("threadbench"), spsc.format("tbb_bounded_queue"),
                     "items_per_second"),
          ">= 5x", lambda r: r >= 5,
          "threadbench messages/s / tbb::concurrent_bounded_queue messages/s, 1 producer "
          "1 consumer, 8-byte payload")
    g.add("spsc cap:1024 vs mutex_deque",
          g.quotient(spsc.format("threadbench"), spsc.format("mutex_deque"), "items_per_second"),
          ">= 1.5x", lambda r: r >= 1.5,
          "threadbench messages/s / mutex+condvar deque messages/s, same setup")

    mpmc = "channel/mpmc/impl:{}/cap:{}/producers:8/consumers:8/payload:8"
    for cap in ["1024", "unbounded"]:
        g.add(f"mpmc 8x8 cap:{cap} vs mutex_deque",
              g.quotient(mpmc.format("threadbench", cap), mpmc.format("mutex_deque", cap),
                         "items_per_second"),
              ">= 1x", lambda r: r >= 1,
              "threadbench messages/s / mutex deque messages/s, 8 producers + 8 consumers "
              "on 2 cores (8x oversubscribed)")

    g.add("idle receiver CPU",
          g.value("channel/idle_recv/impl:threadbench", "cpu_pct"), "< 1%",
          lambda v: v < 1,
          "CPU time of a receiver blocked on an empty channel / wall time x 100 "
          "(a value, not a ratio)", fmt="{:.3f}%")

    grain, threads = 1000.0, 2

    def overhead(method):
        name = f"pool/{method}/grain:{int(grain)}/threads:{threads}"
        tps = g.value(name, "items_per_second")
        if isinstance(tps, str):
            return tps
        return threads * 1e9 / tps - grain if tps > 0 else f"{name} ran no tasks"

    ch, tbb = overhead("channel_workers"), overhead("tbb_task_group")
    if isinstance(ch, str) or isinstance(tbb, str):
        measured = ch if isinstance(ch, str) else tbb
    elif tbb <= 0:
        measured = (f"tbb_task_group overhead {tbb:.0f} ns <= 0 (below the noise); "
                    f"channel_workers {ch:.0f} ns")
    else:
        measured = ch / tbb
    note = ""
    if not isinstance(ch, str) and not isinstance(tbb, str):
        note = f" [{ch:.0f} ns vs {tbb:.0f} ns per task]"
    g.add("pool per-task overhead, 1 us grain, T=2",
          measured, "<= 1.5x", lambda r: r <= 1.5,
          "channel_workers overhead / tbb_task_group overhead, overhead = T/(tasks/s) - grain"
          + note)
    return g.rows


def print_table(rows):
    head = ("goal", "measured", "target", "result", "what it means")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(4)]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r[:4], widths)) + "  " + r[4]
    print(line(head))
    print("  ".join("-" * w for w in widths) + "  " + "-" * len(head[4]))
    for r in rows:
        print(line(r))
    counts = {s: sum(1 for r in rows if r[3] == s) for s in ("PASS", "MISS", "N/A")}
    print(f"\n{counts['PASS']} PASS, {counts['MISS']} MISS, {counts['N/A']} N/A "
          "(ratios from one run; on a shared or busy machine they are sanity checks only)")


def main(argv):
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
    print_table(build(run))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
