"""floor.py: each flow row's harness floor share (its crew row's time ÷ its own), matched by
language and producers x consumers, and the report lines; the other scripts take crew rows."""
import json
import shutil
import unittest

from support import SAMPLE, TempDirTest, run_script
from threadbench_results import floor
from threadbench_results.kinds import classify
from threadbench_results.load import Bench, load_run
from threadbench_results.names import parse_name

SPSC = "channel/spsc/impl:threadbench/cap:1024/producers:1/consumers:1/payload:8/real_time"
MPMC = "channel/mpmc/impl:threadbench/cap:1024/producers:4/consumers:4/payload:8/real_time"
MPSC = "channel/mpsc/impl:threadbench/cap:1024/producers:4/consumers:1/payload:8/real_time"
RUST_SPSC = "channel/spsc/impl:crossbeam/cap:1024/producers:1/consumers:1/payload:8/real_time"
CREW_1x1 = "channel/crew/impl:std_thread/producers:1/consumers:1/real_time"
CREW_4x4 = "channel/crew/impl:std_thread/producers:4/consumers:4/real_time"
CREW_4x1 = "channel/crew/impl:std_thread/producers:4/consumers:1/real_time"
RUST_CREW_1x1 = "channel/crew/impl:rust_thread/producers:1/consumers:1/real_time"


def bench(name, ns, language="c++", error=None):
    """A loaded benchmark with three repetitions whose median real_time is ns."""
    samples = [{"real_time": ns * f} for f in (0.99, 1.0, 1.01)]
    return Bench(name, *parse_name(name), language=language, samples=samples, error=error)


class Shares(unittest.TestCase):
    def test_share_is_floor_over_row_of_the_same_shape(self):
        shares, unmatched = floor.floor_shares([
            bench(SPSC, 1e6), bench(MPMC, 2e6), bench(MPSC, 4e6),
            bench(CREW_1x1, 30e3), bench(CREW_4x4, 100e3), bench(CREW_4x1, 20e3)])
        self.assertEqual(unmatched, [])
        got = {s.row.name: (s.floor.name, s.share) for s in shares}
        self.assertEqual(got[SPSC][0], CREW_1x1)
        self.assertAlmostEqual(got[SPSC][1], 0.03)
        self.assertEqual(got[MPMC][0], CREW_4x4)     # 4 x 4, not the 4 x 1 crew
        self.assertAlmostEqual(got[MPMC][1], 0.05)
        self.assertEqual(got[MPSC][0], CREW_4x1)
        self.assertAlmostEqual(got[MPSC][1], 0.005)

    def test_each_language_has_its_own_floor(self):
        shares, unmatched = floor.floor_shares([
            bench(SPSC, 1e6), bench(CREW_1x1, 10e3),
            bench(RUST_SPSC, 1e6, "rust"), bench(RUST_CREW_1x1, 50e3, "rust")])
        got = {s.row.name: (s.floor.name, s.share) for s in shares}
        self.assertEqual(got[RUST_SPSC][0], RUST_CREW_1x1)
        self.assertAlmostEqual(got[RUST_SPSC][1], 0.05)
        self.assertAlmostEqual(got[SPSC][1], 0.01)
        self.assertEqual(unmatched, [])

    def test_a_row_without_its_crew_row_is_unmatched(self):
        # a Go row in a run with only C++ crew rows: no floor borrowed from another language
        go_spsc = bench("channel/spsc/impl:go_chan/cap:1024/producers:1/consumers:1/payload:8/real_time", 1e6, "go")
        shares, unmatched = floor.floor_shares([bench(SPSC, 1e6), bench(CREW_1x1, 10e3), go_spsc])
        self.assertEqual([s.row.name for s in shares], [SPSC])
        self.assertEqual(unmatched, [go_spsc])

    def test_failed_rows_and_other_scenarios_are_left_out(self):
        shares, unmatched = floor.floor_shares([
            bench(SPSC, 1e6, error="flow: messages lost"), bench(MPMC, 2e6),
            bench(CREW_4x4, 40e3, error="boom"),
            bench("channel/seq/impl:threadbench/cap:1024/payload:8/real_time", 5e3),
            bench("channel/ping_pong/impl:threadbench/cap:1/payload:8/real_time", 5e3)])
        self.assertEqual(shares, [])
        self.assertEqual([b.name for b in unmatched], [MPMC])   # its crew row failed


