"""report.md opens with its answer: a Summary (every speed goal's verdict, threadbench's
largest leads and trails, each with its interval) right after the title and the run line,
then the charts, then the tables; every benchmark's own row is in tables.md beside it."""
import shutil
import tempfile
import unittest
from pathlib import Path

from support import PEERS, PlottedSample, SAMPLE, TESTS, TempDirTest, run_script
from test_noise import twin_run
from threadbench_results import goals, headlines, interval, report  # noqa: E402
from threadbench_results.goals import Verdict  # noqa: E402



def section(text, start, end):
    """The text from the line start to the next line that begins with end."""
    return text.split(f"\n{start}\n", 1)[1].split(f"\n{end}", 1)[0]


class Layout(PlottedSample):
    """The sample run with the Rust and Go peers' fixtures, plotted once."""

    with_peers = True

    def test_succeeds(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        self.assertIn("tables.md", self.result.stdout)

    def test_summary_comes_first_then_charts_then_tables(self):
        lines = self.report.splitlines()
        self.assertTrue(lines[0].startswith("# threadbench results: "))
        self.assertTrue(lines[2].startswith("**Measured as** "), lines[:4])
        self.assertEqual(lines[4], "## Summary")
        headings = [line for line in lines if line.startswith("## ")]
        self.assertEqual(headings, ["## Summary", "## Charts", "## Headline ratios", "## Speed goals",
                                    "## Machine"])
        # no picture before the charts, no table of headline ratios before them either
        before = self.report.split("\n## Charts\n", 1)[0]
        self.assertNotIn("![", before)
        self.assertNotIn("### Headline ratios", self.report)

    def test_summary_lists_every_goal_with_its_verdict_and_interval(self):
        summary = section(self.report, "## Summary", "## ")
        self.assertIn("| goal | result | measured | interval | target |", summary)
        for goal in goals.GOALS:
            self.assertIn(f"\n| {goal.name} | ", summary, goal.name)
        # the notes stay in the Speed goals section: the summary's rows have five cells
        self.assertIn("| spsc cap:1024 vs mutex_deque | **UNCLEAR** | 2.74x | 2.67-2.79x | >= 1.5x |\n", summary)
        self.assertIn("| every spsc vs rust:std | **UNCLEAR** | 1.60x | 1.54-1.71x | >= 1.5x |\n", summary)
        self.assertIn("\n0 PASS, 0 MISS, 12 UNCLEAR, 5 not measured, 0 not applicable\n", summary)
        self.assertIn("[Speed goals](#speed-goals)", summary)
        self.assertIn("[tables.md](tables.md)", summary)

    def test_summary_ranks_threadbench_leads_and_trails(self):
        summary = section(self.report, "## Summary", "## ")
        leads = summary.split("\nLeads:\n", 1)[1].split("\nTrails:\n", 1)[0]
        trails = summary.split("\nTrails:\n", 1)[1]
        rows = lambda text: [l for l in text.splitlines() if l.startswith("| ") and not l.startswith("| scenario")]  # noqa: E731
        self.assertEqual(len(rows(leads)), 5)
        values = [float(r.split(" | ")[2]) for r in rows(leads)]
        self.assertEqual(values, sorted(values, reverse=True))
        self.assertTrue(all(v > 1 for v in values))
        trail_values = [float(r.split(" | ")[2]) for r in rows(trails)]
        self.assertEqual(trail_values, sorted(trail_values))
        self.assertTrue(trail_values and all(v < 1 for v in trail_values))
        # each with its interval, peers with their versions; the atomic_spin limit is no contender
        self.assertIn("| mpmc 2p/2c cap:unbounded payload:8 | rust:crossbeam | 0.5 | 0.471–0.518 | "
                      "threadbench is 2× slower", trails)
        self.assertNotIn("atomic_spin", leads + trails)

    def test_tables_md_holds_every_benchmark(self):
        self.assertNotIn("| benchmark | median time | cv | reps |", self.report)
        self.assertEqual(self.tables.count("| benchmark | median time | cv | reps |"), 4)
        self.assertTrue(self.tables.startswith("# threadbench results: run: every benchmark\n"))
        self.assertIn("[report.md](report.md)", self.tables)
        for family in ("spawn", "capture", "channel", "pool"):
            self.assertIn(f"\n## {family}\n", self.tables)
            self.assertIn(f"\n### {family}\n", section(self.report, "## Charts", "## "))
        self.assertIn("| `spawn/pthread/real_time` | 17.4 µs | 0.9% | 1x3 |", self.tables)
        # a failed benchmark: named in the Summary, its error in tables.md
        self.assertIn("**Failed** (1, errors in [tables.md](tables.md)): "
                      "`spawn/small_stack/stack:16384/threads:1/real_time`", self.report)
        self.assertIn("error: pthread_attr_setstacksize refused the size", self.tables)

    def test_machine_section_names_the_files_and_the_peers(self):
        machine = section(self.report, "## Machine", "## ")
        self.assertIn("\nFrom capture_bench.json, channel_bench.json, go_bench.json, pool_bench.json, "
                      "rust_bench.json, spawn_join_bench.json.\n", machine)
        self.assertIn("**Peers:** ", machine)
        self.assertIn("| key | value | files |", machine)

    def test_rerun_reproduces_both_files(self):
        again = Path(shutil.copytree(self.run_dir, self.tmp / "again"))
        self.assertEqual(run_script("plot.py", again).returncode, 0)
        self.assertEqual((again / "report.md").read_text(), self.report)
        self.assertEqual((again / "tables.md").read_text(), self.tables)


class OneRepetition(TempDirTest):
    """A row with one sample has no interval: the Summary marks it a sanity check."""

    def test_summary_marks_one_repetition_rows(self):
        run_dir = twin_run(self.tmp / "one", {("spsc", "threadbench"): 2e7, ("spsc", "mutex_deque"): 5e6}, reps=1)
        self.assertEqual(run_script("plot.py", run_dir).returncode, 0)
        summary = section((run_dir / "report.md").read_text(), "## Summary", "## ")
        self.assertIn("| spsc cap:1024 vs mutex_deque | **UNCLEAR** | 4.00x | 1 repetition: sanity check only | "
                      ">= 1.5x |", summary)
        self.assertIn("| spsc cap:1024 payload:8 | mutex_deque | 4 | 1 repetition: sanity check only | "
                      "threadbench is 4× faster than mutex_deque", summary)

    def test_rank_table_and_goal_summary_units(self):
        single = interval.Estimate(0.5, None, ("1x1", "1x1"), None, (1, 1))
        h = headlines.Headline("channel", "spsc", "spsc cap:1 payload:8", "threadbench", "rust:std", 0.5,
                               "threadbench is 2× slower than rust:std (messages/s)", {}, single)
        limit = headlines.Headline("channel", "ping_pong", "ping_pong cap:1 payload:8", "threadbench",
                                   "atomic_spin", 0.3, "limit", {}, single)
        self.assertEqual(report.leads_and_trails([h, limit]), ([], [h]))
        self.assertIn("| spsc cap:1 payload:8 | rust:std | 0.5 | 1 repetition: sanity check only |",
                      "\n".join(report.rank_table([h])))
        rows = goals.as_summary([Verdict("g", "0.50x", "-", ">= 1x", "UNCLEAR", "why", True),
                                 Verdict("h", "2.00x", "1.90-2.10x", ">= 1x", "PASS", "why")])
        self.assertIn("| g | **UNCLEAR** | 0.50x | 1 repetition: sanity check only | >= 1x |", rows)
        self.assertIn("| h | **PASS** | 2.00x | 1.90-2.10x | >= 1x |", rows)


class GoalsText(unittest.TestCase):
    def test_goals_txt_fits_120_columns_with_its_notes_below_the_table(self):
        text = run_script("goals.py", SAMPLE).stdout
        lines = text.splitlines()
        self.assertLessEqual(max(map(len, lines)), goals.WIDTH, max(lines, key=len))
        table_end = lines.index("")
        self.assertTrue(all(line.rstrip().endswith(f"[{n}]") for n, line in enumerate(lines[2:table_end], 1)))
        self.assertTrue(any(line.startswith("[1] ") for line in lines[table_end:]))


if __name__ == "__main__":
    unittest.main()
