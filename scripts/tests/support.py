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
sys.path.insert(0, str(SCRIPTS))


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


class TempDirTest(unittest.TestCase):
    """Gives each test self.tmp, a fresh folder removed afterwards."""

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="threadbench-test-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def sample_copy(self, name="run"):
        return Path(shutil.copytree(SAMPLE, self.tmp / name))

    def assertFailsCleanly(self, result, *fragments):
        """Exit 2 with exactly one line on stderr containing every fragment."""
        self.assertEqual(result.returncode, 2, result.stderr)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        for fragment in fragments:
            self.assertIn(fragment, lines[0])
