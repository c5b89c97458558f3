// go_bench: threadbench's Go peer. Runs Go's counterparts of the C++ benchmarks under the
// same names (spawn/goroutine, channel/*/impl:go_chan, pool/go_workers) and writes one
// Google Benchmark JSON file (gbjson.go). bench/go/run.sh builds and runs it.
//
//	go_bench --out FILE.json [--filter REGEX] [--repetitions N] [--min-time S] [--quick]
//	         [--context k=v,...]
//	go_bench --list [--filter REGEX]
//
// Defaults: 5 repetitions, min time 0.1 s (scripts/bench.sh's); --quick: 1 and 0.01 s.
// The same options as bench/go/run.sh, which builds this program as build/go/go_bench,
// so that a packed bundle (scripts/bench.sh --pack) can run the binary alone.
//
// Timing follows Google Benchmark: a benchmark's run(n) does its own setup, times exactly
// n iterations and tears down; n starts at 1 and grows (x10 while a run is under a tenth
// of min_time, then x min_time x 1.4 / elapsed) until one run lasts min_time; that run
// is the first repetition, and later repetitions reuse its n. real_time is wall time per
// iteration (every benchmark here is "UseRealTime": the work happens on other goroutines);
// the channel flows time only part of each iteration (laps), and report that part.
// cpu_time is the whole process's CPU time (every thread, from getrusage) per iteration,
// since Go cannot tie a goroutine to one thread's CPU clock; Google Benchmark's is the
// timing thread's alone.
//
// Exit status: 0 written; 2 usage error; 1 anything else, a failed count/sum check
// included (the file is then not written).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// runFunc runs one benchmark's timed loop for iters iterations (setup and warm-up outside
// the timing) and returns what it measured, or an error if a result check failed.
type runFunc func(iters int64) (result, error)

type benchmark struct {
	name  string // full name, /real_time included
	procs int    // GOMAXPROCS while it runs; 0 = leave as it is
	unit  string // time_unit of its entries
	run   runFunc
}

// stopwatch: wall and process CPU time of a timed loop.
type stopwatch struct {
	wall time.Time
	cpu  float64
}

func processCPUNs() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano() + ru.Stime.Nano())
}

// contextSwitches: the process's context switches so far, voluntary and involuntary
// (getrusage), as channel_bench.cpp's context_switches(); 0 when it cannot be read.
func contextSwitches() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Nvcsw + ru.Nivcsw
}

func startWatch() stopwatch { return stopwatch{cpu: processCPUNs(), wall: time.Now()} }

func (s stopwatch) stop(iters, items int64) result {
	wall := float64(time.Since(s.wall).Nanoseconds())
	return result{iters: iters, wallNs: math.Max(wall, 1), cpuNs: processCPUNs() - s.cpu,
		items: items}
}

// laps: the timed intervals of a loop that times only part of each iteration (the channel
// flows; Google Benchmark's ResumeTiming / PauseTiming, the Rust peer's gbench::Laps):
// start reads the runtime's monotonic clock where an interval begins, stop where it ends.
type laps struct {
	ns int64 // the finished intervals' sum
	t0 int64 // where the open interval began
}

func (l *laps) start() { l.t0 = nanotime() }
func (l *laps) stop()  { l.ns += nanotime() - l.t0 }

// stopLaps is stop for a loop timed by laps: real_time (and items_per_second, and the
// min_time test) use the intervals' sum, as Google Benchmark does with paused timing;
// cpu_time stays the process CPU time of the whole loop, untimed parts included.
func (s stopwatch) stopLaps(iters, items int64, l *laps) result {
	r := s.stop(iters, items)
	r.wallNs = math.Max(float64(l.ns), 1)
	return r
}

// threadAxis: 1, 2, 4, ... up to max(8, 2 x CPUs), or up to THREADBENCH_MAX_THREADS when
// that is set to a positive integer (the suite-wide rule).
func threadAxis() ([]int, error) {
	limit := 2 * runtime.NumCPU()
	if limit < 8 {
		limit = 8
	}
	if s := os.Getenv("THREADBENCH_MAX_THREADS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("THREADBENCH_MAX_THREADS must be a positive integer, got %q", s)
		}
		limit = n
	}
	var out []int
	for t := 1; t <= limit; t *= 2 {
		out = append(out, t)
	}
	return out, nil
}

