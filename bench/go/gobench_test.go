// gobench_test.go: go test for the JSON writer, the aggregates, and the checks that must
// fail when a scenario loses or corrupts a message (run by bench/go/run.sh --check).
package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestAggregatesAreGoogleBenchmarks(t *testing.T) {
	xs := []float64{1, 2, 3, 10}
	if m := mean(xs); !near(m, 4) {
		t.Errorf("mean = %v, want 4", m)
	}
	if m := median(xs); !near(m, 2.5) { // even count: the mean of the two middle values
		t.Errorf("median = %v, want 2.5", m)
	}
	if m := median([]float64{5, 1, 3}); !near(m, 3) {
		t.Errorf("median = %v, want 3", m)
	}
	if s := stddev(xs); !near(s, math.Sqrt(50.0/3)) { // sample stddev: squares 50, n - 1 = 3
		t.Errorf("stddev = %v, want sqrt(50/3)", s)
	}
	if c := cv(xs); !near(c, math.Sqrt(50.0/3)/4) {
		t.Errorf("cv = %v, want sqrt(50/3)/4", c)
	}
}

// The entries of a two-repetition benchmark, read back as the Python loader reads them.
func TestEntriesShape(t *testing.T) {
	m := measured{name: "channel/spsc/impl:go_chan/cap:0/real_time", index: 7, unit: "us",
		reps: []result{
			{iters: 10, wallNs: 20000, cpuNs: 10000, items: 100, counters: []counter{{"p50_ns", 5}}},
			{iters: 10, wallNs: 40000, cpuNs: 30000, items: 100, counters: []counter{{"p50_ns", 7}}},
		}}
	data, err := json.Marshal(document(object{{"go_version", "x"}}, []measured{m}))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Context    map[string]interface{}
		Benchmarks []map[string]interface{}
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Context["go_version"] != "x" {
		t.Errorf("context lost: %v", doc.Context)
	}
	if len(doc.Benchmarks) != 2+4 {
		t.Fatalf("%d entries, want 2 iterations + mean, median, stddev, cv", len(doc.Benchmarks))
	}
	first := doc.Benchmarks[0]
	want := map[string]interface{}{"run_type": "iteration", "repetitions": 2.0,
		"repetition_index": 0.0, "iterations": 10.0, "real_time": 2.0, "cpu_time": 1.0,
		"time_unit": "us", "items_per_second": 100 / 20e-6, "p50_ns": 5.0, "family_index": 7.0,
		"run_name": m.name, "name": m.name}
	for k, v := range want {
		if f, ok := v.(float64); ok {
			if g, ok := first[k].(float64); !ok || !near(g, f) {
				t.Errorf("%s = %v, want %v", k, first[k], v)
			}
		} else if first[k] != v {
			t.Errorf("%s = %v, want %v", k, first[k], v)
		}
	}
	median := doc.Benchmarks[3]
	if median["name"] != m.name+"_median" || median["aggregate_name"] != "median" ||
		median["run_type"] != "aggregate" || median["run_name"] != m.name {
		t.Errorf("median entry: %v", median)
	}
	if !near(median["real_time"].(float64), 3) || !near(median["p50_ns"].(float64), 6) {
		t.Errorf("median real_time %v (want 3), p50_ns %v (want 6)", median["real_time"],
			median["p50_ns"])
	}
	if cvEntry := doc.Benchmarks[5]; cvEntry["aggregate_unit"] != "percentage" {
		t.Errorf("cv entry: %v", cvEntry)
	}
	// Key order: the loader lists metrics in entry order, real_time first.
	s := string(data)
	order := []string{`"real_time"`, `"cpu_time"`, `"time_unit"`, `"items_per_second"`, `"p50_ns"`}
	for i := 1; i < len(order); i++ {
		if strings.Index(s, order[i-1]) > strings.Index(s, order[i]) {
			t.Errorf("%s comes after %s", order[i-1], order[i])
		}
	}
}

func TestOneRepetitionHasNoAggregates(t *testing.T) {
	m := measured{name: "spawn/goroutine/real_time", unit: "us",
		reps: []result{{iters: 1, wallNs: 1000, cpuNs: 1000, items: 1}}}
	if n := len(m.entries()); n != 1 {
		t.Errorf("%d entries, want 1", n)
	}
}

func TestWriteNewNeverReplaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.json")
	if err := writeNew(path, []byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := writeNew(path, []byte("second")); err == nil {
		t.Error("writing over an existing file succeeded")
	}
	if b, _ := os.ReadFile(path); string(b) != "first" {
		t.Errorf("file now holds %q", b)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestCheckSumCatchesLossAndDuplication(t *testing.T) {
	if err := checkSum("t", 100, 5050, 100); err != nil {
		t.Errorf("a correct tally failed: %v", err)
	}
	if checkSum("t", 99, 5050-7, 100) == nil {
		t.Error("a lost message passed")
	}
	if checkSum("t", 100, 5050-7+8, 100) == nil {
		t.Error("a duplicated message (same count) passed")
	}
}

// The real flow scenario, with a payload that corrupts one key in transit, must fail: the
// check inside the timed loop is live, not only the helper above.
func TestFlowFailsOnCorruptedMessage(t *testing.T) {
	lossy := payload[uint64]{"lossy", func(k uint64) uint64 { return k },
		func(v uint64) uint64 {
			if v == 5 {
				return 6
			}
			return v
		}}
	if _, err := benchFlow(wordPayload, 1024, 2, 2)(2); err != nil {
		t.Fatalf("the honest payload failed: %v", err)
	}
	if _, err := benchFlow(lossy, 1024, 2, 2)(2); err == nil {
		t.Error("a corrupted message passed the flow check")
	}
}

func TestThreadAxis(t *testing.T) {
	t.Setenv("THREADBENCH_MAX_THREADS", "4")
	if a, err := threadAxis(); err != nil || len(a) != 3 || a[2] != 4 {
		t.Errorf("threadAxis() = %v, %v; want [1 2 4]", a, err)
	}
	t.Setenv("THREADBENCH_MAX_THREADS", "zero")
	if _, err := threadAxis(); err == nil {
		t.Error("a bad THREADBENCH_MAX_THREADS was accepted")
	}
}
