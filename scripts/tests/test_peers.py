"""Rust and Go peers in one run: labels by language, headline ratios, goals, charts."""
import shutil
import tempfile
import unittest
from pathlib import Path

from support import PEERS, SAMPLE, TESTS, PlottedSample, run_script, widen
from threadbench_results.load import load_run, peer_label  # noqa: E402



def goal_row(report, goal):
    """The goal's row in the Speed goals section (the Summary has a shorter one)."""
    goals_part = report.split("\n## Speed goals\n", 1)[1]
    line = next((l for l in goals_part.splitlines() if l.startswith(f"| {goal} |")), None)
    if line is None:
        raise AssertionError(f"no goal row {goal!r}")
    return [c.strip() for c in line.strip("|").split("|")]


class Labels(unittest.TestCase):
    def test_language_prefix(self):
        self.assertEqual(peer_label("crossbeam", "rust"), "rust:crossbeam")
        self.assertEqual(peer_label("rust_std", "rust"), "rust:std")
        self.assertEqual(peer_label("go_chan", "go"), "go:chan")
        self.assertEqual(peer_label("go_workers", "go"), "go:workers")
        self.assertEqual(peer_label("threadbench", "c++"), "threadbench")

    def test_loader_tags_benchmarks_with_their_files_language(self):
        run = load_run(PEERS)
        self.assertEqual(run.find("channel", "spsc", impl="crossbeam", cap=1024).contender, "rust:crossbeam")
        self.assertEqual(run.find("spawn", "goroutine").contender, "go:goroutine")
        self.assertEqual(run.find("pool", "go_workers", grain=1000, threads=2).contender, "go:workers")
        self.assertEqual(len(run.select("channel", language="go")), 2)