// filter: Google Benchmark's --benchmark_filter: a regular expression searched for in the
// full name; a leading '-' selects the names that do not match.
func compileFilter(expr string) (func(string) bool, error) {
	negate := strings.HasPrefix(expr, "-")
	if negate {
		expr = expr[1:]
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	return func(name string) bool { return re.MatchString(name) != negate }, nil
}

const maxIters = 1_000_000_000 // Google Benchmark's kMaxIterations

// A run that takes longer than 120 s + 10 x min_time (a run lasts about min_time) is stuck
// (a lost wake-up would park forever): fail rather than hang.
func watchdogLimit(minTime float64) time.Duration {
	return 120*time.Second + time.Duration(10*minTime*float64(time.Second))
}

// measure runs one benchmark: iteration count search, then the repetitions.
func measure(b benchmark, reps int, minTime float64) ([]result, error) {
	if b.procs > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(b.procs))
	}
	once := func(iters int64) (result, error) {
		runtime.GC() // garbage of earlier runs is collected outside the timing
		limit := watchdogLimit(minTime)
		dog := time.AfterFunc(limit, func() {
			fmt.Fprintf(os.Stderr, "go_bench: error: %s: %d iterations still running after %v "+
				"(deadlock or lost wake-up?)\n", b.name, iters, limit)
			os.Exit(1)
		})
		defer dog.Stop()
		return b.run(iters)
	}
	iters := int64(1)
	var out []result
	for {
		r, err := once(iters)
		if err != nil {
			return nil, err
		}
		seconds := r.wallNs / 1e9
		if seconds >= minTime || iters >= maxIters {
			out = append(out, r)
			break
		}
		multiplier := minTime * 1.4 / math.Max(seconds, 1e-9)
		if seconds/minTime <= 0.1 { // too short to extrapolate from: grow x10
			multiplier = 10
		}
		iters = int64(math.Min(math.Max(math.Round(multiplier*float64(iters)),
			float64(iters+1)), maxIters))
	}
	for len(out) < reps {
		r, err := once(iters)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// summary is the progress line's figure: items/s for throughput rows, else time per item.
func summary(b benchmark, rs []result) string {
	var xs []float64
	for _, r := range rs {
		if r.items > 0 {
			xs = append(xs, float64(r.items)/(r.wallNs/1e9))
		}
	}
	what := fmt.Sprintf("median of %d", len(rs))
	if len(xs) == len(rs) {
		s := fmt.Sprintf("%.3g items/s", median(xs))
		if strings.HasPrefix(b.name, "channel/") {
			s = fmt.Sprintf("%.2f M msg/s", median(xs)/1e6)
		}
		for j, c := range rs[0].counters {
			if c.name == "p50_ns" {
				var ps []float64
				for _, r := range rs {
					ps = append(ps, r.counters[j].value)
				}
				s += fmt.Sprintf(", p50 %.0f ns", median(ps))
			}
		}
		return s + " (" + what + ")"
	}
	s := fmt.Sprintf("%.0f ns per iteration", median(times(rs)))
	for j, c := range rs[0].counters {
		var cs []float64
		for _, r := range rs {
			cs = append(cs, r.counters[j].value)
		}
		s += fmt.Sprintf(", %s %.3g", c.name, median(cs))
	}
	return s + " (" + what + ")"
}

func times(rs []result) []float64 {
	var out []float64
	for _, r := range rs {
		out = append(out, r.wallNs/float64(r.iters))
	}
	return out
}

func usageError(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "go_bench: usage error: "+format+" (see bench/go/run.sh --help)\n",
		args...)
	os.Exit(2)
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "go_bench: error: "+format+"\n", args...)
	os.Exit(1)
}

// parseContext: k=v,k=v as Google Benchmark's --benchmark_context.
func parseContext(s string) (object, error) {
	var out object
	if s == "" {
		return out, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--context wants key=value pairs separated by commas, got %q", kv)
		}
		out = append(out, field{k, v})
	}
	return out, nil
}

// set replaces key's value in o, or appends it.
func (o object) set(key string, value interface{}) object {
	for i := range o {
		if o[i].key == key {
			o[i].value = value
			return o
		}
	}
	return append(o, field{key, value})
}

func loadAvg() []float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return []float64{}
	}
	out := []float64{}
	for _, f := range strings.Fields(string(data))[:3] {
		x, _ := strconv.ParseFloat(f, 64)
		out = append(out, x)
	}
	return out
}

