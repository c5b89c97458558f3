"""report.md names each Rust and Go peer with the version measured (from the peers' own JSON
context), shows the bare label when the context has none, and says in a "Peers" note what Go's
rows carry (its clock-read cost, its garbage-collected boxed payloads). Goal keys stay bare."""
import json
import shutil
import tempfile
import unittest
from pathlib import Path

from support import SAMPLE, TESTS, run_script
from threadbench_results import peers  # noqa: E402
from threadbench_results.load import load_run  # noqa: E402

PEERS = TESTS / "data" / "peers"   # made-up rust_bench.json / go_bench.json, no versions in them

# What bench/rust and bench/go write into their context (values made up for the test; the
# clock-read figure deliberately differs from any real run's, so the note must read it).
RUST_VERSIONS = {"rustc": "rustc 1.77.2 (25ef9e3d8 2024-04-09)", "crossbeam_channel_version": "0.5.99",
                 "flume_version": "0.11.7", "rayon_version": "1.8.3"}
GO_VERSIONS = {"go_version": "go1.21.4", "go_clock_read_ns": 47.25}


def make_run(folder, versions):
    """The sample run with the peers' JSON next to it; versions: True to add the contexts
    above to the peers' files, False to leave them without versions."""
    run = Path(shutil.copytree(SAMPLE, folder))
    for f in PEERS.glob("*.json"):
        doc = json.loads(f.read_text())
        if versions:
            doc["context"].update(RUST_VERSIONS if f.name.startswith("rust") else GO_VERSIONS)
        (run / f.name).write_text(json.dumps(doc))
    return run


def section(report, start, end):
    return report.split(start, 1)[1].split(end, 1)[0]


class PeerVersions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="threadbench-test-"))
        cls.with_dir = make_run(cls.tmp / "with", True)
        cls.bare_dir = make_run(cls.tmp / "bare", False)
        cls.results = {d: run_script("plot.py", d) for d in (cls.with_dir, cls.bare_dir)}
        cls.with_report = (cls.with_dir / "report.md").read_text()
        cls.bare_report = (cls.bare_dir / "report.md").read_text()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_plot_succeeds(self):
        for d, result in self.results.items():
            self.assertEqual(result.returncode, 0, f"{d}: {result.stderr}")

    def test_labels_from_the_context(self):
        show = peers.labeller(load_run(self.with_dir))
        self.assertEqual(show("rust:crossbeam"), "rust:crossbeam 0.5.99")
        self.assertEqual(show("rust:flume"), "rust:flume 0.11.7")
        self.assertEqual(show("rust:std"), "rust:std rustc 1.77.2")   # the commit and date dropped
        self.assertEqual(show("rust:thread"), "rust:thread rustc 1.77.2")
        self.assertEqual(show("rust:rayon_task"), "rust:rayon_task 1.8.3")
        self.assertEqual(show("go:chan"), "go:chan go1.21.4")
        self.assertEqual(show("threadbench"), "threadbench")   # C++ contenders: no version

    def test_headline_table_shows_versions(self):
        self.assertIn("| spsc cap:1024 payload:8 | rust:crossbeam 0.5.99 | 1.25 | 1.21–1.27 | "
                      "threadbench is 1.25× faster than rust:crossbeam", self.with_report)
        self.assertIn("| spsc cap:1024 payload:8 | rust:std rustc 1.77.2 | 2 | ", self.with_report)
        self.assertIn("| spsc cap:1024 payload:8 | rust:flume 0.11.7 | 3 | ", self.with_report)
        self.assertIn("| ping_pong cap:1 payload:8 | go:chan go1.21.4 | 0.9 | ", self.with_report)
        self.assertIn("| std_thread ÷ rust:thread rustc 1.77.2 | 1.11 |", self.with_report)
        self.assertIn("| tbb_task ÷ rust:rayon_task 1.8.3 | 0.667 |", self.with_report)
        self.assertIn("| grain:1000 threads:2 | tbb_task_group ÷ go:workers go1.21.4 tasks/s | 2 |", self.with_report)

    def test_peer_grid_shows_versions(self):
        grid = section(self.with_report, "#### threadbench vs the Rust and Go peers", "### pool")
        self.assertIn("| scenario | rust:crossbeam 0.5.99 | rust:std rustc 1.77.2 | rust:flume 0.11.7 | "
                      "go:chan go1.21.4 |", grid)
        self.assertIn("| spsc cap:1024 payload:8 | 1.25 [1.21–1.27] | 2 [1.93–2.03] | 3 [2.9–3.04] | "
                      "3 [2.9–3.04] |", grid)

    def test_bare_labels_without_versions(self):
        self.assertIn("| spsc cap:1024 payload:8 | rust:crossbeam | 1.25 | ", self.bare_report)
        self.assertIn("| ping_pong cap:1 payload:8 | go:chan | 0.9 | ", self.bare_report)
        self.assertIn("| scenario | rust:crossbeam | rust:std | rust:flume | go:chan |", self.bare_report)
        self.assertIn("| std_thread ÷ rust:thread | 1.11 |", self.bare_report)
        self.assertNotIn("go_clock_read_ns", section(self.bare_report, "## Machine", "| key |"))

    def test_goal_keys_and_goals_txt_stay_bare(self):
        self.assertEqual((self.with_dir / "goals.txt").read_text(), (self.bare_dir / "goals.txt").read_text())
        self.assertIn("| every spsc vs rust:std |", self.with_report)

    def test_peers_note_in_the_header(self):
        header = section(self.with_report, "## Machine", "| key |")
        note = next(l for l in header.splitlines() if l.startswith("**Peers:**"))
        for part in ("rust:crossbeam 0.5.99", "rust:std rustc 1.77.2", "rust:flume 0.11.7", "go:chan go1.21.4",
                     "Rust's rows are built with rustc 1.77.2",
                     "garbage collector", "payload:boxed", "free()"):
            self.assertIn(part, note)
        # the clock-read figure is the context's go_clock_read_ns (47.25 ns), as fmt_ns prints it
        self.assertIn("reads the clock, which costs Go 47.2 ns here (go_clock_read_ns)", note)
        self.assertIn("latency rows include about that much per sample", note)

    def test_clock_read_follows_the_context(self):
        run = make_run(self.tmp / "clock", True)
        go = run / "go_bench.json"
        doc = json.loads(go.read_text())
        doc["context"]["go_clock_read_ns"] = 12.5
        go.write_text(json.dumps(doc))
        note = "\n".join(peers.note(load_run(run)))
        self.assertIn("costs Go 12.5 ns here", note)
        del doc["context"]["go_clock_read_ns"]
        go.write_text(json.dumps(doc))
        self.assertNotIn("go_clock_read_ns", "\n".join(peers.note(load_run(run))))

    def test_no_note_without_peers(self):
        self.assertEqual(peers.note(load_run(SAMPLE)), [])
        result = run_script("plot.py", shutil.copytree(SAMPLE, self.tmp / "plain"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn("**Peers:**", (self.tmp / "plain" / "report.md").read_text())


if __name__ == "__main__":
    unittest.main()
