"""Tests of the fresh-process merge: scripts/merge_processes.py (threadbench_results/
processes.py), and the awk merge of a packed bundle's run.sh (scripts/bundle_run.sh), both
read back by the results loader."""
import json
import shutil
import statistics
import subprocess
import unittest

from support import SCRIPTS, TempDirTest, run_script
from threadbench_results.load import load_files

NAME_A = "channel/seq/impl:threadbench/cap:1024/payload:8/real_time"
NAME_B = "spawn/std_thread/real_time"


def entry(name, rep, reps, real, unit="ns", **counters):
    return {"name": name, "family_index": 0, "per_family_instance_index": 0, "run_name": name,
            "run_type": "iteration", "repetitions": reps, "repetition_index": rep, "threads": 1,
            "iterations": 1000, "real_time": real, "cpu_time": real * 0.9, "time_unit": unit,
            **counters}


def aggregate(name, agg, reps, real):
    """A per-process aggregate as Google Benchmark writes it (the merge must drop it)."""
    return {"name": f"{name}_{agg}", "family_index": 0, "per_family_instance_index": 0,
            "run_name": name, "run_type": "aggregate", "repetitions": reps, "threads": 1,
            "aggregate_name": agg, "aggregate_unit": "percentage" if agg == "cv" else "time",
            "iterations": reps, "real_time": real, "cpu_time": real, "time_unit": "ns"}


# Two processes of 2 repetitions each; process 1 wrote microseconds (converted on merge).
PART0 = {"context": {"machine": "test", "processes": "2", "repetitions": "2"}, "benchmarks": [
    entry(NAME_A, 0, 2, 100.0, items_per_second=10.0), entry(NAME_A, 1, 2, 110.0, items_per_second=9.0),
    *[aggregate(NAME_A, a, 2, 105.0) for a in ("mean", "median", "stddev", "cv")],
    entry(NAME_B, 0, 2, 50.0), entry(NAME_B, 1, 2, 52.0),
    *[aggregate(NAME_B, a, 2, 51.0) for a in ("mean", "median", "stddev", "cv")]]}
PART1 = {"context": {"machine": "test", "processes": "2", "repetitions": "2"}, "benchmarks": [
    entry(NAME_A, 0, 2, 0.130, "us", items_per_second=7.0),
    entry(NAME_A, 1, 2, 0.140, "us", items_per_second=6.0),
    *[aggregate(NAME_A, a, 2, 135.0) for a in ("mean", "median", "stddev", "cv")],
    entry(NAME_B, 0, 2, 0.054, "us"), entry(NAME_B, 1, 2, 0.056, "us")]}
TIMES_A = [100.0, 110.0, 130.0, 140.0]
RATES_A = [10.0, 9.0, 7.0, 6.0]
TIMES_B = [50.0, 52.0, 54.0, 56.0]


class MergeHelpers(TempDirTest):
    def parts(self, *docs):
        paths = []
        for i, doc in enumerate(docs):
            path = self.tmp / f"p{i}.json"
            path.write_text(json.dumps(doc, indent=2))
            paths.append(path)
        return paths

    def merge(self, *docs):
        out = self.tmp / "merged.json"
        result = run_script("merge_processes.py", out, *self.parts(*docs))
        self.assertEqual(result.returncode, 0, result.stderr)
        return out, json.loads(out.read_text())


