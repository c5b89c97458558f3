"""compare.py: passes identical runs, flags planted regressions, refuses unusable input."""
import json
import random
import unittest

from support import RATE_FIELDS, TempDirTest, run_script, write_run


def set_context(run, **context):
    """Put context keys into every JSON file of a run (preflight, git_commit, ...)."""
    for file in run.glob("*.json"):
        doc = json.loads(file.read_text())
        doc["context"].update(context)
        file.write_text(json.dumps(doc))
    return run


def one_rep_runs(folder, rows=20, spread=4.0, seed=3):
    """Two 1-repetition runs of the same rows whose ratios range wildly (a busy machine)."""
    rng = random.Random(seed)
    times = {f"spawn/case{i}": 1000.0 + i for i in range(rows)}
    base = write_run(folder / "base", times, reps=1)
    new = write_run(folder / "new", {k: v * spread ** rng.uniform(-2, 2) for k, v in times.items()}, reps=1)
    return base, new


def slow_down(run, prefix, factor, rates=True):
    """Plant a regression: every real_time of the benchmarks named prefix* times factor, and
    (rates) their items/s and bytes/s divided by it, as a slower run would give."""
    for file in run.glob("*.json"):
        doc = json.loads(file.read_text())
        for e in doc["benchmarks"]:
            if e["name"].startswith(prefix) and e.get("aggregate_unit") != "percentage":
                e["real_time"] *= factor
                for rate in RATE_FIELDS if rates else ():
                    if rate in e:
                        e[rate] /= factor
        file.write_text(json.dumps(doc))


