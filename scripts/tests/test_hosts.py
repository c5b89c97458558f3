"""plot.py RUN_A RUN_B --out DIR: the same scenarios on several machines, side by side."""
import json
import shutil
import tempfile
import unittest
from pathlib import Path

from support import SAMPLE, TempDirTest, run_script


def as_machine(run, name, cores, factor):
    """Turn a copy of the sample into another machine's run: its name, cores, and every
    throughput scaled by factor."""
    for file in run.glob("*.json"):
        doc = json.loads(file.read_text())
        doc["context"].update(machine=name, cores=str(cores), num_cpus=cores)
        for e in doc["benchmarks"]:
            if "items_per_second" in e and e.get("aggregate_unit") != "percentage":
                e["items_per_second"] *= factor
        file.write_text(json.dumps(doc))
    return run


class Hosts(TempDirTest):
    def setUp(self):
        super().setUp()
        self.a = as_machine(self.sample_copy("small"), "small", 2, 1.0)
        self.b = as_machine(self.sample_copy("big"), "big", 16, 3.0)

    def test_side_by_side_plots_and_report(self):
        out = self.tmp / "hosts"
        result = run_script("plot.py", self.a, self.b, "--out", out)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(sorted(p.name for p in (out / "plots").iterdir()), ["hosts_channel.png", "hosts_pool.png"])
        report = (out / "report.md").read_text()
        self.assertIn("| small | Intel(R) Core(TM) i7-1185G7 @ 3.00GHz, 2 cores |", report)
        self.assertIn("| big | Intel(R) Core(TM) i7-1185G7 @ 3.00GHz, 16 cores |", report)
        self.assertIn("](plots/hosts_channel.png)", report)
        # the scaling table reads each machine's own numbers (big = 3x small)
        row = next(l for l in report.splitlines() if l.startswith("| mpmc cap:unbounded | threadbench |"))
        small, big = [c.strip() for c in row.strip("|").split("|")[2:]]
        self.assertRegex(small, r"^\S+ M \(2p\) → \S+ M \(2p\)$")
        self.assertAlmostEqual(float(big.split()[0]) / float(small.split()[0]), 3.0, places=1)

    def test_same_input_same_bytes(self):
        out1, out2 = self.tmp / "h1", self.tmp / "h2"
        for out in (out1, out2):
            self.assertEqual(run_script("plot.py", self.a, self.b, "--out", out, "--title", "t").returncode, 0)
        for name in ("report.md", "plots/hosts_channel.png", "plots/hosts_pool.png"):
            self.assertEqual((out1 / name).read_bytes(), (out2 / name).read_bytes(), name)

    def test_several_runs_need_out(self):
        self.assertFailsCleanly(run_script("plot.py", self.a, self.b), "hosts view", "--out DIR")

    def test_missing_run(self):
        self.assertFailsCleanly(run_script("plot.py", self.a, self.tmp / "nope", "--out", self.tmp / "h"),
                                "no such run folder")

    def test_runs_without_thread_scaled_scenarios(self):
        for run in (self.a, self.b):
            for f in run.glob("*.json"):
                if f.name != "spawn_join_bench.json":
                    f.unlink()
        self.assertFailsCleanly(run_script("plot.py", self.a, self.b, "--out", self.tmp / "h"),
                                "share no thread-scaled scenario")


if __name__ == "__main__":
    unittest.main()
