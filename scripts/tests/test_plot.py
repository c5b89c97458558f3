"""plot.py: every chart and table from the checked-in sample run; clear failures otherwise."""
import json
import os
import shutil
import tempfile
import unittest
from pathlib import Path

from support import SAMPLE, PlottedSample, TempDirTest, run_script, widen, write_run

CHARTS = ("spawn.png", "capture.png", "refcount.png", "channel_throughput.png",
          "channel_payload.png", "channel_latency.png", "pool.png")


class SampleRun(PlottedSample):
    """One plot.py run over the sample, into a folder that already held older output."""

    @classmethod
    def prepare(cls, run_dir):
        (run_dir / "plots").mkdir()
        (run_dir / "plots" / "stale.png").write_bytes(b"old")
        (run_dir / "report.md").write_text("old report\n")

    def test_succeeds(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)

    def test_every_chart_is_a_png(self):
        self.assertEqual(sorted(p.name for p in (self.run_dir / "plots").iterdir()), sorted(CHARTS))
        self.assertTrue((self.run_dir / "goals.txt").is_file())
        self.assertTrue((self.run_dir / "tables.md").is_file())
        for name in CHARTS:
            data = (self.run_dir / "plots" / name).read_bytes()
            self.assertTrue(data.startswith(b"\x89PNG") and len(data) > 10_000, name)

    def test_report_embeds_every_chart(self):
        for name in CHARTS:
            self.assertIn(f"](plots/{name})", self.report)

    def test_report_has_machine_and_tables_md_every_family(self):
        self.assertIn("| cpu_model | Intel(R) Core(TM) i7-1185G7 @ 3.00GHz |", self.report)
        self.assertIn("| tbb_version | 2021.8.0 |", self.report)
        for family in ("spawn", "capture", "channel", "pool"):
            self.assertIn(f"\n### {family}\n", self.report)   # its charts
            self.assertIn(f"\n## {family}\n", self.tables)    # its every benchmark
        self.assertIn("[tables.md](tables.md)", self.report)
        self.assertEqual(self.tables.count("| benchmark | median time | cv | reps |"), 4)
        # times are normalised from the file's unit (us) to a readable one; cv from the aggregate
        # reps = processes x repetitions per process
        self.assertIn("| `spawn/pthread/real_time` | 17.4 µs | 0.9% | 1x3 |", self.tables)
        # a run with one repetition has no cv
        self.assertIn("| `pool/serial/grain:100/threads:1/real_time` | 105 µs | – | 1x1 |",
                      self.tables)

    def test_report_has_headline_ratios(self):
        for row in ("| std_thread ÷ pool_dispatch | 7.95 | 7.84–8.03 |",
                    "| std_thread ÷ tbb_task | 42.8 | 42–43.2 |",
                    "| spsc cap:1024 payload:8 | mutex_deque | 2.74 | 2.67–2.79 | threadbench is 2.74× faster",
                    # atomic_spin's ping_pong has no cap: it is the limit of every cap
                    "| ping_pong cap:1 payload:8 | atomic_spin | 0.344 | 0.338–0.37 | threadbench reaches 34%",
                    "| ping_pong cap:unbounded payload:8 | atomic_spin | 0.39 | 0.383–0.423 | "
                    "threadbench reaches 39%",
                    # one repetition a side: no interval, said in words
                    "| grain:100000 threads:2 | tbb_task_group ÷ channel_workers tasks/s | 1.03 | "
                    "1 repetition: sanity check only |"):
            self.assertIn(row, self.report)

    def test_report_is_complete_goals_included(self):
        self.assertIn("\n## Speed goals\n", self.report)
        # the sample's 3 samples a row are too few for a 95% verdict on a ratio: UNCLEAR, saying so
        self.assertIn("| spsc cap:1024 vs mutex_deque | 2.74x | 2.67-2.79x | >= 1.5x | **UNCLEAR** | threadbench "
                      "messages/s / mutex+condvar deque messages/s, same setup; too few samples for a 95.00% "
                      "interval: 1x3 / 1x3 (processes x repetitions) can claim at most 56.2%; settle: at least 7 "
                      "samples a row (bench.sh --processes / --repetitions) |", self.report)
        self.assertIn("\n0 PASS, 0 MISS, 8 UNCLEAR, 9 not measured, 0 not applicable\n", self.report)
        self.assertEqual((self.run_dir / "goals.txt").read_text(), run_script("goals.py", SAMPLE).stdout)
        # with 9 samples a row (widen) the same ratio PASSes, in report.md and goals.txt alike
        wide = widen(shutil.copytree(SAMPLE, self.tmp / "wide"))
        result = run_script("plot.py", wide)
        self.assertEqual(result.returncode, 0, result.stderr)
        report = (wide / "report.md").read_text()
        self.assertIn("\n## Speed goals\n", report)
        self.assertIn("| spsc cap:1024 vs mutex_deque | 2.74x | 2.67-2.78x | >= 1.5x | **PASS** |", report)
        self.assertIn("\n2 PASS, 4 MISS, 2 UNCLEAR, 9 not measured, 0 not applicable\n", report)
        self.assertEqual((wide / "goals.txt").read_text(), run_script("goals.py", wide).stdout)

    def test_rerun_keeps_the_title_and_the_bytes(self):
        first = self.report
        (self.run_dir / "report.md").write_text(first.replace("# threadbench results: run",
                                                              "# threadbench results: a chosen title"))
        self.assertEqual(run_script("plot.py", self.run_dir).returncode, 0)
        again = (self.run_dir / "report.md").read_text()
        self.assertEqual(again, first.replace("results: run", "results: a chosen title"))
        self.assertEqual((self.run_dir / "tables.md").read_text(),
                         self.tables.replace("results: run", "results: a chosen title"))
        (self.run_dir / "report.md").write_text(first)
        (self.run_dir / "tables.md").write_text(self.tables)

    def test_quiet_sample_has_no_busy_line(self):
        self.assertNotIn("Busy machine", self.report)

    def test_failed_benchmark_is_reported_not_drawn(self):
        self.assertIn("| `spawn/small_stack/stack:16384/threads:1/real_time` | error: "
                      "pthread_attr_setstacksize refused the size |", self.tables)
        self.assertIn("**Failed** (1, errors in [tables.md](tables.md)): "
                      "`spawn/small_stack/stack:16384/threads:1/real_time`", self.report)
        self.assertIn("stack:16384/threads:1/real_time: failed", self.result.stderr)

    def test_no_temporary_folder_left(self):
        self.assertEqual([p.name for p in self.run_dir.iterdir() if p.name.startswith(".")], [])