class Compare(TempDirTest):
    def test_identical_runs_pass(self):
        base, new = self.sample_copy("base"), self.sample_copy("new")
        result = run_script("compare.py", base, new, "--fail-above", "1.10")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        # the sample's 33 one-repetition rows have no interval: shown, but left out of the mean
        self.assertIn("geometric-mean ratio over 69 benchmarks: 1.000, 95% interval ", result.stdout)
        self.assertIn("33 with 1 repetition left out of the mean", result.stdout)
        self.assertIn("PASS", result.stdout)
        self.assertIn("too few reps (3/3) for p < 0.05", result.stdout)
        self.assertIn("1 repetition: sanity check only", result.stdout)

    def test_planted_2x_regression_fails_on_the_geomean(self):
        base, new = self.sample_copy("base"), self.sample_copy("new")
        slow_down(new, "channel/", 2.0)
        result = run_script("compare.py", base, new, "--fail-above", "1.10")
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("FAIL: geomean", result.stdout)
        self.assertRegex(result.stdout,
                         r"\nchannel/ping_pong/impl:threadbench/cap:1/\S+ \(per item\) +458 ns +916 ns +2\.000 ")

    def test_rows_that_count_items_are_compared_per_item(self):
        """A revision that moves 4x the messages an iteration (4x real_time, the same
        messages/s) is no regression: rows with items/s on both sides compare time per item."""
        base, new = self.sample_copy("base"), self.sample_copy("new")
        slow_down(new, "channel/spsc/", 4.0, rates=False)   # 4x the work, same rate
        result = run_script("compare.py", base, new, "--fail-above", "1.10")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertRegex(result.stdout, r"\nchannel/spsc/\S+ \(per item\) +\S+ \S+ +\S+ \S+ +1\.000 ")
        self.assertNotRegex(result.stdout, r"\nchannel/spsc/.* 4\.000 ")

    def test_no_gate_without_fail_above(self):
        base, new = self.sample_copy("base"), self.sample_copy("new")
        slow_down(new, "channel/", 2.0)
        self.assertEqual(run_script("compare.py", base, new).returncode, 0)

    def test_single_significant_regression_fails(self):
        """One row 2x slower among 20, 8 samples a side: p = 2 / C(16, 8) = 0.000155, below
        0.05 / 20 rows, so the row alone fails the gate though the geomean passes."""
        times = {f"spawn/case{i}": 1000.0 + i for i in range(20)}
        base = write_run(self.tmp / "base", times, reps=8)
        new = write_run(self.tmp / "new", {**times, "spawn/case7": 2 * times["spawn/case7"]}, reps=8)
        result = run_script("compare.py", base, new, "--fail-above", "1.10")
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertRegex(result.stdout, r"\nspawn/case7 +.* 0\.000155 +1x8 / 1x8 +slower\n")
        self.assertIn("1 significantly slower above 1.1 (whole interval above it, p < 0.05 / 20 rows): spawn/case7",
                      result.stdout)
        self.assertNotIn("geomean 1.0", result.stdout.split("FAIL")[1])  # the mean alone passes

    def test_row_significant_only_before_the_correction_does_not_fail(self):
        """One row 2x slower, 5 samples a side: p = 2 / C(10, 5) = 0.0079 at best, below 0.05
        (the row still says 'slower') but not below 0.05 / 20: among 20 rows one that low comes
        by chance too often, so the gate passes. Among 5 rows (0.05 / 5 = 0.01) it fails."""
        times = {f"spawn/case{i}": 1000.0 + i for i in range(20)}
        base = write_run(self.tmp / "base", times, reps=5)
        new = write_run(self.tmp / "new", {**times, "spawn/case7": 2 * times["spawn/case7"]}, reps=5)
        result = run_script("compare.py", base, new, "--fail-above", "1.10")
        self.assertEqual(result.returncode, 0, result.stdout)
        self.assertRegex(result.stdout, r"\nspawn/case7 +.* 0\.00794 +1x5 / 1x5 +slower\n")
        self.assertNotIn("significantly slower", result.stdout)
        self.assertNotIn("FAIL", result.stdout)
        self.assertIn("\nPASS: geomean 1.035", result.stdout)

        few = {k: v for k, v in times.items() if k in [f"spawn/case{i}" for i in range(5, 10)]}
        base = write_run(self.tmp / "base5", few, reps=5)
        new = write_run(self.tmp / "new5", {**few, "spawn/case7": 2 * few["spawn/case7"]}, reps=5)
        result = run_script("compare.py", base, new, "--fail-above", "1.10")
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("1 significantly slower above 1.1 (whole interval above it, p < 0.05 / 5 rows): spawn/case7",
                      result.stdout)
        self.assertNotIn("geomean", result.stdout.split("FAIL")[1])   # the row alone fails it

    def test_single_regression_with_too_few_reps_only_moves_the_mean(self):
        times = {f"spawn/case{i}": 1000.0 + i for i in range(20)}
        base = write_run(self.tmp / "base", times, reps=3)
        new = write_run(self.tmp / "new", {**times, "spawn/case7": 2 * times["spawn/case7"]}, reps=3)
        result = run_script("compare.py", base, new, "--fail-above", "1.10")
        self.assertEqual(result.returncode, 0, result.stdout)
        self.assertIn("geometric-mean ratio over 20 benchmarks: 1.035", result.stdout)

    def test_identical_runs_interval_holds_1(self):
        times = {f"spawn/case{i}": 1000.0 + 10 * i for i in range(10)}
        base = write_run(self.tmp / "base", times, reps=5)
        new = write_run(self.tmp / "new", times, reps=5)
        result = run_script("compare.py", base, new, "--fail-above", "1.0")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        line = next(l for l in result.stdout.splitlines() if l.startswith("geometric-mean"))
        lo, hi = map(float, line.split("95% interval ")[1].split()[0].split("-"))
        self.assertTrue(lo < 1.0 < hi, line)
        self.assertIn("PASS: geomean 1.000", result.stdout)   # even at R = 1: the interval straddles it
        self.assertNotIn("FAIL", result.stdout)

    def test_sides_say_how_they_were_made(self):
        base = set_context(self.sample_copy("base"), git_commit="abc1234", preflight="quiet", min_time_s="0.1")
        new = set_context(self.sample_copy("new"), git_commit="def5678", preflight="quiet", min_time_s="0.1")
        out = run_script("compare.py", base, new).stdout.splitlines()
        self.assertRegex(out[0], r"^base: .*  commit abc1234  samples per row 1x3 \(69 rows\); 1x1 \(33 rows\) "
                                 r"\(processes x repetitions\)  min time 0\.1 s  preflight quiet$")
        self.assertTrue(out[1].startswith("new: ") and "commit def5678" in out[1], out[1])

    def test_one_repetition_cannot_decide(self):
        base, new = one_rep_runs(self.tmp)
        result = run_script("compare.py", base, new, "--fail-above", "1.10")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("cannot decide: 1 repetition", result.stdout)
        self.assertNotIn("PASS", result.stdout)
        self.assertNotIn("FAIL", result.stdout)
        self.assertIn("1 repetition: sanity check only", result.stdout)
        self.assertIn("rows with 1 repetition", result.stderr)

    def test_strict_refuses_one_repetition(self):
        base, new = one_rep_runs(self.tmp)
        self.assertFailsCleanly(run_script("compare.py", base, new, "--fail-above", "1.10", "--strict"),
                                "--strict", "1 repetition")

    def test_identical_runs_on_a_busy_machine_do_not_fail(self):
        """The same code twice while something else ran: every row of new about 2x slower.
        The intervals alone cannot tell that from a regression; the busy preflight can."""
        times = {f"spawn/case{i}": 1000.0 + 10 * i for i in range(10)}
        base = set_context(write_run(self.tmp / "base", times, reps=5), preflight="quiet")
        new = set_context(write_run(self.tmp / "new", {k: 2.05 * v for k, v in times.items()}, reps=5),
                          preflight="busy", busy_procs="cc1plus(98%)")
        result = run_script("compare.py", base, new, "--fail-above", "1.10")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("cannot decide: new made on a busy machine (the intervals alone would say FAIL", result.stdout)
        self.assertNotIn("\nFAIL", result.stdout)
        self.assertIn("new was made on a busy machine (preflight: busy", result.stderr)
        self.assertFailsCleanly(run_script("compare.py", base, new, "--strict"), "--strict", "busy machine")

    def test_strict_accepts_quiet_repeated_runs(self):
        times = {f"spawn/case{i}": 1000.0 + i for i in range(5)}
        base = set_context(write_run(self.tmp / "base", times, reps=5), preflight="quiet")
        new = set_context(write_run(self.tmp / "new", times, reps=5), preflight="quiet")
        result = run_script("compare.py", base, new, "--fail-above", "1.10", "--strict")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(result.stderr, "")

    def test_files_of_several_processes_are_one_run(self):
        """bench.sh's merged rounds: the same rows in two files are two processes of one run."""
        times = {f"spawn/case{i}": 1000.0 + i for i in range(5)}
        for side in ("base", "new"):
            write_run(self.tmp / side, times, reps=5, file="bench.r1.json")
            write_run(self.tmp / side, {k: v * 1.02 for k, v in times.items()}, reps=5, file="bench.r2.json")
        result = run_script("compare.py", self.tmp / "base", self.tmp / "new")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("samples per row 2x5 (processes x repetitions)", result.stdout)
        self.assertRegex(result.stdout, r"\nspawn/case0 +1\.01 µs +1\.01 µs +1\.000 +0\.9\d\d-1\.0\d\d ")

    def test_one_file_a_side(self):
        base = write_run(self.tmp / "base", {"spawn/a": 1000.0}, reps=5)
        new = write_run(self.tmp / "new", {"spawn/a": 1000.0}, reps=5)
        result = run_script("compare.py", base / "bench.json", new / "bench.json")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("geometric-mean ratio over 1 benchmarks: 1.000", result.stdout)

    def test_no_common_benchmarks(self):
        base = write_run(self.tmp / "base", {"spawn/a": 1.0})
        new = write_run(self.tmp / "new", {"spawn/b": 1.0})
        self.assertFailsCleanly(run_script("compare.py", base, new), "no benchmark in common")

    def test_malformed_input(self):
        base = self.sample_copy("base")
        new = write_run(self.tmp / "new", {"spawn/a": 1.0})
        (new / "bench.json").write_text("{")
        self.assertFailsCleanly(run_script("compare.py", base, new), "not readable JSON")

    def test_usage_errors(self):
        base = self.sample_copy("base")
        self.assertFailsCleanly(run_script("compare.py", base), "required")
        self.assertFailsCleanly(run_script("compare.py", base, base, "--fail-abuv", "2"), "unrecognized")
        for bad in ("abc", "0", "-1", "nan", "inf"):
            self.assertFailsCleanly(run_script("compare.py", base, base, "--fail-above", bad),
                                    "--fail-above", "not a ratio above 0")
        self.assertFailsCleanly(run_script("compare.py", base, base, "--alpha", "1.5"), "not a probability")


