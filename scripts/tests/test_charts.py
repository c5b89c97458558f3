"""Charts that read at a glance: no title or label drawn over another, no error bar on a row
with one repetition, payloads as categories, the capture chart's legend clear of its lines,
and the ping_pong limit line labelled with what it is (and why a bar may sit below it)."""
import json
import math
import shutil
import unittest
from pathlib import Path
from unittest import mock

from support import PEERS, TESTS, TempDirTest, write_run
from threadbench_results import charts  # noqa: E402
from threadbench_results.kinds import classify  # noqa: E402
from threadbench_results.load import Stat, load_run  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.container import BarContainer, ErrorbarContainer  # noqa: E402



def figures(run_dir, out):
    """Every chart of a run, drawn but not written: png name -> matplotlib figure."""
    kinds, _ = classify(load_run(run_dir).benches.values())
    drawn = {}
    with mock.patch.object(charts, "save", lambda fig, path: drawn.__setitem__(Path(path).name, fig)):
        charts.draw_all(kinds, Path(out))
    return drawn


def _overlap(a, b, slack=1.0):
    """Two display boxes that share more than slack pixels each way."""
    return a.x0 + slack < b.x1 and b.x0 + slack < a.x1 and a.y0 + slack < b.y1 and b.y0 + slack < a.y1


def _texts(texts):
    return [t for t in texts if t.get_visible() and t.get_text().strip()]


def collisions(fig):
    """The pairs of texts (and legends / panels) that overlap, as readable strings."""
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    box = lambda artist: artist.get_window_extent(r)   # noqa: E731
    out = []
    axes = [ax for ax in fig.axes if ax.get_visible()]
    suptitle = fig._suptitle
    labels = {}   # axis -> its title, axis labels and tick labels
    for ax in axes:
        labels[ax] = _texts([ax.title, ax.xaxis.label, ax.yaxis.label, *ax.get_xticklabels(), *ax.get_yticklabels()])
    for ax in axes:
        for t in labels[ax]:
            if suptitle is not None and _overlap(box(suptitle), box(t)):
                out.append(f"figure title over {t.get_text()!r}")
        ticks = _texts(ax.get_xticklabels())
        for i, a in enumerate(ticks):
            for b in ticks[i + 1:]:
                if _overlap(box(a), box(b)):
                    out.append(f"x labels {a.get_text()!r} and {b.get_text()!r}")
        for other in axes:
            if other is not ax:
                for t in _texts([ax.title]):
                    for u in labels[other]:
                        if _overlap(box(t), box(u)):
                            out.append(f"title {t.get_text()!r} over {u.get_text()!r}")
    for legend in fig.legends:
        for ax in axes:
            if _overlap(box(legend), ax.get_tightbbox(r)):
                out.append("legend over a panel")
        for t in _texts(fig.texts):
            if _overlap(box(legend), box(t)):
                out.append("legend over the note")
    if suptitle is not None:
        for ax in axes:
            if _overlap(box(suptitle), ax.get_window_extent(r)):
                out.append("figure title over a panel")
    return out


