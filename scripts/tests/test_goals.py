"""goals.py: prints every goal row (targets on report.md's headline ratios) for the sample run, follows planted changes, refuses unusable input."""
import json
import re
import unittest

from support import SAMPLE, TempDirTest, run_script

SPSC_TB = "channel/spsc/impl:threadbench/cap:1024/producers:1/consumers:1/payload:8/"
GOALS = ["ping_pong p50 RTT, cap:1", "ping_pong p50 RTT, cap:unbounded",
         "spsc cap:1024 vs tbb_bounded_queue", "spsc cap:1024 vs mutex_deque",
         "mpmc 8x8 cap:1024 vs mutex_deque", "mpmc 8x8 cap:unbounded vs mutex_deque",
         "idle receiver CPU", "pool per-task overhead, 1 us grain, T=2",
         "pool_dispatch p50 / ping_pong cap:1 p50"]


def edit(run, prefix, change):
    """Apply change(entry) to every benchmark entry named prefix* in the run's JSON files."""
    for file in run.glob("*.json"):
        doc = json.loads(file.read_text())
        for e in doc["benchmarks"]:
            if e["name"].startswith(prefix):
                change(e)
        file.write_text(json.dumps(doc))


RESULT = "PASS|MISS|UNCLEAR|not measured|not applicable"


def row(stdout, goal):
    """The (measured, target, result) columns of one goal's row."""
    measured, _, target, result = full_row(stdout, goal)
    return measured, target, result


def full_row(stdout, goal):
    """The (measured, interval, target, result) columns of one goal's row."""
    match = re.search(rf"^{re.escape(goal)} +(\S+) +(\S+) +(\S+ \S+) +({RESULT}) +\[\d+\]$", stdout, re.M)
    if not match:
        raise AssertionError(f"no row for {goal!r} in:\n{stdout}")
    return match.groups()


def flat(stdout):
    """The output with every run of whitespace as one space: the notes are wrapped."""
    return " ".join(stdout.split())


