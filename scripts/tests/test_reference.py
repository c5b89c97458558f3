"""Every committed reference run: plot.py on a copy reproduces its report.md, tables.md and
goals.txt byte for byte, and the hosts view reproduces its report.md from the runs it names."""
import re
import shutil
import unittest
from pathlib import Path

from support import SCRIPTS, TempDirTest, run_script

REFERENCE = SCRIPTS.parent / "results" / "reference"


def committed_runs():
    return sorted(p for p in REFERENCE.iterdir() if p.is_dir() and any(p.glob("*.json")))


class Reproduce(TempDirTest):
    def test_there_are_reference_runs(self):
        self.assertGreaterEqual(len(committed_runs()), 2, [p.name for p in committed_runs()])

    def test_each_run_reproduces_its_report(self):
        for ref in committed_runs():
            with self.subTest(run=ref.name):
                copy = Path(shutil.copytree(ref, self.tmp / ref.name))
                result = run_script("plot.py", copy)
                self.assertEqual(result.returncode, 0, result.stderr)
                for name in ("report.md", "tables.md", "goals.txt"):
                    self.assertEqual((copy / name).read_text(), (ref / name).read_text(),
                                     f"{ref.name}/{name}: re-run plot.py {ref} and commit the result")

    def test_hosts_view_reproduces_its_report(self):
        hosts = REFERENCE / "hosts"
        report = (hosts / "report.md").read_text()
        table = report.split("## Machines", 1)[1].split("\n\n", 2)[1]
        names = re.findall(r"^\| ([\w.-]+) \|", table, re.M)[1:]   # [0] is the header's 'run'
        self.assertEqual(len(names), 2, names)
        out = self.tmp / "hosts"
        out.mkdir()
        shutil.copy(hosts / "report.md", out / "report.md")   # keeps its title
        result = run_script("plot.py", *[REFERENCE / n for n in names], "--out", out)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual((out / "report.md").read_text(), report)

    def test_nothing_points_outside_the_project(self):
        for path in [*REFERENCE.rglob("*.md"), *REFERENCE.rglob("*.txt"), *SCRIPTS.rglob("*.py"),
                     *SCRIPTS.glob("*.sh")]:
            self.assertNotIn("../" + "shared", path.read_text(), path)   # split: this file is scanned too


if __name__ == "__main__":
    unittest.main()
