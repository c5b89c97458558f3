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
        values = [100, 103, 98, 101, 99, 102, 97, 100]   # 8 a side: UNCLEAR from the interval, not too_few
        est = interval.ratio(bench("r", values), bench("r", values), "real_time", tags=("new", "base"))
        self.assertFalse(interval.too_few(est))
        lo, hi = est.interval()
        self.assertEqual(est.value, 1.0)
        self.assertLess(lo, 1.0)
        self.assertGreater(hi, 1.0)
        for op, target in ((">=", 1.0), ("<=", 1.0)):
            self.assertEqual(interval.verdict(est, op, target), "UNCLEAR")

    def test_clearly_different_samples_pass_or_miss(self):
        fast = bench("f", [100, 101, 99, 102, 100, 98, 101, 99])
        slow = bench("s", [200, 203, 198, 201, 199, 202, 197, 200])
        est = interval.ratio(slow, fast, "real_time")    # about 2, 8 samples a side
        self.assertEqual(est.counts, (8, 8))
        self.assertFalse(interval.too_few(est))
        self.assertEqual(interval.verdict(est, ">=", 1.5), "PASS")
        self.assertEqual(interval.verdict(est, ">=", 3.0), "MISS")
        self.assertEqual(interval.verdict(est, "<=", 1.5), "MISS")
        self.assertEqual(interval.verdict(est.inverse(), "<=", 0.6), "PASS")

    def test_clear_difference_from_three_samples_a_side_is_unclear(self):
        """The same 2x from 3 samples a side: its interval lies wholly above 1.5, but the
        ranges of 3 samples hold both medians with probability (3/4)^2 = 56.25% only, so a
        95% verdict cannot be claimed either way."""
        est = interval.ratio(bench("s", [200, 203, 198]), bench("f", [100, 101, 99]), "real_time")
        lo, hi = est.interval()
        self.assertTrue(1.5 < lo <= hi < 3.0, (lo, hi))
        self.assertTrue(interval.too_few(est))
        for op, target in ((">=", 1.5), (">=", 3.0), ("<=", 1.5)):
            self.assertEqual(interval.verdict(est, op, target), "UNCLEAR")
        self.assertEqual(interval.verdict(est.inverse(), "<=", 0.6), "UNCLEAR")
        self.assertEqual(interval.verdict(est, ">=", 1.5, level=0.5), "PASS")   # 56.25% suffices for 50%
        # goals.py says why, and what would settle it
        from threadbench_results import goals
        note = goals._settle(est, interval.LEVEL, None, "x")
        self.assertEqual(note, "too few samples for a 95.00% interval: 1x3 / 1x3 (processes x repetitions) "
                               "can claim at most 56.2%; settle: at least 7 samples a row "
                               "(bench.sh --processes / --repetitions)")

    def test_max_level_of_few_samples(self):
        """max_level: the product over rows of 1 - 2^(1-n), the chance that every row's sample
        range holds its median; samples_needed: the fewest a row that reach a level."""
        three = interval.ratio(bench("a", [100, 101, 99]), bench("b", [50, 51, 49]), "real_time")
        self.assertEqual(three.counts, (3, 3))
        self.assertAlmostEqual(three.max_level(), 0.5625)
        self.assertEqual(three.inverse().counts, (3, 3))   # inverse keeps the counts
        self.assertAlmostEqual(three.inverse().max_level(), 0.5625)
        five = interval.ratio(bench("a", [100, 101, 99, 102, 98]), bench("b", [50, 51, 49, 52, 48]), "real_time")
        self.assertAlmostEqual(five.max_level(), (1 - 2 ** -4) ** 2)      # 87.9%: still short of 95%
        self.assertTrue(interval.too_few(five))
        six = interval.ratio(bench("a", [100] * 6), bench("b", [50] * 6), "real_time")
        self.assertLess(six.max_level(), 0.95)
        self.assertTrue(interval.too_few(six))
        seven = interval.ratio(bench("a", [100 + i for i in range(7)]), bench("b", [50 + i for i in range(7)]),
                               "real_time")
        self.assertEqual(seven.counts, (7, 7))
        self.assertGreaterEqual(seven.max_level(), 0.95)                   # (63/64)^2 = 96.9%
        self.assertAlmostEqual(seven.max_level(), (63 / 64) ** 2)
        self.assertFalse(interval.too_few(seven))
        self.assertTrue(interval.too_few(seven, 0.975))                    # a goal over 2 rows: 97.5% each
        # samples_needed: every row that many
        self.assertEqual(three.samples_needed(0.95), 7)
        self.assertEqual(seven.samples_needed(0.95), 7)
        self.assertEqual(three.samples_needed(0.975), 8)
        self.assertEqual(three.samples_needed(0.5), 3)
        one_row = interval.estimate([(bench("c", [1, 2, 3]), "real_time", "")], lambda x: x)
        self.assertEqual(one_row.counts, (3,))
        self.assertAlmostEqual(one_row.max_level(), 0.75)
        self.assertEqual(one_row.samples_needed(0.95), 6)                  # 1 - 2^-5 = 96.9%
        # samples over several processes add up: 2 processes x 4 repetitions = 8 a row
        eight = interval.ratio(bench("p", [100, 101, 99, 100, 130, 131, 129, 130], processes=[0] * 4 + [1] * 4),
                               bench("q", [50 + i for i in range(8)]), "real_time")
        self.assertEqual(eight.counts, (8, 8))
        self.assertFalse(interval.too_few(eight, 0.975))
        # an estimate made of other estimates (a geomean over rows) has no counts: no bound
        self.assertEqual(interval.geomean([three, three]).max_level(), 1.0)

    def test_straddling_the_target_is_unclear(self):
        est = interval.ratio(bench("a", [100, 130, 90, 120, 95, 125, 92, 115]),
                             bench("b", [100, 110, 95, 105, 98, 108, 96, 103]), "real_time")
        self.assertFalse(interval.too_few(est))   # 8 a side: UNCLEAR because it straddles
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