class BadRuns(TempDirTest):
    def test_missing_folder(self):
        self.assertFailsCleanly(run_script("plot.py", self.tmp / "nope"), "no such run folder")

    def test_empty_folder(self):
        self.assertFailsCleanly(run_script("plot.py", self.tmp), "no Google Benchmark JSON")

    def test_malformed_json_leaves_earlier_output_alone(self):
        run = self.sample_copy()
        text = (run / "channel_bench.json").read_text()
        (run / "channel_bench.json").write_text(text[: len(text) // 2])
        (run / "plots").mkdir()
        (run / "plots" / "spawn.png").write_bytes(b"earlier")
        (run / "report.md").write_text("earlier\n")
        self.assertFailsCleanly(run_script("plot.py", run), "channel_bench.json", "not readable JSON")
        self.assertEqual((run / "report.md").read_text(), "earlier\n")
        self.assertEqual([p.name for p in (run / "plots").iterdir()], ["spawn.png"])
        self.assertEqual(sorted(p.name for p in run.iterdir() if p.name.startswith(".")), [])

    def test_not_google_benchmark_json(self):
        (self.tmp / "x.json").write_text('{"results": []}')
        self.assertFailsCleanly(run_script("plot.py", self.tmp), "not Google Benchmark JSON")

    def test_no_benchmarks(self):
        (self.tmp / "spawn_join_bench.json").write_text(json.dumps({"context": {}, "benchmarks": []}))
        self.assertFailsCleanly(run_script("plot.py", self.tmp), "has no benchmarks")

    def test_only_unknown_families(self):
        write_run(self.tmp, {"BM_memcpy/64": 10.0, "mutex/lock": 20.0})
        self.assertFailsCleanly(run_script("plot.py", self.tmp), "no benchmarks of a known family")
        self.assertFalse((self.tmp / "report.md").exists())

    def test_unknown_family_beside_known_ones_is_skipped(self):
        write_run(self.tmp, {"spawn/pthread/real_time": 17e3, "BM_memcpy/64": 10.0})
        result = run_script("plot.py", self.tmp)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("unknown family 'BM_memcpy'", result.stderr)
        self.assertTrue((self.tmp / "plots" / "spawn.png").stat().st_size > 0)

    def test_usage_errors(self):
        self.assertFailsCleanly(run_script("plot.py"), "RUN_DIR")
        self.assertFailsCleanly(run_script("plot.py", self.tmp, "--colour"), "unrecognized arguments")

    def test_interpreter_without_matplotlib(self):
        (self.tmp / "matplotlib.py").write_text("raise ImportError('simulated: not installed')\n")
        env = dict(os.environ, PYTHONPATH=str(self.tmp))
        self.assertFailsCleanly(run_script("plot.py", self.tmp, env=env),
                                "cannot import matplotlib", "python3-matplotlib", "/usr/bin/python3")


if __name__ == "__main__":
    unittest.main()