class MergeTest(MergeHelpers):
    def test_every_repetition_of_every_process_kept_with_its_process_index(self):
        _, doc = self.merge(PART0, PART1)
        runs = [e for e in doc["benchmarks"] if e["run_type"] == "iteration"]
        self.assertEqual([(e["name"], e["process_index"], e["repetition_index"]) for e in runs],
                         [(NAME_A, 0, 0), (NAME_A, 0, 1), (NAME_A, 1, 2), (NAME_A, 1, 3),
                          (NAME_B, 0, 0), (NAME_B, 0, 1), (NAME_B, 1, 2), (NAME_B, 1, 3)])
        self.assertTrue(all(e["repetitions"] == 4 and e["time_unit"] == "ns" for e in runs))
        for got, want in zip([e["real_time"] for e in runs[:4]], TIMES_A):
            self.assertAlmostEqual(got, want)
        self.assertEqual(doc["context"]["processes"], "2")

    def test_aggregates_recomputed_over_all_samples(self):
        _, doc = self.merge(PART0, PART1)
        aggs = {(e["run_name"], e["aggregate_name"]): e for e in doc["benchmarks"]
                if e["run_type"] == "aggregate"}
        self.assertEqual(sorted(aggs), sorted((n, a) for n in (NAME_A, NAME_B)
                                              for a in ("mean", "median", "stddev", "cv")))
        self.assertAlmostEqual(aggs[NAME_A, "median"]["real_time"], statistics.median(TIMES_A))
        self.assertAlmostEqual(aggs[NAME_A, "mean"]["real_time"], statistics.mean(TIMES_A))
        self.assertAlmostEqual(aggs[NAME_A, "stddev"]["real_time"], statistics.stdev(TIMES_A))
        self.assertAlmostEqual(aggs[NAME_A, "cv"]["real_time"],
                               statistics.stdev(TIMES_A) / statistics.mean(TIMES_A))
        self.assertAlmostEqual(aggs[NAME_A, "median"]["items_per_second"], statistics.median(RATES_A))
        self.assertAlmostEqual(aggs[NAME_B, "median"]["real_time"], statistics.median(TIMES_B))
        self.assertEqual(aggs[NAME_A, "cv"]["aggregate_unit"], "percentage")
        self.assertTrue(all(a["repetitions"] == 4 and a["iterations"] == 4 for a in aggs.values()))

    def test_the_loader_reads_the_merged_file(self):
        out, _ = self.merge(PART0, PART1)
        run = load_files([out], self.tmp)
        a = run.benches[NAME_A]
        self.assertEqual(len(a.samples), 4)
        stat = a.stat("real_time")
        self.assertAlmostEqual(stat.median, statistics.median(TIMES_A))
        self.assertEqual((stat.lo, stat.hi, stat.n), (100.0, 140.0, 4))
        self.assertEqual(run.context["processes"], ["2"])

    def test_one_sample_gets_no_aggregates(self):
        _, doc = self.merge({"context": {}, "benchmarks": [entry(NAME_B, 0, 1, 50.0)]})
        self.assertEqual([(e["run_type"], e["process_index"]) for e in doc["benchmarks"]],
                         [("iteration", 0)])
        self.assertEqual(doc["context"]["processes"], "1")

    def test_bad_input_fails_with_one_line_and_clobbers_nothing(self):
        parts = self.parts(PART0)
        out = self.tmp / "exists.json"
        out.write_text("keep")
        self.assertFailsCleanly(run_script("merge_processes.py", out, *parts), "already exists")
        self.assertEqual(out.read_text(), "keep")
        bad = self.tmp / "bad.json"
        bad.write_text("{not json")
        self.assertFailsCleanly(run_script("merge_processes.py", self.tmp / "new.json", bad),
                                "bad.json", "not readable JSON")
        self.assertFalse((self.tmp / "new.json").exists())


@unittest.skipUnless(shutil.which("sh") and shutil.which("awk"), "needs sh and awk")
class BundleMergeTest(MergeHelpers):
    """The bundle's awk merge (no python on the target machine): the same samples and
    process indexes as merge_processes.py, the per-process aggregates dropped."""

    def awk_merge(self, *docs):
        text = (SCRIPTS / "bundle_run.sh").read_text()
        start = text.index("merge_parts() {")
        function = text[start:text.index("\n}\n", start) + 3]
        out = self.tmp / "bundle.json"
        subprocess.run(["sh", "-c", function + 'merge_parts "$@"', "sh", str(out),
                        *map(str, self.parts(*docs))], check=True, timeout=60)
        return out, json.loads(out.read_text())

    def test_same_samples_as_the_python_merge(self):
        _, py = self.merge(PART0, PART1)
        _, sh = self.awk_merge(PART0, PART1)
        unit = {"ns": 1.0, "us": 1e3}

        def rows(doc):
            return [(e["name"], e["process_index"], e["repetition_index"], e["repetitions"],
                     round(e["real_time"] * unit[e["time_unit"]], 6))
                    for e in doc["benchmarks"] if e["run_type"] == "iteration"]
        self.assertEqual(rows(sh), rows(py))
        self.assertTrue(all(e["run_type"] == "iteration" for e in sh["benchmarks"]))
        self.assertEqual(sh["context"]["processes"], "2")   # from --benchmark_context

    def test_the_loader_reads_the_bundle_merge(self):
        same_unit = json.loads(json.dumps(PART1).replace('"us"', '"ns"'))
        for e in same_unit["benchmarks"]:
            e["real_time"] *= 1000 if e["run_type"] == "iteration" else 1
        out, doc = self.awk_merge(PART0, same_unit)
        run = load_files([out], self.tmp)
        a = run.benches[NAME_A]
        self.assertEqual([e["process_index"] for e in a.samples], [0, 0, 1, 1])
        self.assertEqual(a.aggregates, {})
        self.assertAlmostEqual(a.stat("real_time").median, statistics.median(TIMES_A))


if __name__ == "__main__":
    unittest.main()
