"""Merge the part files of one benchmark program run in several fresh processes into one
Google Benchmark JSON file, the file the rest of the tooling reads.

A process's placement (its cores, its memory layout) is baked into every repetition it
runs, so scripts/bench.sh runs each program in N fresh processes (--processes N, JMH's forks,
pyperf's workers), each writing a part file of R repetitions. The merge keeps every
repetition of every process:

  - iteration entries (run_type "iteration", errors included) come out per benchmark in
    process order, each with "process_index" (0-based, the part's place on the command
    line), "repetition_index" numbered 0..S-1 across all of that benchmark's samples and
    "repetitions" = S, the number of samples (processes x repetitions);
  - the parts' own aggregates (mean, median, stddev and cv of one process) are dropped and
    mean, median, stddev and cv are recomputed over all S samples, as Google Benchmark
    computes them (sample stddev; cv = stddev / mean, a ratio), for real_time, cpu_time and
    every numeric counter; a benchmark with fewer than 2 samples gets none, as Google
    Benchmark writes none for 1 repetition. Statistics are taken over the per-iteration
    times of each sample (the processes may have picked different iteration counts);
  - the context is the first part's, with "processes" = the number of parts.

Standard library only: the peers' run.sh use it with any python3.
"""
import json
import math
import os
import statistics
from pathlib import Path

from .cli import RunError

AGGREGATES = ("mean", "median", "stddev", "cv")
# Numeric entry fields that describe the run rather than measure it: never aggregated.
BOOKKEEPING = {"family_index", "per_family_instance_index", "repetitions", "repetition_index",
               "threads", "iterations", "process_index"}
NS_PER_UNIT = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _stat(name, xs):
    """One aggregate over the samples xs, as Google Benchmark's statistics.cc computes it."""
    if name == "mean":
        return statistics.fmean(xs)
    if name == "median":
        return statistics.median(xs)
    stddev = statistics.stdev(xs) if len(xs) > 1 else 0.0
    if name == "stddev":
        return stddev
    mean = statistics.fmean(xs)
    return stddev / mean if mean else 0.0


def _aggregates(samples):
    """The mean/median/stddev/cv entries over samples (iteration entries without error,
    times already in samples[0]'s unit)."""
    first = samples[0]
    measured = [k for k, v in first.items() if is_number(v) and k not in BOOKKEEPING]
    out = []
    for name in AGGREGATES:
        entry = {"name": f"{first['run_name']}_{name}"}
        for key in ("family_index", "per_family_instance_index", "run_name"):
            if key in first:
                entry[key] = first[key]
        entry.update(run_type="aggregate", repetitions=len(samples),
                     threads=first.get("threads", 1), aggregate_name=name,
                     aggregate_unit="percentage" if name == "cv" else "time",
                     iterations=len(samples))
        for key in measured:
            xs = [s[key] for s in samples if is_number(s.get(key))]
            if key in ("real_time", "cpu_time") or xs:
                entry[key] = _stat(name, xs) if xs else 0.0
            if key == "cpu_time":
                entry["time_unit"] = first.get("time_unit", "ns")
        if "label" in first:
            entry["label"] = first["label"]
        out.append(entry)
    return out


def _in_unit(entry, unit):
    """entry with real_time/cpu_time converted to unit (a part may have written another)."""
    have = entry.get("time_unit", "ns")
    if have == unit:
        return entry
    if have not in NS_PER_UNIT or unit not in NS_PER_UNIT:
        raise RunError(f"{entry.get('name')}: unknown time_unit '{have}' or '{unit}'")
    entry = dict(entry)
    for key in ("real_time", "cpu_time"):
        if is_number(entry.get(key)):
            entry[key] *= NS_PER_UNIT[have] / NS_PER_UNIT[unit]
    entry["time_unit"] = unit
    return entry


def merge_docs(docs):
    """docs: the parsed part files in process order. Returns the merged document."""
    if not docs:
        raise RunError("no part files to merge")
    order, runs = [], {}   # run_name -> [(process_index, entry)], in first-seen order
    for index, doc in enumerate(docs):
        if not isinstance(doc, dict) or not isinstance(doc.get("benchmarks"), list):
            raise RunError(f"part {index}: not Google Benchmark JSON (no 'benchmarks' list)")
        for entry in doc["benchmarks"]:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise RunError(f"part {index}: a benchmark entry has no name")
            if entry.get("run_type") == "aggregate":
                continue
            name = entry.get("run_name", entry["name"])
            if name not in runs:
                order.append(name)
                runs[name] = []
            runs[name].append((index, entry))
    benchmarks = []
    for name in order:
        unit = runs[name][0][1].get("time_unit", "ns")
        merged = []
        for n, (index, entry) in enumerate(runs[name]):
            entry = _in_unit(entry, unit)
            entry.update(repetitions=len(runs[name]), repetition_index=n, process_index=index)
            entry.setdefault("run_name", name)
            merged.append(entry)
        benchmarks += merged
        samples = [e for e in merged if not e.get("error_occurred")]
        if len(samples) > 1:
            benchmarks += _aggregates(samples)
    context = dict(docs[0].get("context") or {})
    context["processes"] = str(len(docs))
    return {"context": context, "benchmarks": benchmarks}


def merge_files(parts):
    """Read the part files (paths, in process order) and merge them."""
    docs = []
    for part in parts:
        try:
            with open(part) as f:
                docs.append(json.load(f))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise RunError(f"{part}: not readable JSON ({e})") from None
    try:
        return merge_docs(docs)
    except RunError as e:
        raise RunError(f"{e} (parts: {', '.join(map(str, parts))})") from None


def dumps(doc):
    """The merged document as text: Google Benchmark's layout (2-space indent), finite
    numbers only (JSON has no NaN)."""
    def finite(value):
        if isinstance(value, float) and not math.isfinite(value):
            return 0.0
        if isinstance(value, dict):
            return {k: finite(v) for k, v in value.items()}
        if isinstance(value, list):
            return [finite(v) for v in value]
        return value
    return json.dumps(finite(doc), indent=2) + "\n"


def write_merged(out, parts):
    """Merge the part files into the new file out (merge_processes.py): written whole or not
    at all (a temporary file beside it, then a rename), never over an existing file. Raises
    RunError when out exists, its folder does not, or a part cannot be merged."""
    out = Path(out)
    if out.exists():
        raise RunError(f"{out} already exists: nothing was overwritten")
    if not out.parent.is_dir():
        raise RunError(f"no folder {out.parent} for {out}")
    text = dumps(merge_files(parts))
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, out)