class RunWithPeers(PlottedSample):
    with_peers = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the same run with 9 samples a row (each of the 3 repetitions x3, jittered: widen), enough
        # for the goals' verdicts: 97.5% a row for a goal over 2 rows needs 8 a row
        cls.wide_dir = widen(shutil.copytree(cls.run_dir, cls.tmp / "wide"))
        cls.wide_result = run_script("plot.py", cls.wide_dir)
        cls.wide_report = (cls.wide_dir / "report.md").read_text()

    def test_succeeds_with_every_chart(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        for name in ("spawn.png", "channel_throughput.png", "channel_latency.png", "pool.png"):
            self.assertGreater((self.run_dir / "plots" / name).stat().st_size, 10_000)

    def test_channel_headlines_against_each_peer(self):
        # each speed-up is followed by its 95% interval
        for row in ("| spsc cap:1024 payload:8 | rust:crossbeam | 1.25 | 1.21–1.27 | threadbench is 1.25× faster "
                    "than rust:crossbeam",
                    "| mpmc 2p/2c cap:unbounded payload:8 | rust:crossbeam | 0.5 | 0.471–0.518 | "
                    "threadbench is 2× slower",
                    "| spsc cap:1024 payload:8 | rust:std | 2 | ",
                    "| spsc cap:1024 payload:8 | go:chan | 3 | ",
                    "| ping_pong cap:1 payload:8 | rust:crossbeam | 1.1 | ",
                    "| ping_pong cap:1 payload:8 | go:chan | 0.9 | "):
            self.assertIn(row, self.report)

    def test_peer_grid(self):
        self.assertIn("| scenario | rust:crossbeam | rust:std | rust:flume | go:chan |", self.report)
        self.assertIn("| spsc cap:1024 payload:8 | 1.25 [1.21–1.27] | 2 [1.93–2.03] | 3 [2.9–3.04] | "
                      "3 [2.9–3.04] |", self.report)
        self.assertIn("| ping_pong cap:1 payload:8 | 1.1 [1.08–1.14] | – | – | 0.9 [0.882–0.934] |", self.report)

    def test_spawn_and_pool_headlines(self):
        self.assertIn("| std_thread ÷ rust:thread | 1.11 |", self.report)
        self.assertIn("| std_thread ÷ go:goroutine |", self.report)
        self.assertIn("| tbb_task ÷ rust:rayon_task | 0.667 |", self.report)
        self.assertIn("| grain:1000 threads:2 | tbb_task_group ÷ rust:rayon_scope tasks/s | 0.8 |", self.report)
        self.assertIn("| grain:1000 threads:2 | tbb_task_group ÷ go:workers tasks/s | 2 |", self.report)

    def test_peer_goals_pass_miss_and_worst_row(self):
        self.assertEqual(self.wide_result.returncode, 0, self.wide_result.stderr)
        report = self.wide_report   # 9 samples a row
        # columns: measured, interval (at 1 - 0.05/k per row for a goal over k rows), target, result
        self.assertEqual(goal_row(report, "every spsc/mpsc/mpmc vs rust:crossbeam")[1:5],
                         ["0.50x", "0.47-0.52x", ">= 1x", "**MISS**"])
        self.assertIn("[shown: mpmc 2p/2c cap:unbounded payload:8 vs rust:crossbeam; of 2 rows 1 PASS, 1 MISS, "
                      "0 UNCLEAR; intervals at 97.50% each, 95% together]", report)
        self.assertEqual(goal_row(report, "every spsc vs rust:std")[1:5],
                         ["1.60x", "1.54-1.71x", ">= 1.5x", "**PASS**"])
        self.assertEqual(goal_row(report, "ping_pong p50 vs rust:crossbeam")[1:5],
                         ["1.10x", "1.09-1.14x", ">= 1x", "**PASS**"])
        # the sample has no unbounded mpsc 4p: only spsc counts, its whole interval >= 1.5
        self.assertEqual(goal_row(report, "unbounded spsc + mpsc 4p vs rust:std (8+ cores)")[1:5],
                         ["1.60x", "1.55-1.70x", ">= 1.5x", "**PASS**"])

    def test_peer_goals_from_three_samples_a_row_are_unclear(self):
        """The same ratios from the fixtures' own 3 samples a row: the intervals are as clear,
        but 3 samples a row can claim at most 56.25% for a ratio, so every goal is UNCLEAR,
        saying how many samples would settle it."""
        for goal, interval, target, level, claim, needed in (
                ("every spsc/mpsc/mpmc vs rust:crossbeam", "0.47-0.52x", ">= 1x", "97.50%", "56.2%", 8),
                ("every spsc vs rust:std", "1.54-1.71x", ">= 1.5x", "97.50%", "56.2%", 8),
                ("ping_pong p50 vs rust:crossbeam", "1.08-1.14x", ">= 1x", "95.00%", "56.2%", 7),
                ("unbounded spsc + mpsc 4p vs rust:std (8+ cores)", "1.54-1.71x", ">= 1.5x", "95.00%", "56.2%", 7)):
            with self.subTest(goal=goal):
                cells = goal_row(self.report, goal)
                self.assertEqual(cells[2:5], [interval, target, "**UNCLEAR**"])
                self.assertIn(f"too few samples for a {level} interval: 1x3 / 1x3 (processes x repetitions) can "
                              f"claim at most {claim}; settle: at least {needed} samples a row", cells[5])
        self.assertIn("of 2 rows 0 PASS, 0 MISS, 2 UNCLEAR; intervals at 97.50% each", self.report)

    def test_goals_txt_matches_goals_py(self):
        self.assertEqual((self.run_dir / "goals.txt").read_text(), run_script("goals.py", self.run_dir).stdout)

    def test_run_without_peers_says_not_measured(self):
        plain = run_script("goals.py", SAMPLE).stdout
        self.assertRegex(plain, r"every spsc vs rust:std +- +- +>= 1\.5x +not measured")


class Colours(unittest.TestCase):
    def test_peers_have_their_own_colours(self):
        from threadbench_results import charts
        cpp = {charts.impl_color(i) for i in ("threadbench", "mutex_deque", "tbb_bounded_queue",
                                               "tbb_queue", "moodycamel", "atomic_spin")}
        peers = [charts.impl_color(i) for i in ("rust:crossbeam", "rust:std", "rust:flume", "go:chan", "go:workers")]
        self.assertEqual(len(set(peers)), len(peers))
        self.assertFalse(cpp & set(peers))
        self.assertEqual(charts.peer_style("rust:std")["hatch"], "//")
        self.assertEqual(charts.peer_style("threadbench"), {})


if __name__ == "__main__":
    unittest.main()
