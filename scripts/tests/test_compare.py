"""compare.py: passes identical runs, flags planted regressions, refuses unusable input."""
import json
import unittest

from support import TempDirTest, run_script, write_run


def slow_down(run, prefix, factor):
    """Plant a regression: every real_time of the benchmarks named prefix* times factor."""
    for file in run.glob("*.json"):
        doc = json.loads(file.read_text())
        for e in doc["benchmarks"]:
            if e["name"].startswith(prefix) and e.get("aggregate_unit") != "percentage":
                e["real_time"] *= factor
        file.write_text(json.dumps(doc))


class Compare(TempDirTest):
    def test_identical_runs_pass(self):
        base, new = self.sample_copy("base"), self.sample_copy("new")
        result = run_script("compare.py", base, new, "--fail-above", "1.10")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("geometric-mean ratio over 102 benchmarks: 1.000", result.stdout)
        self.assertIn("PASS", result.stdout)
        self.assertIn("too few reps (3/3) for p < 0.05", result.stdout)

    def test_planted_2x_regression_fails_on_the_geomean(self):
        base, new = self.sample_copy("base"), self.sample_copy("new")
        slow_down(new, "channel/", 2.0)
        result = run_script("compare.py", base, new, "--fail-above", "1.10")
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("FAIL: geomean", result.stdout)
        self.assertRegex(result.stdout,
                         r"\nchannel/ping_pong/impl:threadbench/cap:1/\S+ +458 ns +916 ns +2\.000 ")

    def test_no_gate_without_fail_above(self):
        base, new = self.sample_copy("base"), self.sample_copy("new")
        slow_down(new, "channel/", 2.0)
        self.assertEqual(run_script("compare.py", base, new).returncode, 0)

    def test_single_significant_regression_fails(self):
        times = {f"spawn/case{i}": 1000.0 + i for i in range(20)}
        base = write_run(self.tmp / "base", times, reps=6)
        new = write_run(self.tmp / "new", {**times, "spawn/case7": 2 * times["spawn/case7"]}, reps=6)
        result = run_script("compare.py", base, new, "--fail-above", "1.10")
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("1 significantly slower above 1.1: spawn/case7", result.stdout)
        self.assertNotIn("geomean 1.0", result.stdout.split("FAIL")[1])  # the mean alone passes

    def test_single_regression_with_too_few_reps_only_moves_the_mean(self):
        times = {f"spawn/case{i}": 1000.0 + i for i in range(20)}
        base = write_run(self.tmp / "base", times, reps=3)
        new = write_run(self.tmp / "new", {**times, "spawn/case7": 2 * times["spawn/case7"]}, reps=3)
        result = run_script("compare.py", base, new, "--fail-above", "1.10")
        self.assertEqual(result.returncode, 0, result.stdout)
        self.assertIn("geometric-mean ratio over 20 benchmarks: 1.035", result.stdout)

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