class Section(unittest.TestCase):
    def test_lines_for_rows_from_two_percent_and_the_summary(self):
        lines = floor.section([bench(SPSC, 1e6), bench(MPMC, 2e6), bench(MPSC, 4e6),
                               bench(CREW_1x1, 30e3), bench(CREW_4x4, 100e3), bench(CREW_4x1, 20e3)])
        self.assertEqual(lines[0], "## Harness floor")
        self.assertIn(f"floor share under 2% on 1 of 3 flow rows; max 5.0% at `{MPMC}`.", lines)
        listed = [l for l in lines if l.startswith("- ")]
        self.assertEqual(listed, [   # largest share first; the 0.5% row is not listed
            f"- `{MPMC}`: floor is 5.0% of this row (100 µs per round of `{CREW_4x4}` ÷ 2 ms per iteration)",
            f"- `{SPSC}`: floor is 3.0% of this row (30 µs per round of `{CREW_1x1}` ÷ 1 ms per iteration)"])
        self.assertEqual(lines[-1], "")

    def test_exactly_two_percent_is_listed(self):
        lines = floor.section([bench(SPSC, 1e6), bench(CREW_1x1, 20e3)])
        self.assertIn(f"floor share under 2% on 0 of 1 flow rows; max 2.0% at `{SPSC}`.", lines)
        self.assertTrue(any(l.startswith(f"- `{SPSC}`: floor is 2.0% of this row") for l in lines))

    def test_all_under_two_percent_lists_no_row(self):
        lines = floor.section([bench(SPSC, 10e6), bench(CREW_1x1, 30e3)])
        self.assertIn(f"floor share under 2% on 1 of 1 flow rows; max 0.3% at `{SPSC}`.", lines)
        self.assertFalse(any(l.startswith("- ") for l in lines))

    def test_unmatched_rows_are_counted(self):
        lines = floor.section([bench(SPSC, 1e6), bench(MPMC, 2e6), bench(CREW_1x1, 1e3)])
        self.assertIn("1 flow row has no crew row of the same language and producers x consumers "
                      "in this run, so no floor share.", lines)

    def test_no_crew_rows_no_section(self):
        self.assertEqual(floor.section([bench(SPSC, 1e6), bench(MPMC, 2e6)]), [])
        self.assertEqual(floor.section([]), [])

    def test_share_format(self):
        self.assertEqual([floor.fmt_share(x) for x in (0.0004, 0.003, 0.0412, 0.123, 1.5)],
                         ["0.04%", "0.3%", "4.1%", "12%", "150%"])


class CrewRowsInARun(TempDirTest):
    """A run with crew rows (C++ and a peer) goes through load, kinds, plot.py and goals.py."""

    def crew_file(self, folder, names, language=None):
        entries = [{"name": n, "run_name": n, "run_type": "iteration", "repetitions": 3,
                    "repetition_index": i, "iterations": 100, "time_unit": "ns",
                    "real_time": 30e3 * (1 + 0.01 * i), "cpu_time": 5e3}
                   for n in names for i in range(3)]
        context = {"language": language} if language else {}
        (folder / f"crew_{language or 'cpp'}.json").write_text(
            json.dumps({"context": context, "benchmarks": entries}))

    def test_scripts_take_crew_rows(self):
        run_dir = self.sample_copy()
        names = [f"channel/crew/impl:std_thread/producers:{p}/consumers:{c}/real_time"
                 for p, c in ((1, 1), (2, 1), (2, 2))]
        self.crew_file(run_dir, names)
        self.crew_file(run_dir, [RUST_CREW_1x1], "rust")
        run = load_run(run_dir)
        crews = run.select("channel", "crew")
        self.assertEqual(len(crews), 4)
        self.assertEqual(run.find("channel", "crew", impl="rust_thread").contender, "rust:thread")
        kinds, warnings = classify(run.benches.values())
        # On no chart: crew rows are table-only (kinds.chart_kind), no "unknown shape" warning.
        self.assertFalse(any(b in crews for kind, group in kinds.items() if kind != "table"
                             for b in group))
        self.assertFalse([w for w in warnings if "crew" in w])
        shares, _ = floor.floor_shares(run.benches.values())
        self.assertIn(SPSC, [s.row.name for s in shares])
        for script in ("plot.py", "goals.py"):
            result = run_script(script, run_dir)
            self.assertEqual(result.returncode, 0, f"{script}: {result.stderr}")
        self.assertIn("channel/crew/impl:std_thread/producers:2/consumers:2/real_time",
                      (run_dir / "report.md").read_text())
        shutil.rmtree(run_dir / "plots", ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