func main() {
	fs := flag.NewFlagSet("go_bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("out", "", "write the JSON here (must not exist)")
	filterExpr := fs.String("filter", ".", "regular expression over benchmark names")
	reps := fs.Int("repetitions", 5, "repetitions per benchmark")
	minTime := fs.Float64("min-time", 0.1, "seconds a repetition lasts at least")
	fs.Float64Var(minTime, "min_time", 0.1, "the same as -min-time")
	quick := fs.Bool("quick", false, "1 repetition, min time 0.01 s, unless given")
	extra := fs.String("context", "", "k=v,k=v added to the JSON context")
	list := fs.Bool("list", false, "print the selected benchmark names and exit")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Println("usage: go_bench --out FILE.json [--filter REGEX] [--repetitions N] " +
				"[--min-time S] [--quick] [--context k=v,...] | --list [--filter REGEX]")
			return
		}
		usageError("%v", err)
	}
	if fs.NArg() > 0 {
		usageError("unexpected argument %q", fs.Arg(0))
	}
	if *quick { // bench.sh --quick's settings, unless set explicitly
		given := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
		if !given["repetitions"] {
			*reps = 1
		}
		if !given["min-time"] && !given["min_time"] {
			*minTime = 0.01
		}
	}
	if *reps < 1 {
		usageError("--repetitions must be a positive integer, got %d", *reps)
	}
	if !(*minTime > 0) || math.IsInf(*minTime, 0) {
		usageError("--min-time must be a positive number of seconds, got %v", *minTime)
	}
	selected, err := compileFilter(*filterExpr)
	if err != nil {
		usageError("--filter: %v", err)
	}
	context, err := parseContext(*extra)
	if err != nil {
		usageError("%v", err)
	}
	_ = pinCPUs() // a malformed THREADBENCH_PIN stops here (one line, exit 2)
	threads, err := threadAxis()
	if err != nil {
		usageError("%v", err)
	}
	if !*list && *out == "" {
		usageError("--out FILE.json is required")
	}
	if *out != "" {
		if _, err := os.Lstat(*out); err == nil {
			usageError("%s already exists (nothing was overwritten)", *out)
		}
	}

	var all, chosen []benchmark
	add := func(name string, procs int, unit string, run runFunc) {
		all = append(all, benchmark{name + "/real_time", procs, unit, run})
	}
	model := &workModel{}
	registerSpawn(add)
	registerChannel(add, threads)
	registerPool(add, threads, model)
	index := map[string]int{}
	for i, b := range all {
		index[b.name] = i
		if selected(b.name) {
			chosen = append(chosen, b)
		}
	}
	if *list {
		for _, b := range chosen {
			fmt.Println(b.name)
		}
		return
	}

	host, _ := os.Hostname()
	exe, _ := os.Executable()
	base := object{{"date", time.Now().Format(time.RFC3339)}, {"host_name", host},
		{"executable", exe}, {"num_cpus", runtime.NumCPU()}, {"load_avg", loadAvg()},
		{"library_build_type", "release"}, {"language", "go"},
		{"go_version", runtime.Version()}, {"go_compiler", runtime.Compiler},
		{"go_arch", runtime.GOOS + "/" + runtime.GOARCH},
		{"gomaxprocs_default", runtime.GOMAXPROCS(0)},
		{"go_chan_unbounded", "none: Go channels are bounded (cap 0 = unbuffered); " +
			"no cap:unbounded rows, none emulated"},
		{"go_thread_axis", fmt.Sprint(threads)},
		// "per-thread:<THREADBENCH_PIN>" when crew members and ping_pong responders run
		// pinned one CPU each (pinThisThread in crew.go), "off" otherwise.
		{"pin_threads", pinContext()},
		{"go_cpu_time", "process CPU time of all threads per iteration (getrusage)"}}
	for _, b := range chosen {
		if strings.HasPrefix(b.name, "channel/ping_pong/") {
			base = append(base, field{"go_clock_read_ns", clockReadNs()})
			break
		}
	}
	for _, b := range chosen {
		if strings.HasPrefix(b.name, "pool/") {
			*model = calibrateWork()
			base = append(base, field{"workload_steps_per_ns", model.stepsPerNs},
				field{"workload_fixed_ns", model.fixedNs})
			break
		}
	}
	for _, f := range context { // the caller's context wins over the defaults above
		base = base.set(f.key, f.value)
	}

	fmt.Printf("go_bench: %d of %d benchmarks, %d repetition(s), min_time %gs, %s\n",
		len(chosen), len(all), *reps, *minTime, runtime.Version())
	var results []measured
	t0 := time.Now()
	for i, b := range chosen {
		rs, err := measure(b, *reps, *minTime)
		if err != nil {
			fail("%s: %v", b.name, err)
		}
		results = append(results, measured{name: b.name, index: index[b.name], unit: b.unit,
			reps: rs})
		fmt.Printf("go_bench: [%d/%d] %s: %s, elapsed %.0f s\n", i+1, len(chosen), b.name,
			summary(b, rs), time.Since(t0).Seconds())
	}
	if len(chosen) == 0 {
		fmt.Printf("go_bench: no benchmark matches the filter %q\n", *filterExpr)
	}
	data, err := json.MarshalIndent(document(base, results), "", "  ")
	if err != nil {
		fail("JSON: %v", err)
	}
	if err := writeNew(*out, append(data, '\n')); err != nil {
		fail("%v", err)
	}
	fmt.Printf("go_bench: wrote %s\n", *out)
}
