// spawn.go: family `spawn`, spawn/goroutine: what Go's answer to thread::spawn + join
// costs, next to bench/spawn_join_bench.cpp's spawn/std_thread and spawn/pthread.
package main

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// spawn/goroutine: one iteration starts one goroutine (`go`) whose whole body is one atomic
// increment of a counter (the C++ bodies' bump) and a WaitGroup.Done, and waits for it
// with WaitGroup.Wait: the full life of one goroutine, as spawn/std_thread is the full life
// of one thread. The time per iteration is per goroutine; ns_per_thread says the same in
// ns (spawn_join_bench.cpp's counter), items/s is goroutines/s. No OS thread is created in
// steady state: the runtime reuses its threads and a goroutine's 2 KiB starting stack comes
// from a cache. GOMAXPROCS is left at its default (the CPUs this process may use), as
// std::thread may use every core. The counter must equal the number of goroutines started
// (each body ran exactly once before it was waited for), or the program fails.
func benchGoroutine(iters int64) (result, error) {
	var ran atomic.Uint64
	var wg sync.WaitGroup
	w := startWatch()
	for it := int64(0); it < iters; it++ {
		wg.Add(1)
		go func() {
			ran.Add(1)
			wg.Done()
		}()
		wg.Wait()
	}
	r := w.stop(iters, iters)
	if got := ran.Load(); got != uint64(iters) {
		return result{}, fmt.Errorf("spawn/goroutine: %d bodies ran for %d goroutines", got, iters)
	}
	r.counters = []counter{{"ns_per_thread", r.wallNs / float64(iters)}}
	return r, nil
}

func registerSpawn(add func(name string, procs int, unit string, run runFunc)) {
	add("spawn/goroutine", 0, "us", benchGoroutine)
}