class SampleCharts(TempDirTest):
    def setUp(self):
        super().setUp()
        run = self.sample_copy()
        for f in PEERS.glob("*.json"):
            shutil.copy(f, run)
        self.figs = figures(run, self.tmp)
        self.addCleanup(plt.close, "all")

    def test_nothing_overlaps(self):
        self.assertEqual(sorted(self.figs), sorted(("spawn.png", "capture.png", "refcount.png", "channel_throughput.png",
                                                    "channel_payload.png", "channel_latency.png", "pool.png")))
        for name, fig in self.figs.items():
            with self.subTest(chart=name):
                self.assertEqual(collisions(fig), [])

    def test_capture_legend_is_outside_the_data(self):
        fig = self.figs["capture.png"]
        self.assertEqual([ax.get_legend() for ax in fig.axes], [None] * len(fig.axes))
        self.assertEqual(len(fig.legends), 1)
        # one panel per implementation, at most one line per capture mode (4) in each
        self.assertEqual(len(fig.axes), 2)
        for ax in fig.axes:
            self.assertLessEqual(sum(isinstance(c, ErrorbarContainer) for c in ax.containers), 4)

    def test_payloads_are_categories_not_a_line(self):
        fig = self.figs["channel_payload.png"]
        for ax in fig.axes:
            self.assertEqual([t.get_text() for t in ax.get_xticklabels()], ["8 B", "1 KiB", "boxed"])
            self.assertTrue(any(isinstance(c, BarContainer) for c in ax.containers))
            # no line runs through the data: the only lines are the rules between categories
            self.assertFalse([c for c in ax.containers if isinstance(c, ErrorbarContainer) and c.lines[0]])
            drawn = [line for line in ax.get_lines() if line.get_linestyle() not in ("None", "none", "", " ")]
            self.assertTrue(drawn)
            self.assertTrue(all(len(set(line.get_xdata())) == 1 for line in drawn))

    def test_latency_panels_share_the_time_axis_and_the_limit_says_what_it_is(self):
        fig = self.figs["channel_latency.png"]
        limits = {ax.get_xlim() for ax in fig.axes}
        self.assertEqual(len(limits), 1, limits)
        labels = [t.get_text() for t in fig.legends[0].get_texts()]
        self.assertTrue(any(l.startswith("atomic_spin p50 (") and "two threads on two cores handing one cache "
                            "line back and forth" in l for l in labels), labels)

    def test_every_reference_line_is_labelled(self):
        for name, fig in self.figs.items():
            for ax in fig.axes:
                for line in ax.get_lines():
                    xs, ys = line.get_xdata(), line.get_ydata()
                    horizontal = len(ys) == 2 and ys[0] == ys[1] and list(xs) == [0, 1]
                    vertical = len(xs) == 2 and xs[0] == xs[1] and list(ys) == [0, 1]
                    if horizontal or (vertical and name != "channel_payload.png"):
                        with self.subTest(chart=name):
                            self.assertFalse(line.get_label().startswith("_"), line.get_label())


class BelowTheLimit(TempDirTest):
    def test_a_bar_below_the_limit_is_starred_and_explained(self):
        run = self.sample_copy()
        go = json.loads((PEERS / "go_bench.json").read_text())
        for e in go["benchmarks"]:
            if "ping_pong" in e["name"]:
                for k in ("p50_ns", "p99_ns", "p999_ns"):
                    if k in e:
                        e[k] /= 100   # far below the sample's atomic_spin round trip
        (run / "go_bench.json").write_text(json.dumps(go))
        fig = figures(run, self.tmp)["channel_latency.png"]
        self.addCleanup(plt.close, "all")
        ticks = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()]
        self.assertIn("go:chan*", ticks)
        note = " ".join(t.get_text() for t in fig.texts).replace("\n", " ")
        self.assertIn("* go:chan: p50 below the atomic_spin line", note)
        self.assertIn("need not cross cores", note)
        self.assertEqual(collisions(fig), [])

    def test_note_for_other_contenders(self):
        self.assertIn("atomic_spin needs two free cores", charts.below_limit_note(["mutex_deque"])[0])
        self.assertEqual(charts.below_limit_note([]), [])


class ErrorBars(TempDirTest):
    def test_one_repetition_has_no_error_bar(self):
        one, three = Stat(10.0, 10.0, 10.0, None, 1), Stat(10.0, 9.0, 12.0, 0.1, 3)
        self.assertIsNone(charts.error_bars([one, one]))
        below, above = charts.error_bars([one, three])
        self.assertTrue(math.isnan(below[0]) and math.isnan(above[0]))
        self.assertEqual((below[1], above[1]), (1.0, 2.0))

    def capture_run(self, folder, reps):
        times = {"spawn/std_thread/real_time": 40e3, "spawn/pthread/real_time": 35e3}
        for mode in ("move", "copy"):
            for size in (64, 1024, 65536):
                times[f"capture/{mode}/impl:thread/size:{size}/real_time"] = 40e3 + size
        return write_run(folder, times, reps=reps)

    def test_charts_of_one_repetition_rows_draw_no_caps(self):
        for reps, has_bars in ((1, False), (3, True)):
            with self.subTest(reps=reps):
                figs = figures(self.capture_run(self.tmp / f"r{reps}", reps), self.tmp)
                self.addCleanup(plt.close, "all")
                spawn = [c for ax in figs["spawn.png"].axes for c in ax.containers if isinstance(c, BarContainer)]
                self.assertEqual([c.errorbar is not None for c in spawn], [has_bars] * len(spawn))
                lines = [c for ax in figs["capture.png"].axes for c in ax.containers
                         if isinstance(c, ErrorbarContainer)]
                self.assertEqual(len(lines), 2)
                self.assertEqual([bool(c.lines[1]) for c in lines], [has_bars] * 2)   # caplines


if __name__ == "__main__":
    unittest.main()
