"""Run.find / select, and the busy-machine verdict at the top of report.md."""
import json
import unittest

from support import SAMPLE, TempDirTest, run_script, write_run
from threadbench_results import machine  # noqa: E402
from threadbench_results.load import load_run  # noqa: E402


class Find(unittest.TestCase):
    sample = load_run(SAMPLE)

    def test_find_by_keys_instead_of_format_strings(self):
        b = self.sample.find("channel", "spsc", impl="threadbench", cap=1024, payload=8)
        self.assertEqual(b.name, "channel/spsc/impl:threadbench/cap:1024/producers:1/consumers:1/payload:8/real_time")
        self.assertIsNone(self.sample.find("channel", "spsc", impl="nobody"))

    def test_ambiguous_find_raises_select_lists(self):
        with self.assertRaises(LookupError):
            self.sample.find("channel", "spsc", impl="threadbench")
        self.assertEqual(len(self.sample.select("channel", "ping_pong")), 6)


class Busy(TempDirTest):
    def write(self, **context):
        write_run(self.tmp, {"spawn/pthread/real_time": 17e3})
        doc = json.loads((self.tmp / "bench.json").read_text())
        doc["context"] = context
        (self.tmp / "bench.json").write_text(json.dumps(doc))
        return load_run(self.tmp)

    def test_quiet_machine_has_no_line(self):
        self.assertIsNone(machine.busy_verdict(self.write(cores="2", load_avg=[0.2, 0.1, 0.1], preflight="quiet")))

    def test_load_average_at_half_the_cores_is_busy(self):
        line = machine.busy_verdict(self.write(num_cpus=2, load_avg=[1.0, 0.5, 0.2]))
        self.assertEqual(line, "> **Busy machine.** The machine was busy when this run started: load average "
                               "1.00 on 2 cores (1-minute, when bench.json, the first binary, started), at or "
                               "above 1, half the cores. Its times are inflated and noisy; ratios within it are "
                               "sanity checks, not results.")
        self.assertIsNone(machine.busy_verdict(self.write(num_cpus=16, load_avg=[1.29, 0.3, 0.1])))
        # compare.py's short reasons say the same
        self.assertEqual(machine.busy_reasons(self.write(num_cpus=2, load_avg=[1.0, 0.5, 0.2])),
                         ["1-minute load average 1.00 on 2 cores at the start of the run (bench.json), at or "
                          "above 1 (half the cores)"])

    def test_preflight_verdict_and_busy_processes_in_words(self):
        run = self.write(cores="16", preflight="busy", busy_procs="cc1plus:98% make:12%", others_cpu="1.35",
                         load_avg="0.5 0.4 0.3")
        line = machine.busy_verdict(run)
        self.assertIn("The machine was busy when this run started: load average 0.50 on 16 cores (1-minute, when "
                      "bench.json, the first binary, started), below 8, half the cores; bench.sh's check before "
                      "timing (preflight) said busy: other work used 1.35 cores during its 2 s sample; other busy "
                      "processes: cc1plus (98% of a core), make (12% of a core).", line)
        self.assertEqual(machine.busy_reasons(run), ["preflight: busy", "busy processes: cc1plus:98% make:12%"])
        # a form preflight.sh does not write is kept as it is
        self.assertIn("other busy processes: cc1plus(98%).",
                      machine.busy_verdict(self.write(cores="16", preflight="busy", busy_procs="cc1plus(98%)")))

    def test_busy_preflight_that_named_no_process(self):
        line = machine.busy_verdict(self.write(cores="2", preflight="busy", busy_procs="none",
                                               load_avg="1.25 1.52 2.09"))
        self.assertIn("load average 1.25 on 2 cores", line)
        self.assertIn("no other process was busy enough to be named (10% of a core or more)", line)
        self.assertNotIn("busy from", line)

    def test_report_says_so_in_its_first_lines(self):
        self.write(cores="2", load_avg=[3.1, 2.0, 1.0])
        self.assertEqual(run_script("plot.py", self.tmp).returncode, 0)
        lines = (self.tmp / "report.md").read_text().splitlines()
        self.assertTrue(lines[2].startswith("> **Busy machine.** The machine was busy when this run started: "
                                            "load average 3.10 on 2 cores"), lines[:4])
        self.assertEqual(sum("Busy machine" in line for line in lines), 1)
        self.assertEqual(lines[6], "## Summary")

    def test_sample_run_is_quiet(self):
        self.assertIsNone(machine.busy_verdict(load_run(SAMPLE)))


if __name__ == "__main__":
    unittest.main()


class BusyAtStart(TempDirTest):
    def test_only_the_first_binarys_load_counts(self):
        """Later binaries start with the suite's own load: a quiet start is a quiet run."""
        for name, date, load in (("a.json", "2026-11-26T08:22:35", 0.07), ("b.json", "2026-11-26T08:24:37", 3.1)):
            write_run(self.tmp, {f"spawn/{name[0]}/real_time": 1e3}, file=name)
            doc = json.loads((self.tmp / name).read_text())
            doc["context"] = {"cores": "2", "date": date, "load_avg": [load, 0, 0]}
            (self.tmp / name).write_text(json.dumps(doc))
        self.assertIsNone(machine.busy_verdict(load_run(self.tmp)))


class ReportHeader(TempDirTest):
    def test_how_made_and_machine_table_by_file(self):
        """The header says processes x repetitions x minimum time and the preflight in words;
        the Machine table gives a value that differs between files one row per file."""
        for name, date in (("a.json", "2026-11-26T08:22:35"), ("b.json", "2026-11-26T08:24:37")):
            write_run(self.tmp, {f"spawn/{name[0]}/real_time": 1e3}, reps=5, file=name)
            doc = json.loads((self.tmp / name).read_text())
            doc["context"] = {"cores": "2", "date": date, "preflight": "quiet", "min_time_s": "0.1"}
            (self.tmp / name).write_text(json.dumps(doc))
        self.assertEqual(run_script("plot.py", self.tmp).returncode, 0)
        report = (self.tmp / "report.md").read_text()
        self.assertIn("**Measured as** 1 process x 5 repetitions x 0.1 s minimum time per repetition; "
                      "**preflight:** quiet (bench.sh found the machine idle before timing).", report)
        self.assertIn("| key | value | files |", report)
        self.assertIn("| cores | 2 | all |", report)
        self.assertIn("| date | 2026-11-26T08:22:35 | a.json |\n| date | 2026-11-26T08:24:37 | b.json |", report)
        table = report.split("\n## Machine\n", 1)[1].split("| key | value | files |", 1)[1]
        self.assertNotIn(" / ", table)   # one row per value, never values joined
        self.assertIn("\nFrom a.json, b.json.\n", report.split("\n## Machine\n", 1)[1])
