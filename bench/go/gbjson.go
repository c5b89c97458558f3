// gbjson.go: writes results in Google Benchmark's JSON shape (what --benchmark_out writes),
// so that scripts/threadbench_results, plot.py, compare.py and goals.py read a Go run like a
// C++ one. The one place this peer writes JSON.
//
// Per benchmark: one "iteration" entry per repetition, then, when there are two or more
// repetitions, "aggregate" entries mean, median, stddev and cv over them (Google
// Benchmark 1.7's set; stddev is the sample standard deviation, cv = stddev / mean with
// aggregate_unit "percentage"), every counter aggregated the same way. Keys come in Google
// Benchmark's order (name ... real_time, cpu_time, time_unit, items_per_second, counters):
// the loader lists a benchmark's metrics in entry order.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
)

// counter is one user counter: a plain number, as Google Benchmark's default counters.
type counter struct {
	name  string
	value float64
}

// result is one run of a benchmark's timed loop: `iters` iterations.
type result struct {
	iters    int64
	wallNs   float64   // wall time of the timed loop (what UseRealTime reports)
	cpuNs    float64   // CPU time of the whole process (every thread) during the loop
	items    int64     // items processed; > 0 gives items_per_second = items / wall seconds
	counters []counter // in the order they are written
}

// measured is one benchmark's reported repetitions.
type measured struct {
	name  string   // full name, /real_time included
	index int      // family_index: position in the registration order
	unit  string   // time_unit: ns, us or ms
	reps  []result // at least one, all with the same metrics
}

var nsPerUnit = map[string]float64{"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}

// field and object: a JSON object whose keys stay in the order they were added.
type field struct {
	key   string
	value interface{}
}
type object []field

func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(f.key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(f.value)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.key, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// finite keeps NaN and infinities out of the JSON (encoding/json refuses them): 0 instead.
func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}

// metrics are the measured values of one repetition, in the order they are written.
func (r result) metrics(unit string) []field {
	per := nsPerUnit[unit] * float64(r.iters)
	out := []field{{"real_time", r.wallNs / per}, {"cpu_time", r.cpuNs / per}}
	if r.items > 0 {
		out = append(out, field{"items_per_second", float64(r.items) / (r.wallNs / 1e9)})
	}
	for _, c := range r.counters {
		out = append(out, field{c.name, c.value})
	}
	return out
}

// Aggregates over repetitions, as Google Benchmark computes them.
func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func stddev(xs []float64) float64 { // sample standard deviation (n - 1)
	if len(xs) < 2 {
		return 0
	}
	m, ss := mean(xs), 0.0
	for _, x := range xs {
		ss += (x - m) * (x - m)
	}
	return math.Sqrt(ss / float64(len(xs)-1))
}

func cv(xs []float64) float64 {
	if m := mean(xs); m != 0 {
		return stddev(xs) / m
	}
	return 0
}

var aggregates = []struct {
	name, unit string
	of         func([]float64) float64
}{{"mean", "time", mean}, {"median", "time", median}, {"stddev", "time", stddev},
	{"cv", "percentage", cv}}

// entries turns one benchmark into its Google Benchmark entries.
func (m measured) entries() []object {
	head := func(name, runType string) object {
		return object{{"name", name}, {"family_index", m.index},
			{"per_family_instance_index", 0}, {"run_name", m.name}, {"run_type", runType},
			{"repetitions", len(m.reps)}}
	}
	per := make([][]field, len(m.reps))
	for i, r := range m.reps {
		per[i] = r.metrics(m.unit)
	}
	// values appends the metrics, time_unit right after real_time and cpu_time.
	values := func(o object, value func(j int) float64) object {
		for j, f := range per[0] {
			o = append(o, field{f.key, finite(value(j))})
			if j == 1 {
				o = append(o, field{"time_unit", m.unit})
			}
		}
		return o
	}
	var out []object
	for i, r := range m.reps {
		o := append(head(m.name, "iteration"), field{"repetition_index", i}, field{"threads", 1},
			field{"iterations", r.iters})
		out = append(out, values(o, func(j int) float64 { return per[i][j].value.(float64) }))
	}
	if len(m.reps) < 2 { // Google Benchmark writes no aggregates for one repetition
		return out
	}
	for _, a := range aggregates {
		o := append(head(m.name+"_"+a.name, "aggregate"), field{"threads", 1},
			field{"aggregate_name", a.name}, field{"aggregate_unit", a.unit},
			field{"iterations", len(m.reps)})
		out = append(out, values(o, func(j int) float64 {
			xs := make([]float64, len(per))
			for i := range per {
				xs[i] = per[i][j].value.(float64)
			}
			return a.of(xs)
		}))
	}
	return out
}

// document is the whole file: context, then every benchmark's entries in run order.
func document(context object, all []measured) object {
	benchmarks := []object{}
	for _, m := range all {
		benchmarks = append(benchmarks, m.entries()...)
	}
	return object{{"context", context}, {"benchmarks", benchmarks}}
}

// writeNew writes data to path without ever replacing an existing file: the bytes go to a
// temporary file in the same folder first, which is then hard-linked to path (link fails
// if path exists, atomically) and removed. A half-written path is never visible.
func writeNew(path string, data []byte) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s already exists (nothing was overwritten)", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s already exists (nothing was overwritten)", path)
		}
		return err
	}
	return nil
}