if __name__ == "__main__":
    unittest.main()


class AA(TempDirTest):
    """compare.py --aa: the A/A repeatability figures, met and not met."""

    def test_the_same_rows_twice_meet_both_targets(self):
        times = {f"spawn/case{i}": 1000.0 + 10 * i for i in range(20)}
        base = write_run(self.tmp / "base", times, reps=7)
        new = write_run(self.tmp / "new", {k: v * 1.004 for k, v in times.items()}, reps=7)
        out = run_script("compare.py", base, new, "--aa").stdout
        self.assertIn("over 20 rows with an interval on both sides", out)
        self.assertIn("overlap: 20 of 20 (100.0%; target >= 95%: met)", out)
        self.assertIn("median |log(new/base)|: 0.0040 (a typical row moved 0.4%; target <= 3%: met)", out)
        self.assertNotIn("can claim at most", out)   # 7 samples a side reach 95%

    def test_rows_that_moved_miss_both_targets_and_are_named(self):
        times = {f"spawn/case{i}": 1000.0 + 10 * i for i in range(20)}
        moved = {k: v * (1.25 if i % 2 else 1.0) for i, (k, v) in enumerate(times.items())}
        base = write_run(self.tmp / "base", times, reps=5)
        new = write_run(self.tmp / "new", moved, reps=5)
        out = run_script("compare.py", base, new, "--aa").stdout
        self.assertIn("overlap: 10 of 20 (50.0%; target >= 95%: NOT met)", out)
        self.assertIn("holds 1 (the stricter test): 10 of 20 (50.0%)", out)
        # 10 rows at log(1.25) = 0.2231 and 10 at 0: the median is their mean
        self.assertIn("median |log(new/base)|: 0.1116", out)
        self.assertIn("target <= 3%: NOT met", out)
        self.assertIn("can claim at most 93.8%", out)   # 5 samples a side
        worst = out.split("rows that moved most")[1]
        self.assertRegex(worst, r"spawn/case(1|3|5|7|9|11|13|15|17|19): 1\.250")

    def test_one_repetition_runs_have_nothing_to_judge(self):
        base, new = one_rep_runs(self.tmp)
        out = run_script("compare.py", base, new, "--aa").stdout
        self.assertIn("A/A: no row has an interval on both sides", out)