class Goals(TempDirTest):
    def test_sample_run_prints_every_goal(self):
        # the sample with 9 samples a row (widen: each of its 3 repetitions x3, jittered), enough
        # for every verdict: 95% for a ratio of two rows needs 7 a row, 97.5% (k = 2 rows) 8
        result = run_script("goals.py", self.wide_sample_copy())
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(result.stderr, "")
        self.assertTrue(result.stdout.startswith("goal "), result.stdout)
        for goal in GOALS:
            row(result.stdout, goal)
        self.assertEqual(row(result.stdout, "ping_pong p50 RTT, cap:1"), ("2.90x", "<= 2.5x", "MISS"))
        self.assertEqual(row(result.stdout, "spsc cap:1024 vs mutex_deque"), ("2.74x", ">= 1.5x", "PASS"))
        self.assertEqual(row(result.stdout, "idle receiver CPU"), ("0.394%", "< 1%", "PASS"))
        # the sample's pool rows have 1 repetition: no interval, so never PASS or MISS
        self.assertEqual(full_row(result.stdout, "pool per-task overhead, 1 us grain, T=2"),
                         ("3.77x", "-", "<= 1.5x", "UNCLEAR"))
        self.assertIn("1 repetition: sanity check only (1x1 / 1x1 samples); settle: more repetitions/processes",
                      flat(result.stdout))
        # an interval that straddles the target: UNCLEAR, with what would settle it
        self.assertEqual(full_row(result.stdout, "ping_pong p50 RTT, cap:unbounded"),
                         ("2.56x", "2.37-2.59x", "<= 2.5x", "UNCLEAR"))
        self.assertIn("interval 2.37-2.59x (width 0.22x) straddles the target 2.5x; settle: more "
                      "repetitions/processes than 1x9 / 1x9", flat(result.stdout))
        self.assertTrue(all(len(line) <= 120 for line in result.stdout.splitlines()), result.stdout)
        # the sample has no 8x8 mpmc run, and no peers: not measured, saying so
        self.assertEqual(row(result.stdout, "mpmc 8x8 cap:1024 vs mutex_deque")[2], "not measured")
        self.assertEqual(row(result.stdout, "every spsc vs rust:std")[2], "not measured")
        self.assertIn("8 producers + 8 consumers [no rows for it in this run]", flat(result.stdout))
        # the sample's machine has 8 cores: the 8+ core goals apply
        self.assertEqual(row(result.stdout, "ping_pong p50 vs atomic_spin, every cap (8+ cores)"),
                         ("2.90x", "<= 2x", "MISS"))
        self.assertIn("[shown: ping_pong cap:1 payload:8 vs atomic_spin; of 2 rows 0 PASS, 2 MISS, 0 UNCLEAR; "
                      "intervals at 97.50% each, 95% together]", flat(result.stdout))
        self.assertIn("\n2 PASS, 4 MISS, 2 UNCLEAR, 9 not measured, 0 not applicable\n", result.stdout)

        # the same differences from the sample's own 3 samples a row: an interval of medians
        # from 3 samples holds at most 1 - 2^-2 = 75% a row, 56.25% for a ratio of two, so no
        # 95% verdict, whatever the interval shows
        three = run_script("goals.py", SAMPLE)
        self.assertEqual(three.returncode, 0, three.stdout + three.stderr)
        self.assertEqual(three.stderr, "")
        for goal in GOALS:
            row(three.stdout, goal)
        self.assertEqual(full_row(three.stdout, "ping_pong p50 RTT, cap:1"),
                         ("2.90x", "2.70-2.96x", "<= 2.5x", "UNCLEAR"))
        self.assertEqual(full_row(three.stdout, "spsc cap:1024 vs mutex_deque"),
                         ("2.74x", "2.67-2.79x", ">= 1.5x", "UNCLEAR"))
        self.assertEqual(row(three.stdout, "idle receiver CPU"), ("0.394%", "< 1%", "UNCLEAR"))
        self.assertEqual(row(three.stdout, "ping_pong p50 vs atomic_spin, every cap (8+ cores)"),
                         ("2.90x", "<= 2x", "UNCLEAR"))
        text = flat(three.stdout)
        self.assertIn("spsc cap:1024 vs mutex_deque: threadbench messages/s / mutex+condvar deque messages/s, "
                      "same setup; too few samples for a 95.00% interval: 1x3 / 1x3 (processes x repetitions) "
                      "can claim at most 56.2%; settle: at least 7 samples a row", text)
        self.assertIn("too few samples for a 95.00% interval: 1x3 (processes x repetitions) can claim at most "
                      "75.0%; settle: at least 6 samples a row", text)   # idle CPU: a value of one row
        self.assertIn("of 2 rows 0 PASS, 0 MISS, 2 UNCLEAR; intervals at 97.50% each, 95% together]; too few "
                      "samples for a 97.50% interval: 1x3 / 1x3 (processes x repetitions) can claim at most "
                      "56.2%; settle: at least 8 samples a row", text)
        self.assertIn("1 repetition: sanity check only (1x1 / 1x1 samples)", text)   # still said as before
        self.assertTrue(all(len(line) <= 120 for line in three.stdout.splitlines()), three.stdout)
        self.assertIn("\n0 PASS, 0 MISS, 8 UNCLEAR, 9 not measured, 0 not applicable\n", three.stdout)

    def test_pool_dispatch_goal_reads_its_p50_against_ping_pong_cap1(self):
        # the sample's pool_dispatch predates its p50_ns: not measured, as in old reference runs
        run = self.wide_sample_copy()
        goal = "pool_dispatch p50 / ping_pong cap:1 p50"
        self.assertEqual(row(run_script("goals.py", run).stdout, goal)[2], "not measured")

        def p50(ns):
            def change(e):
                if e.get("run_type") == "iteration":
                    e["p50_ns"] = ns
            return change
        # the sample's ping_pong cap:1 p50 is ~398 ns (9 jittered samples)
        edit(run, "spawn/pool_dispatch/", p50(398.0))
        self.assertEqual(row(run_script("goals.py", run).stdout, goal), ("1.00x", "<= 1.2x", "PASS"))
        edit(run, "spawn/pool_dispatch/", p50(1.5 * 398.0))   # a planted 1.5x slower dispatch
        result = run_script("goals.py", run)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(row(result.stdout, goal), ("1.50x", "<= 1.2x", "MISS"))

    def test_files_named_one_by_one(self):
        whole = run_script("goals.py", SAMPLE)
        files = run_script("goals.py", SAMPLE / "channel_bench.json", SAMPLE / "pool_bench.json",
                           SAMPLE / "spawn_join_bench.json")   # every file a goal reads
        self.assertEqual(files.returncode, 0, files.stderr)
        self.assertEqual(files.stdout, whole.stdout)

    def test_planted_halving_of_spsc_throughput_flips_pass_to_miss(self):
        def halve(e):
            if "items_per_second" in e and e.get("aggregate_unit") != "percentage":
                e["items_per_second"] /= 2

        run = self.wide_sample_copy()   # 9 samples a row: enough for a 95% verdict
        self.assertEqual(row(run_script("goals.py", run).stdout, "spsc cap:1024 vs mutex_deque"),
                         ("2.74x", ">= 1.5x", "PASS"))
        edit(run, SPSC_TB, halve)
        result = run_script("goals.py", run)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(row(result.stdout, "spsc cap:1024 vs mutex_deque"), ("1.37x", ">= 1.5x", "MISS"))
        self.assertEqual(row(result.stdout, "spsc cap:1024 vs tbb_bounded_queue"), ("0.94x", ">= 5x", "MISS"))
        self.assertEqual(row(result.stdout, "idle receiver CPU"), ("0.394%", "< 1%", "PASS"))  # untouched
        self.assertIn("\n1 PASS, 5 MISS, 2 UNCLEAR, 9 not measured, 0 not applicable\n", result.stdout)

        # the same halving with the sample's 3 samples a row: too few for a 95% verdict either way
        three = self.sample_copy("three")
        edit(three, SPSC_TB, halve)
        result = run_script("goals.py", three)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(row(result.stdout, "spsc cap:1024 vs mutex_deque"), ("1.37x", ">= 1.5x", "UNCLEAR"))
        self.assertEqual(row(result.stdout, "spsc cap:1024 vs tbb_bounded_queue"), ("0.94x", ">= 5x", "UNCLEAR"))
        self.assertIn("spsc cap:1024 vs mutex_deque: threadbench messages/s / mutex+condvar deque messages/s, "
                      "same setup; too few samples for a 95.00% interval: 1x3 / 1x3", flat(result.stdout))
        self.assertIn("\n0 PASS, 0 MISS, 8 UNCLEAR, 9 not measured, 0 not applicable\n", result.stdout)

    def test_benchmark_that_reported_an_error_is_not_measured(self):
        run = self.sample_copy()
        edit(run, SPSC_TB, lambda e: e.update(error_occurred=True, error_message="planted failure"))
        result = run_script("goals.py", run)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(row(result.stdout, "spsc cap:1024 vs mutex_deque"), ("-", ">= 1.5x", "not measured"))

    def test_missing_folder(self):
        self.assertFailsCleanly(run_script("goals.py", self.tmp / "absent"), "absent", "no such file or folder")

    def test_folder_without_json(self):
        (self.tmp / "notes.txt").write_text("no benchmarks here\n")
        self.assertFailsCleanly(run_script("goals.py", self.tmp), "no Google Benchmark JSON files")

    def test_malformed_json(self):
        run = self.sample_copy()
        (run / "channel_bench.json").write_text("{")
        self.assertFailsCleanly(run_script("goals.py", run), "channel_bench.json", "not readable JSON")

    def test_json_that_is_not_google_benchmark(self):
        (self.tmp / "other.json").write_text('{"results": []}')
        self.assertFailsCleanly(run_script("goals.py", self.tmp), "no 'benchmarks' list")

    def test_usage_error(self):
        self.assertFailsCleanly(run_script("goals.py"), "usage")


if __name__ == "__main__":
    unittest.main()
