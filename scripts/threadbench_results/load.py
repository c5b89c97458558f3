"""Load one results run (the Google Benchmark JSON files of results/<run-id>/): benchmarks
by name ('family/scenario/key:value/...', read by names.py), contenders and their languages.

A run may hold peers in other languages (bench.sh writes rust_bench.json and
go_bench.json next to the C++ JSON): the same names and JSON shape, with a context key
`language`. Their benchmarks carry that language, and their labels name it ('rust:crossbeam',
'go:chan'); the C++ ones keep their plain names.
"""
import json
import statistics
from collections import namedtuple
from dataclasses import dataclass, field
from pathlib import Path

from .cli import RunError
from .interval import process_of
from .names import parse_name

NS_PER_UNIT = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
# Numeric entry fields that are bookkeeping; every other numeric field is a measurement.
BOOKKEEPING = {"family_index", "per_family_instance_index", "repetitions", "repetition_index",
               "threads", "iterations", "cpu_time", "process_index", "threadbench_process"}
NATIVE = "c++"   # the language of a file whose context names none


def value_order(value):
    """Sort key for key values: numbers in numeric order, then words ('unbounded', 'boxed')."""
    try:
        return (0, float(value), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(value))


def peer_label(name, language):
    """A contender's label: C++ names as they are; a peer's with its language in front and
    the language's own prefix dropped: ('crossbeam', 'rust') -> 'rust:crossbeam',
    ('rust_std', 'rust') -> 'rust:std', ('go_chan', 'go') -> 'go:chan'."""
    if not language or language == NATIVE:
        return name
    prefix = f"{language}_"
    return f"{language}:{name[len(prefix):] if name.startswith(prefix) else name}"


Stat = namedtuple("Stat", "median lo hi cv n")


@dataclass
class Bench:
    """One benchmark: its repetitions, its aggregates, times in ns."""
    name: str
    family: str
    scenario: str
    keys: dict
    language: str = NATIVE
    samples: list = field(default_factory=list)     # iteration entries, one per repetition and process
    aggregates: dict = field(default_factory=dict)  # aggregate_name -> entry
    error: str = None

    @property
    def contender(self):
        """Who this benchmark measures: its impl key, else (spawn, pool) its scenario; with
        the language named for peers ('rust:crossbeam', 'go:workers')."""
        return peer_label(self.keys.get("impl", self.scenario), self.language)

    @property
    def is_peer(self):
        return self.language != NATIVE

    def sort_key(self):
        return (self.scenario, [(k, value_order(v)) for k, v in self.keys.items()])

    def metrics(self):
        """Measured fields in entry order: real_time, items_per_second, user counters."""
        entry = self.samples[0] if self.samples else self.aggregates.get("median", {})
        return [k for k, v in entry.items()
                if k not in BOOKKEEPING and isinstance(v, (int, float)) and not isinstance(v, bool)]

    def values(self, metric):
        return [e[metric] for e in self.samples if metric in e]

    def stat(self, metric):
        """Median, error-bar bounds (min/max of the repetitions, else median +- the stddev
        aggregate, floored at 0), coefficient of variation and repetition count; None if
        not measured. min/max first: it is the real spread, and never below 0 for skewed
        metrics such as a p99.9 (median - stddev can be, which breaks a log axis).
        Aggregates describe one process's repetitions: when the samples come from several
        processes (merged files), the median and cv are over every sample instead."""
        xs = self.values(metric)
        agg = {name: e[metric] for name, e in self.aggregates.items() if metric in e}
        if len({process_of(e) for e in self.samples}) > 1:
            agg = {}
        median = agg.get("median", statistics.median(xs) if xs else None)
        if median is None:
            return None
        if xs:
            lo, hi = min(xs), max(xs)
        elif "stddev" in agg:
            lo, hi = max(median - agg["stddev"], 0.0), median + agg["stddev"]
        else:
            lo = hi = median
        cv = agg.get("cv")
        if cv is None and len(xs) > 1 and statistics.mean(xs):
            cv = statistics.stdev(xs) / statistics.mean(xs)
        n = len(xs) or max(e.get("repetitions", 1) for e in self.aggregates.values())
        return Stat(median, lo, hi, cv, n)

    def median(self, metric):
        """The median of metric, or None when the benchmark failed or lacks it."""
        if self.error:
            return None
        s = self.stat(metric)
        return None if s is None else s.median

    def matches(self, family, scenario=None, **keys):
        """True if this is family[/scenario] with every given key equal (values compared as
        text, so cap=1024 and cap='1024' are the same); language='rust' matches the language."""
        language = keys.pop("language", None)
        return (self.family == family and (scenario is None or self.scenario == scenario)
                and (language is None or self.language == language)
                and all(self.keys.get(k) == str(v) for k, v in keys.items()))


