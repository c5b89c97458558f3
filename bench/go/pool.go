// pool.go: family `pool`, pool/go_workers: the job of bench/pool_bench.cpp run by a Go
// worker pool, next to its channel_workers (the Rust book's pool) and the oneTBB methods.
//
// Names: pool/go_workers/grain:<ns>/threads:<T>/real_time. The job is pool_bench.cpp's: M
// independent tasks of `grain` ns of calibrated CPU work each (workload.go), grain = 100
// ns, 1 us, 10 us, 100 us with M = 20000, 4000, 500, 64 (a 2-6.4 ms serial job); T over
// threadAxis().
//
// The pool is the Go idiom (Go by Example's "worker pools"): T worker goroutines, started
// before timing, range over one jobs channel and send each result on a results channel.
// The caller sends the M task indices, then receives M results. Both channels are buffered
// to M, so the caller never blocks while sending (the C++ pool's job channel is unbounded,
// which Go's cannot be). A job is a task index, not a closure: a closure that captures
// its index would be one heap allocation per task (the C++ std::function fits its small
// buffer and allocates nothing). Workers leave when the jobs channel is closed.
// GOMAXPROCS = T: T Ps run Go code, the caller among them (it is mostly parked in a
// receive), so T is the parallelism the pool gets, as for TBB's arena of T slots.
//
// Counters, as pool_bench.cpp's:
//   - items_per_second = tasks per second of wall time;
//   - efficiency = (M x grain) / (T x wall time per iteration), with grain the nominal
//     (calibrated) duration: the fraction of T threads' time spent on the work itself
//     (ceiling cores / T above the machine's cores).
//
// Every result is index+1; each iteration checks count == M and sum == M(M+1)/2, and a
// mismatch ends the program with an error. One untimed warm-up job runs first.
package main

import "fmt"

type grain struct {
	ns    uint64 // nominal work per task
	tasks uint64 // M: tasks per iteration
}

var grains = []grain{{100, 20000}, {1000, 4000}, {10000, 500}, {100000, 64}}

var poolSink uint64 // each worker adds its work results here when it leaves

func benchGoWorkers(model *workModel, g grain, threads int) runFunc {
	return func(iters int64) (result, error) {
		w := model.of(g.ns)
		jobs := make(chan uint64, g.tasks)
		results := make(chan uint64, g.tasks)
		gone := make(chan uint64)
		for i := 0; i < threads; i++ {
			go func() {
				var sink uint64
				for task := range jobs {
					sink += w.run(task)
					results <- task + 1
				}
				gone <- sink
			}()
		}
		defer func() {
			close(jobs)
			for i := 0; i < threads; i++ {
				poolSink += <-gone
			}
		}()
		oneJob := func() error {
			for i := uint64(0); i < g.tasks; i++ {
				jobs <- i
			}
			var count, sum uint64
			for i := uint64(0); i < g.tasks; i++ {
				count++
				sum += <-results
			}
			return checkSum("pool/go_workers", count, sum, g.tasks)
		}
		if err := oneJob(); err != nil { // warm-up (untimed)
			return result{}, err
		}
		sw := startWatch()
		for it := int64(0); it < iters; it++ {
			if err := oneJob(); err != nil {
				return result{}, err
			}
		}
		r := sw.stop(iters, iters*int64(g.tasks))
		r.counters = []counter{{"efficiency",
			float64(iters) * float64(g.tasks*g.ns) / (float64(threads) * r.wallNs)}}
		return r, nil
	}
}

func registerPool(add func(name string, procs int, unit string, run runFunc),
	threads []int, model *workModel) {
	for _, g := range grains {
		for _, t := range threads {
			add(fmt.Sprintf("pool/go_workers/grain:%d/threads:%d", g.ns, t), t, "ns",
				benchGoWorkers(model, g, t))
		}
	}
}
