"""icount.sh and compare.py --icount: instructions per operation, and the gate on them.
The real callgrind runs are ctest's bench.icount_gate tests; here a fake valgrind and probe
prove the arithmetic, the JSON and the gate's verdicts."""
import json
import os
import subprocess
import unittest

from support import SCRIPTS, TempDirTest, run_script
from threadbench_results import icount  # noqa: E402
from threadbench_results.cli import RunError  # noqa: E402

# A stand-in for valgrind: writes a callgrind output whose total is 5000 + N x cost(OP).
FAKE_VALGRIND = """#!/bin/sh
[ "$1" = --version ] && { echo valgrind-fake; exit 0; }
out=${2#--callgrind-out-file=}
case "$4" in send_recv) per=170 ;; *) per=47 ;; esac
echo "summary: $((5000 + $6 * per))" > "$out"
"""
FAKE_PROBE = """#!/bin/sh
[ "$1" = --list ] && { echo "send_recv unbounded"; echo "try_recv_empty cap:0"; }
exit 0
"""


def counts_file(folder, name, per_op, context=None):
    """An icount JSON with the given name -> instructions_per_op."""
    rows = [(n.split("/")[1], n.split("/")[2], 20000, v) for n, v in per_op.items()]
    doc = icount.to_json(rows, context or {"compiler": "g++ 12", "valgrind": "valgrind-3.19.0"})
    path = folder / name
    path.write_text(json.dumps(doc))
    return path


class Arithmetic(unittest.TestCase):
    def test_difference_of_two_totals_over_n(self):
        rows = icount.parse_counts("send_recv unbounded 20000 5094335 40000 8448447\n")
        self.assertEqual(rows, [("send_recv", "unbounded", 20000, (8448447 - 5094335) / 20000)])

    def test_names_follow_the_suite(self):
        doc = icount.to_json([("send_recv", "unbounded", 20, 167.7), ("try_send_full", "cap:0", 20, 34.3)], {})
        self.assertEqual([b["name"] for b in doc["benchmarks"]],
                         ["icount/send_recv/cap:unbounded", "icount/try_send_full/cap:0"])
        self.assertEqual(doc["benchmarks"][0]["instructions_per_op"], 167.7)

    def test_bad_count_lines(self):
        for bad in ("", "send_recv unbounded 20000 x 40000 9", "a b 40000 9 20000 5"):
            with self.assertRaises(RunError):
                icount.parse_counts(bad)


class Gate(TempDirTest):
    BASE = {"icount/send_recv/cap:unbounded": 167.7, "icount/try_recv_empty/cap:0": 55.3}

    def gate(self, new, *extra):
        base = counts_file(self.tmp, "base.json", self.BASE)
        return run_script("compare.py", "--icount", base, counts_file(self.tmp, "new.json", new), *extra)

    def test_same_counts_pass(self):
        result = self.gate(self.BASE)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("icount gate: PASS: all 2 operations within 2.0% of the baseline", result.stdout)

    def test_five_percent_more_fails(self):
        result = self.gate({**self.BASE, "icount/try_recv_empty/cap:0": 55.3 * 1.05})
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("icount gate: FAIL: 1 of 2 operations; more than 2.0% more instructions: "
                      "icount/try_recv_empty/cap:0", result.stdout)
        self.assertRegex(result.stdout, r"icount/try_recv_empty/cap:0 +55\.3 +58\.1 +\+5\.00% +more expensive")

    def test_within_threshold_and_cheaper_pass(self):
        result = self.gate({"icount/send_recv/cap:unbounded": 167.7 * 1.019, "icount/try_recv_empty/cap:0": 40.0})
        self.assertEqual(result.returncode, 0, result.stdout)
        self.assertIn("cheaper", result.stdout)

    def test_threshold_option(self):
        new = {**self.BASE, "icount/send_recv/cap:unbounded": 167.7 * 1.03}
        self.assertEqual(self.gate(new).returncode, 1)
        self.assertEqual(self.gate(new, "--threshold", "0.05").returncode, 0)

    def test_missing_operation_fails(self):
        result = self.gate({"icount/send_recv/cap:unbounded": 167.7})
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("missing from the new counts: icount/try_recv_empty/cap:0", result.stdout)

    def test_toolchain_change_is_noted(self):
        base = counts_file(self.tmp, "base.json", self.BASE)
        new = counts_file(self.tmp, "new.json", self.BASE, {"compiler": "clang 16", "valgrind": "valgrind-3.19.0"})
        result = run_script("compare.py", "--icount", base, new)
        self.assertIn("note: compiler differs from the baseline's (g++ 12 vs clang 16)", result.stdout)

    def test_bad_input(self):
        base = counts_file(self.tmp, "base.json", self.BASE)
        self.assertFailsCleanly(run_script("compare.py", "--icount", base, self.tmp / "nope.json"), "no such file")
        (self.tmp / "bad.json").write_text("{")
        self.assertFailsCleanly(run_script("compare.py", "--icount", base, self.tmp / "bad.json"), "not readable JSON")
        self.assertFailsCleanly(run_script("compare.py", "--icount", SCRIPTS / "tests/data/sample", base),
                                "no instructions_per_op counters")
        self.assertFailsCleanly(run_script("compare.py", "--icount", base, base, "--threshold", "2"),
                                "not a fraction")

    def test_committed_baseline_loads(self):
        counts, context = icount.load_counts(SCRIPTS.parent / "results/reference/icount-baseline.json")
        self.assertGreaterEqual(len(counts), 10)
        self.assertTrue(all(v > 0 for v in counts.values()))
        self.assertIn("valgrind", context)


class Script(TempDirTest):
    def script(self, *args):
        return subprocess.run(["bash", str(SCRIPTS / "icount.sh"), *map(str, args)],
                              capture_output=True, text=True, timeout=120)

    def fakes(self):
        for name, text in (("valgrind", FAKE_VALGRIND), ("probe", FAKE_PROBE)):
            (self.tmp / name).write_text(text)
            os.chmod(self.tmp / name, 0o755)
        return self.tmp / "valgrind", self.tmp / "probe"

    def test_counts_through_a_fake_valgrind(self):
        valgrind, probe = self.fakes()
        out = self.tmp / "counts.json"
        result = self.script("--probe", probe, "--valgrind", valgrind, "--out", out)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        doc = json.loads(out.read_text())
        per_op = {b["name"]: b["instructions_per_op"] for b in doc["benchmarks"]}
        self.assertEqual(per_op, {"icount/send_recv/cap:unbounded": 170, "icount/try_recv_empty/cap:0": 47})
        self.assertEqual(doc["context"]["valgrind"], "valgrind-fake")
        gate = self.script("--probe", probe, "--valgrind", valgrind, "--out", self.tmp / "again.json", "--gate", out)
        self.assertEqual(gate.returncode, 0, gate.stdout + gate.stderr)
        self.assertIn("icount gate: PASS", gate.stdout)

    def test_bad_options_are_one_line(self):
        valgrind, probe = self.fakes()
        for args, says in ((("-n", "7"), "multiple of 20"), (("--threshold", "abc"), "--threshold"),
                           (("--gate", self.tmp / "none.json"), "no baseline"),
                           (("--probe", self.tmp / "none", "--valgrind", valgrind), "no icount_probe"),
                           (("--probe", probe, "--valgrind", self.tmp / "none"), "install valgrind"),
                           (("--bogus",), "unknown option")):
            result = self.script(*args)
            self.assertEqual(result.returncode, 1, (args, result.stderr))
            self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
            self.assertIn(says, result.stderr)


if __name__ == "__main__":
    unittest.main()
