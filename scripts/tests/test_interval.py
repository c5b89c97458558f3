"""interval.py: the bootstrap intervals every ratio carries, and the three-way verdicts on them."""
import math
import random
import unittest

import support  # noqa: F401  (first: it puts scripts/ on the import path)
from threadbench_results import interval  # noqa: E402
from threadbench_results.load import Bench  # noqa: E402


def bench(name, values, processes=None, metric="real_time"):
    """A Bench whose samples are values (ns); processes[i] names sample i's process."""
    b = Bench(name, "spawn", name, {})
    for i, v in enumerate(values):
        e = {"name": name, "run_type": "iteration", metric: float(v), "threadbench_file": "a.json"}
        if processes:
            e["process_index"] = processes[i]
        b.samples.append(e)
    return b


def lognormal(rng, median, sigma, n):
    return [median * math.exp(rng.gauss(0, sigma)) for _ in range(n)]


class Intervals(unittest.TestCase):
    def test_interval_contains_the_truth_on_synthetic_data(self):
        """Lognormal samples with a known ratio of medians (2.0): the 95% interval holds it in
        about 95% of independent data sets (at least 85% of 60 here, 10 samples a side)."""
        rng = random.Random(7)
        hits = 0
        for trial in range(60):
            a = bench(f"a{trial}", lognormal(rng, 2000, 0.1, 10))
            b = bench(f"b{trial}", lognormal(rng, 1000, 0.1, 10))
            lo, hi = interval.ratio(a, b, "real_time").interval()
            hits += lo <= 2.0 <= hi
        self.assertGreaterEqual(hits, 51, hits)

    def test_same_input_same_interval(self):
        rng = random.Random(1)
        xs, ys = lognormal(rng, 10, 0.2, 6), lognormal(rng, 12, 0.2, 6)
        first = interval.ratio(bench("x", xs), bench("y", ys), "real_time").interval()
        interval.resampled_medians.cache_clear()
        self.assertEqual(interval.ratio(bench("x", xs), bench("y", ys), "real_time").interval(), first)

    def test_identical_samples_give_an_interval_holding_1(self):
        values = [100, 103, 98, 101, 99]
        est = interval.ratio(bench("r", values), bench("r", values), "real_time", tags=("new", "base"))
        lo, hi = est.interval()
        self.assertEqual(est.value, 1.0)
        self.assertLess(lo, 1.0)
        self.assertGreater(hi, 1.0)
        for op, target in ((">=", 1.0), ("<=", 1.0)):
            self.assertEqual(interval.verdict(est, op, target), "UNCLEAR")

    def test_clearly_different_samples_pass_or_miss(self):
        fast, slow = bench("f", [100, 101, 99, 102, 100]), bench("s", [200, 203, 198, 201, 199])
        est = interval.ratio(slow, fast, "real_time")    # about 2
        self.assertEqual(interval.verdict(est, ">=", 1.5), "PASS")
        self.assertEqual(interval.verdict(est, ">=", 3.0), "MISS")
        self.assertEqual(interval.verdict(est, "<=", 1.5), "MISS")
        self.assertEqual(interval.verdict(est.inverse(), "<=", 0.6), "PASS")

    def test_straddling_the_target_is_unclear(self):
        est = interval.ratio(bench("a", [100, 130, 90, 120, 95]), bench("b", [100, 110, 95, 105, 98]), "real_time")
        lo, hi = est.interval()
        self.assertLess(lo, 1.05)
        self.assertGreater(hi, 1.05)
        self.assertEqual(interval.verdict(est, ">=", 1.05), "UNCLEAR")

    def test_one_sample_a_side_has_no_interval(self):
        est = interval.ratio(bench("a", [300]), bench("b", [100, 101, 99]), "real_time")
        self.assertEqual(est.value, 3.0)
        self.assertIsNone(est.interval())
        self.assertEqual(interval.verdict(est, ">=", 1.0), "UNCLEAR")
        self.assertEqual(interval.fmt_interval(est), "1 repetition: sanity check only")

    def test_processes_are_resampled_as_a_level_of_their_own(self):
        """Two processes that disagree (a placement effect): the two-level interval is wider
        than the one that pretends the ten samples came from one process."""
        values = [100, 101, 99, 100, 102, 130, 131, 129, 130, 132]
        flat = bench("p", values)
        nested = bench("p", values, processes=[0] * 5 + [1] * 5)
        base = bench("q", [100, 101, 99, 100, 102, 101, 100, 99, 101, 100])
        self.assertEqual(interval.groups(nested, "real_time")[1], (130.0, 131.0, 129.0, 130.0, 132.0))
        self.assertEqual(interval.shape(interval.groups(nested, "real_time")), "2x5")
        w_flat = (lambda iv: iv[1] - iv[0])(interval.ratio(flat, base, "real_time").interval())
        w_nested = (lambda iv: iv[1] - iv[0])(interval.ratio(nested, base, "real_time").interval())
        self.assertGreater(w_nested, w_flat)

    def test_geomean_interval(self):
        rows = [interval.ratio(bench(f"n{i}", [200, 202, 198, 201, 199]), bench(f"b{i}", [100, 101, 99, 100, 102]),
                               "real_time") for i in range(5)]
        geo = interval.geomean(rows)
        lo, hi = geo.interval()
        self.assertAlmostEqual(geo.value, 2.0, delta=0.02)
        self.assertTrue(1.9 < lo <= geo.value <= hi < 2.1, (lo, hi))


if __name__ == "__main__":
    unittest.main()
