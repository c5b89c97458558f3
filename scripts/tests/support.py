"""Helpers shared by the tests of plot.py, compare.py and goals.py."""
import json
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

TESTS = Path(__file__).resolve().parent
SCRIPTS = TESTS.parent
SAMPLE = TESTS / "data" / "sample"   # a hand-made run covering every family
PEERS = TESTS / "data" / "peers"     # made-up rust_bench.json / go_bench.json (see its README)
sys.path.insert(0, str(SCRIPTS))
from threadbench_results.load import BOOKKEEPING  # noqa: E402


def run_script(script, *args, env=None):
    """Run scripts/<script> with this interpreter; returns the CompletedProcess."""
    return subprocess.run([sys.executable, str(SCRIPTS / script), *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=300)


def write_run(folder, times, reps=3, file="bench.json"):
    """Write a minimal Google Benchmark JSON: times maps name -> real_time in ns; each
    benchmark gets reps iteration entries spread +-1% around it, and no aggregates."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = [{"name": name, "run_name": name, "run_type": "iteration", "repetitions": reps,
                "repetition_index": i, "iterations": 1000, "time_unit": "ns",
                "real_time": t * (1 + 0.01 * (i - reps // 2)), "cpu_time": t}
               for name, t in times.items() for i in range(reps)]
    (folder / file).write_text(json.dumps({"context": {"machine": "test"}, "benchmarks": entries}))
    return folder


RATE_FIELDS = ("items_per_second", "bytes_per_second")   # scale as 1 / time


def widen(run, copies=3, step=5e-4):
    """Give every row of a run folder (a temp copy: the files are rewritten in place) that has
    2+ repetitions copies x as many: each repetition x becomes x * (1 + j * step) for j in
    0, +1, -1, +2, -2, ... (its rates x / (1 + j * step)). copies is odd, so each repetition's
    copies centre on it and the row's median stays where it was (unless two repetitions lie
    within copies * step of each other); its spread stays the same. Rows with 1 repetition are
    left alone (still a sanity check only), and the aggregates of a widened row are dropped:
    its median and cv then come from the samples. For goals that need more samples a row
    than the sample's 3 (interval.too_few)."""
    assert copies % 2 == 1, copies
    offsets = [0] + [s * j for j in range(1, copies // 2 + 1) for s in (1, -1)]
    for file in sorted(Path(run).glob("*.json")):
        doc = json.loads(file.read_text())
        entries = doc["benchmarks"]
        reps = {}
        for e in entries:
            if e.get("run_type") != "aggregate" and not e.get("error_occurred"):
                reps[e.get("run_name", e["name"])] = reps.get(e.get("run_name", e["name"]), 0) + 1
        wide = {name for name, n in reps.items() if n >= 2}
        out = []
        for e in entries:
            name = e.get("run_name", e["name"])
            if name not in wide:
                out.append(e)
            elif e.get("run_type") != "aggregate":
                for j in offsets:
                    f = 1 + j * step
                    c = dict(e, repetitions=reps[name] * copies,
                             repetition_index=e.get("repetition_index", 0) * copies + offsets.index(j))
                    for k, v in e.items():
                        if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in BOOKKEEPING:
                            c[k] = v / f if k in RATE_FIELDS else v * f
                    out.append(c)
        doc["benchmarks"] = out
        file.write_text(json.dumps(doc))
    return Path(run)


class TempDirTest(unittest.TestCase):
    """Gives each test self.tmp, a fresh folder removed afterwards."""

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="threadbench-test-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def sample_copy(self, name="run"):
        return Path(shutil.copytree(SAMPLE, self.tmp / name))

    def wide_sample_copy(self, name="wide", copies=3):
        """A copy of the sample with copies x the repetitions a row (widen): 1x9 for its 1x3 rows."""
        return widen(self.sample_copy(name), copies)

    def assertFailsCleanly(self, result, *fragments):
        """Exit 2 with exactly one line on stderr containing every fragment."""
        self.assertEqual(result.returncode, 2, result.stderr)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        for fragment in fragments:
            self.assertIn(fragment, lines[0])


class PlottedSample(unittest.TestCase):
    """A copy of the sample run in a temporary folder (with the peers' fixtures when the
    class says with_peers), prepared by the class's prepare(run_dir), plotted once by
    plot.py: run_dir, result, report and tables for the tests."""

    with_peers = False

    @classmethod
    def prepare(cls, run_dir):
        pass

    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="threadbench-test-"))
        cls.run_dir = Path(shutil.copytree(SAMPLE, cls.tmp / "run"))
        if cls.with_peers:
            for f in PEERS.glob("*.json"):
                shutil.copy(f, cls.run_dir)
        cls.prepare(cls.run_dir)
        cls.result = run_script("plot.py", cls.run_dir)
        cls.report = (cls.run_dir / "report.md").read_text()
        tables = cls.run_dir / "tables.md"
        cls.tables = tables.read_text() if tables.exists() else ""

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