@dataclass
class Run:
    path: Path
    files: list
    context: dict    # key -> distinct values across files, as strings
    benches: dict    # name -> Bench, in file order
    contexts: list = field(default_factory=list)   # (file name, raw context dict) per file

    def select(self, family, scenario=None, **keys):
        """Every benchmark of family (and scenario) whose keys include the given ones."""
        return [b for b in self.benches.values() if b.matches(family, scenario, **dict(keys))]

    def find(self, family, scenario, **keys):
        """The one benchmark family/scenario with these keys; None if there is none.
        Raises LookupError when the keys match several (name more keys)."""
        found = self.select(family, scenario, **keys)
        if len(found) > 1:
            raise LookupError(f"{family}/{scenario} {keys} matches {len(found)} benchmarks")
        return found[0] if found else None


def _entry(entry, where):
    """Check one benchmark entry and return it with real_time/cpu_time in ns."""
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise RunError(f"{where}: a benchmark entry has no name")
    unit = entry.get("time_unit", "ns")
    if unit not in NS_PER_UNIT:
        raise RunError(f"{where}: {entry['name']}: unknown time_unit '{unit}'")
    if not isinstance(entry.get("real_time"), (int, float)):
        raise RunError(f"{where}: {entry['name']}: real_time is missing or not a number")
    entry = dict(entry)
    if entry.get("aggregate_unit") != "percentage":   # cv holds ratios, not times
        for key in ("real_time", "cpu_time"):
            if isinstance(entry.get(key), (int, float)):
                entry[key] *= NS_PER_UNIT[unit]
    entry["time_unit"] = "ns"
    return entry


def context_text(value):
    """A context value as the Machine table prints it ('' for nested objects)."""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value if not isinstance(v, (dict, list)))
    return "" if isinstance(value, dict) else str(value)


def run_files(path):
    """The *.json files of a run folder, sorted; raises RunError if there are none."""
    path = Path(path)
    if not path.is_dir():
        raise RunError(f"{path}: no such run folder")
    files = sorted(path.glob("*.json"))
    if not files:
        raise RunError(f"{path}: no Google Benchmark JSON files (*.json) in the run folder")
    return files


def json_files(args):
    """The JSON files named on a command line: a folder stands for its *.json files."""
    files = []
    for arg in args:
        p = Path(arg)
        if p.is_dir():
            files += run_files(p)
        elif p.is_file():
            files.append(p)
        else:
            raise RunError(f"{p}: no such file or folder")
    return files


def load_run(path):
    """Read every *.json in a run folder; raises RunError on anything unusable."""
    return load_files(run_files(path), Path(path))


def load_files(files, path):
    """Read the given Google Benchmark JSON files as one run found at path (a folder, or
    where the files were named); raises RunError on anything unusable."""
    files = [Path(f) for f in files]
    context, benches, contexts = {}, {}, []
    for file in files:
        try:
            doc = json.loads(file.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise RunError(f"{file}: not readable JSON ({e})") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("benchmarks"), list):
            raise RunError(f"{file}: not Google Benchmark JSON (no 'benchmarks' list)")
        if not doc["benchmarks"]:
            raise RunError(f"{file}: has no benchmarks")
        raw = doc.get("context") if isinstance(doc.get("context"), dict) else {}
        contexts.append((file.name, raw))
        language = str(raw.get("language") or NATIVE).lower()
        for key, value in raw.items():
            text = context_text(value)
            if key != "executable" and text and text not in context.setdefault(key, []):
                context[key].append(text)
        for raw_entry in doc["benchmarks"]:
            entry = _entry(raw_entry, file)
            name = entry.get("run_name", entry["name"])
            if name not in benches:
                benches[name] = Bench(name, *parse_name(name), language=language)
            bench = benches[name]
            if entry.get("error_occurred"):
                bench.error = entry.get("error_message", "error")
            elif entry.get("run_type") == "aggregate":
                bench.aggregates[entry.get("aggregate_name", "")] = entry
            else:
                entry["threadbench_file"] = file.name   # the process it ran in (interval.process_of)
                bench.samples.append(entry)
    context = {k: v for k, v in context.items() if v}
    return Run(path, files, context, benches, contexts)
