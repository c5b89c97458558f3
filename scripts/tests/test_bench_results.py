"""threadbench_results.load (and .names): benchmark names, time units and statistics as Google
Benchmark writes them. (Once the tests of scripts/bench_results.py, the loader's old name.)"""
import json
import unittest

from support import TempDirTest  # first: it puts scripts/ on the import path
from threadbench_results.cli import RunError  # noqa: E402
from threadbench_results.load import load_run  # noqa: E402
from threadbench_results.names import parse_name  # noqa: E402


class ParseName(unittest.TestCase):
    def test_family_scenario_keys(self):
        name = "channel/mpmc/impl:threadbench/cap:0/producers:4/consumers:4/payload:boxed"
        self.assertEqual(parse_name(name), ("channel", "mpmc", {"impl": "threadbench", "cap": "0", "producers": "4",
                                                                "consumers": "4", "payload": "boxed"}))

    def test_runner_suffixes_dropped_but_threads_kept(self):
        self.assertEqual(parse_name("capture/refcount_shared/real_time/min_time:0.500/repeats:5/threads:8"),
                         ("capture", "refcount_shared", {"threads": "8"}))

    def test_bare_family_and_unnamed_args(self):
        self.assertEqual(parse_name("spawn"), ("spawn", "", {}))
        self.assertEqual(parse_name("spawn/small_stack/65536"), ("spawn", "small_stack/65536", {}))


def entry(**fields):
    base = {"name": "spawn/pthread", "run_name": "spawn/pthread", "run_type": "iteration",
            "iterations": 10, "real_time": 1.0, "cpu_time": 1.0, "time_unit": "us"}
    return {**base, **fields}


class LoadRun(TempDirTest):
    def load(self, *entries):
        (self.tmp / "b.json").write_text(json.dumps({"context": {"cores": "2"}, "benchmarks": list(entries)}))
        return load_run(self.tmp)

    def test_times_in_ns_but_cv_stays_a_ratio(self):
        run = self.load(entry(real_time=2.0, items_per_second=5e5),
                        entry(run_type="aggregate", aggregate_name="cv", aggregate_unit="percentage",
                              real_time=0.02, name="spawn/pthread_cv"))
        bench = run.benches["spawn/pthread"]
        self.assertEqual(bench.values("real_time"), [2000.0])
        self.assertEqual(bench.stat("real_time").cv, 0.02)
        self.assertEqual(bench.values("items_per_second"), [5e5])

    def test_median_aggregate_with_the_spread_of_the_repetitions(self):
        run = self.load(entry(real_time=1.0), entry(real_time=3.0), entry(real_time=8.0),
                        entry(run_type="aggregate", aggregate_name="median", real_time=2.5),
                        entry(run_type="aggregate", aggregate_name="stddev", real_time=0.5))
        s = run.benches["spawn/pthread"].stat("real_time")
        self.assertEqual((s.median, s.lo, s.hi, s.n), (2500.0, 1000.0, 8000.0, 3))
        self.assertAlmostEqual(s.cv, 3.6056 / 4, places=4)   # from the samples: no cv aggregate

    def test_aggregates_only_stddev_bars_never_go_below_zero(self):
        run = self.load(entry(run_type="aggregate", aggregate_name="median", real_time=2.5),
                        entry(run_type="aggregate", aggregate_name="stddev", real_time=4.0))
        s = run.benches["spawn/pthread"].stat("real_time")
        self.assertEqual((s.median, s.lo, s.hi), (2500.0, 0.0, 6500.0))

    def test_without_aggregates_error_bars_span_the_repetitions(self):
        run = self.load(entry(real_time=1.0), entry(real_time=3.0), entry(real_time=8.0))
        s = run.benches["spawn/pthread"].stat("real_time")
        self.assertEqual((s.median, s.lo, s.hi), (3000.0, 1000.0, 8000.0))

    def test_error_entries_mark_the_benchmark(self):
        run = self.load(entry(error_occurred=True, error_message="boom"))
        self.assertEqual(run.benches["spawn/pthread"].error, "boom")

    def test_unknown_unit_is_malformed(self):
        with self.assertRaisesRegex(RunError, "unknown time_unit 'fortnights'"):
            self.load(entry(time_unit="fortnights"))

    def test_entry_without_time_is_malformed(self):
        with self.assertRaisesRegex(RunError, "real_time is missing"):
            self.load({"name": "spawn/pthread"})


if __name__ == "__main__":
    unittest.main()
