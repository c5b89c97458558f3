"""Script-written README tables (threadbench_results/blocks.py): the replacement keeps
everything outside the markers, refuses bad markers without touching the file, and the
planted-bug catalogue in stress/README.md lists exactly the bugs of planted.hpp."""
import re
import subprocess
import sys
import unittest

from support import SCRIPTS, TempDirTest

from threadbench_results.blocks import block_text, replace_block
from threadbench_results.cli import RunError

REPO = SCRIPTS.parent
DOC = ("intro\n<!-- begin t: written by x.sh --readme; rerun it, do not edit by hand -->\n"
       "| old |\n<!-- end t -->\noutro\n")


class Replace(unittest.TestCase):
    def test_replaces_only_the_block(self):
        new = replace_block(DOC, "t", "| new |\n| rows |")
        self.assertEqual(new, DOC.replace("| old |\n", "| new |\n| rows |\n"))
        self.assertEqual(block_text(new, "t"), "| new |\n| rows |\n")

    def test_refuses_missing_repeated_or_reversed_markers(self):
        for doc in ("no markers\n", DOC + DOC, "<!-- end t -->\n" + DOC.replace("<!-- end t -->\n", "")):
            with self.subTest(doc=doc[:30]), self.assertRaises(RunError):
                replace_block(doc, "t", "x")

    def test_refuses_empty_content(self):
        with self.assertRaises(RunError):
            replace_block(DOC, "t", "  \n")


class CommandLine(TempDirTest):
    def run_blocks(self, path, name, stdin):
        return subprocess.run([sys.executable, "-m", "threadbench_results.blocks", str(path), name],
                              input=stdin, capture_output=True, text=True, cwd=SCRIPTS, timeout=60)

    def test_writes_the_file(self):
        path = self.tmp / "README.md"
        path.write_text(DOC)
        result = self.run_blocks(path, "t", "| new |\n")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(path.read_text(), DOC.replace("| old |", "| new |"))

    def test_error_is_one_line_and_the_file_is_untouched(self):
        path = self.tmp / "README.md"
        path.write_text(DOC)
        result = self.run_blocks(path, "other", "| new |\n")
        self.assertEqual(result.returncode, 2)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        self.assertIn("<!-- end other -->", result.stderr)
        self.assertEqual(path.read_text(), DOC)
        self.assertEqual([p.name for p in self.tmp.iterdir()], ["README.md"])

    def test_check_only_reads(self):
        path = self.tmp / "README.md"
        path.write_text(DOC)
        ok = subprocess.run([sys.executable, "-m", "threadbench_results.blocks", "--check", str(path), "t"],
                            capture_output=True, text=True, cwd=SCRIPTS, timeout=60)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        bad = subprocess.run([sys.executable, "-m", "threadbench_results.blocks", "--check", str(path), "other"],
                             capture_output=True, text=True, cwd=SCRIPTS, timeout=60)
        self.assertEqual(bad.returncode, 2)
        self.assertEqual(len(bad.stderr.strip().splitlines()), 1, bad.stderr)
        self.assertEqual(path.read_text(), DOC)


class Catalogue(unittest.TestCase):
    """The committed catalogue table is the one planted_bugs.sh --readme writes: one row per
    bug of enum Bug, in order, each caught."""

    def test_one_row_per_planted_bug(self):
        header = (REPO / "include/threadbench/detail/planted.hpp").read_text()
        bugs = [f"{n} {name}" for name, n in re.findall(r"^ *([a-z_]+) = ([0-9]+),", header, re.M)
                if int(n) > 0]
        self.assertGreaterEqual(len(bugs), 18)
        table = block_text((REPO / "stress/README.md").read_text(), "catalogue")
        rows = [line.split("|")[1].strip() for line in table.splitlines()
                if re.match(r"\| [0-9]+ ", line)]
        self.assertEqual(rows, bugs, "rerun scripts/planted_bugs.sh --runs N --readme stress/README.md")
        self.assertNotIn("NOT CAUGHT", table)


if __name__ == "__main__":
    unittest.main()
