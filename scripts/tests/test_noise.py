"""The noise check: twins (spsc, mpsc 1p/1c, mpmc 1p/1c of one contender, capacity and payload)
must agree within their intervals, and report.md says which do not."""
import json
import unittest

from support import TempDirTest, run_script
from threadbench_results import noise  # noqa: E402
from threadbench_results.load import load_run  # noqa: E402

ROW = "channel/{scenario}/impl:{impl}/cap:1024/producers:1/consumers:1/payload:8/real_time"


def twin_run(folder, rates, reps=5):
    """A channel run: rates maps (scenario, impl) -> messages/s; each row gets reps repetitions
    spread +-1% around it (and one mpsc 2p/1c row, which is nobody's twin)."""
    folder.mkdir(parents=True, exist_ok=True)
    rates = {**rates, ("mpsc2", "threadbench"): 1e6}
    entries = []
    for (scenario, impl), rate in rates.items():
        name = ROW.format(scenario=scenario, impl=impl)
        if scenario == "mpsc2":
            name = name.replace("mpsc2", "mpsc").replace("producers:1", "producers:2")
        for i in range(reps):
            r = rate * (1 + 0.01 * (i - reps // 2))
            entries.append({"name": name, "run_name": name, "run_type": "iteration", "repetitions": reps,
                            "repetition_index": i, "iterations": 100, "time_unit": "ns",
                            "real_time": 1e9 / r, "cpu_time": 1e9 / r, "items_per_second": r})
    (folder / "channel_bench.json").write_text(json.dumps({"context": {"cores": "2"}, "benchmarks": entries}))
    return folder


class Twins(TempDirTest):
    def test_twins_that_agree_are_not_flagged(self):
        run = load_run(twin_run(self.tmp, {(s, "threadbench"): 2e7 for s in ("spsc", "mpsc", "mpmc")}))
        groups = noise.twin_groups(run.benches.values())
        self.assertEqual([(g.contender, g.cap, len(g.benches)) for g in groups], [("threadbench", "1024", 3)])
        self.assertEqual(groups[0].disagreeing, [])
        self.assertIn("**0 of 1 twin groups disagree**", "\n".join(noise.section(run.benches.values())))

    def test_twin_disagreement_is_flagged_in_the_report(self):
        rates = {("spsc", "threadbench"): 2e7, ("mpsc", "threadbench"): 2e7, ("mpmc", "threadbench"): 1.5e7,
                 ("spsc", "mutex_deque"): 5e6, ("mpmc", "mutex_deque"): 5e6}
        folder = twin_run(self.tmp, rates)
        result = run_script("plot.py", folder)
        self.assertEqual(result.returncode, 0, result.stderr)
        report = (folder / "report.md").read_text()
        self.assertIn("\n## Noise check\n", report)
        self.assertIn("**1 of 2 twin groups disagree** (2 of 4 pairs outside their 95% interval", report)
        row = next(l for l in report.splitlines() if l.startswith("| threadbench | 1024 |"))
        self.assertIn("| spsc 20 M, mpsc 20 M, mpmc 15 M | 1.33 |", row)
        self.assertIn("spsc ÷ mpmc 1.33 (", row)
        self.assertNotIn("| mutex_deque | 1024 |", report)

    def test_one_repetition_twins_cannot_be_checked(self):
        run = load_run(twin_run(self.tmp, {("spsc", "threadbench"): 2e7, ("mpmc", "threadbench"): 1e7}, reps=1))
        self.assertIn("Not checked: 1 repetition: sanity check only", "\n".join(noise.section(run.benches.values())))


if __name__ == "__main__":
    unittest.main()
