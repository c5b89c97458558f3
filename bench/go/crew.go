// crew.go: the crew of the flow benchmarks (spsc, mpsc, mpmc and the crew floor rows) and
// its start gate: goroutines started once that run one role per round, and how a round is
// timed so that the timed interval is the messages' movement only. The protocol is
// bench/kit.hpp's bench::Crew (C++), written the same way here and in bench/rust/src/crew.rs:
//
//  1. Gate: a member back from its role counts itself in (ready) and parks until the gate's
//     generation changes (sync.Cond on the gate's mutex; C++ and Rust: a futex wait on the
//     word). It never spins there: a member that finishes early must not take a P from
//     those still moving messages, and every release finds every member parked.
//  2. Release (coordinator = the timing goroutine): untimed, it waits until ready == n,
//     runs the scenario's between-rounds step and resets the counts; then reads the clock
//     (t0, laps.start), bumps the generation (one store, under the gate's mutex) and wakes
//     every member (Broadcast; C++ and Rust: one futex wake).
//  3. Done: the last `reporters` members (the consumers) count themselves in (done) the
//     moment their role returns, right after their last message; the one that completes the
//     count wakes the coordinator if it parked.
//  4. Stop: the coordinator waits for done == reporters (crewSpinPolls polls one CPU pause
//     apart, crewYieldPolls Gosched calls, then sync.Cond) and reads the clock (t1,
//     laps.stop). The round's time is t1 - t0. The members' return to the gate and the
//     checks are outside it.
//  5. With an empty role the same round is the crew floor (channel/crew/... rows).
//
// Clocks: the runtime's nanotime (CLOCK_MONOTONIC) at t0 and t1, nothing else inside the
// interval. Parking is Go's own (a parked goroutine gives its P to another), as each
// language's channels park their own way: the crew rows measure what that costs here.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe" // for go:linkname, and the affinity mask's address
)

// procyield is the runtime's spin-wait pause (x86 PAUSE, arm64 YIELD) run `cycles` times,
// what its own locks spin with; the C++ and Rust crews pause with the same instruction.
//
//go:linkname procyield runtime.procyield
func procyield(cycles uint32)

// Polls of the coordinator's wait before it yields, then yields before it parks: about a
// microsecond or two of spinning (a PAUSE is 10-140 cycles); the C++ and Rust crews use the
// same two numbers.
const (
	crewSpinPolls  = 64
	crewYieldPolls = 4
)

// arrivals: a count of members that reached a point (back at the gate; done with the last
// message) that the coordinator waits on.
type arrivals struct {
	value  atomic.Uint32 // how many have arrived this round
	parked atomic.Bool   // the coordinator sleeps (or is about to) on cond
	mu     sync.Mutex    // cond's lock: held to park and to wake
	cond   sync.Cond
	_      [64]byte // keeps the next count off this one's cache line
}

// arrive: a member arrives; the one that makes the count target wakes a parked
// coordinator. Go's atomics are sequentially consistent: either the coordinator sees the
// count or this sees the flag, so no wake-up is lost.
func (a *arrivals) arrive(target uint32) {
	if a.value.Add(1) == target && a.parked.Load() {
		a.mu.Lock()
		a.cond.Signal()
		a.mu.Unlock()
	}
}

// waitFor: the coordinator waits until target members have arrived: polls, yields, parks.
func (a *arrivals) waitFor(target uint32) {
	for i := 0; i < crewSpinPolls; i++ {
		if a.value.Load() >= target {
			return
		}
		procyield(1)
	}
	for i := 0; i < crewYieldPolls; i++ {
		if a.value.Load() >= target {
			return
		}
		runtime.Gosched()
	}
	a.mu.Lock()
	a.parked.Store(true)
	for a.value.Load() < target {
		a.cond.Wait()
	}
	a.parked.Store(false)
	a.mu.Unlock()
}

// crew: goroutines that run one role per round, released together by round.
type crew struct {
	n, reporters uint32        // members; the last `reporters` of them end a round
	generation   atomic.Uint32 // the gate: +1 releases a round
	gateMu       sync.Mutex    // the gate's lock: held to bump the generation and to park
	gate         sync.Cond     // members parked at the gate
	_            [64]byte
	ready        arrivals    // members parked at the gate
	done         arrivals    // reporters finished with this round
	quit         atomic.Bool // set before the last release: members leave
	left         sync.WaitGroup
}

// newCrew starts n members that run role(i); the last reporters of them (1 <= reporters
// <= n) report done when their role returns, and a round ends when all of those have.
func newCrew(n, reporters int, role func(i int)) *crew {
	c := &crew{n: uint32(n), reporters: uint32(reporters)}
	c.gate.L = &c.gateMu
	c.ready.cond.L = &c.ready.mu
	c.done.cond.L = &c.done.mu
	c.left.Add(n)
	for i := 0; i < n; i++ {
		go c.member(i, i >= n-reporters, role)
	}
	return c
}

func (c *crew) member(i int, reports bool, role func(i int)) {
	defer c.left.Done()
	// With THREADBENCH_PIN (--pin), member i (producers first, then consumers) locks its OS
	// thread and pins it to CPU list[i % n] before it first reaches the gate: a thread's
	// placement is baked into every repetition, and per-thread pins put a row's threads on
	// the same cores every process. The goroutine never unlocks: when it returns, its pinned
	// thread exits with it instead of going back to the runtime's pool.
	pinThisThread(i)
	seen := uint32(0)
	for {
		c.ready.arrive(c.n)
		if c.generation.Load() == seen {
			c.gateMu.Lock()
			for c.generation.Load() == seen {
				c.gate.Wait()
			}
			c.gateMu.Unlock()
		}
		seen++
		if c.quit.Load() {
			return
		}
		role(i)
		if reports {
			c.done.arrive(c.reporters)
		}
	}
}

// release: every member is counted in at the gate (parked, or about to): one store, one
// Broadcast.
func (c *crew) release() {
	c.gateMu.Lock()
	c.generation.Add(1)
	c.gate.Broadcast()
	c.gateMu.Unlock()
}

// round runs one round: wait (untimed) until every member is parked at the gate, run
// between (the scenario's resets), reset the counts, then timed: release, wait for the last
// reporter.
func (c *crew) round(l *laps, between func()) {
	c.ready.waitFor(c.n)
	between()
	c.ready.value.Store(0)
	c.done.value.Store(0)
	l.start()
	c.release()
	c.done.waitFor(c.reporters)
	l.stop()
}

// stop makes every member leave and waits until they have.
func (c *crew) stop() {
	c.ready.waitFor(c.n)
	c.quit.Store(true)
	c.release()
	c.left.Wait()
}

// ---- per-thread pinning -------------------------------------------------------------------
//
// THREADBENCH_PIN (scripts/bench.sh --pin exports it: "0,2,4,6" or "0-3"; empty or unset = no
// per-thread pinning) is the CPU list that crew member k (producers first, then consumers)
// and the ping_pong responder take their core from: list[k % n]. --pin already confines the
// whole process (taskset), but inside that set the scheduler places each thread where it
// likes, and a thread's placement is baked into every repetition it runs; per-thread pins
// make a row's threads land on the same cores in every process. The same as bench/pin.hpp
// (C++) and bench/rust/src/sys.rs (Rust). A goroutine has no core of its own, so the member
// first locks itself to its OS thread (runtime.LockOSThread), then pins that thread.

// pinSetSize is the kernel's CPU_SETSIZE as glibc has it: CPUs 0..1023, 16 mask words.
const pinSetSize = 1024

// parseCPUList parses a CPU list: comma-separated CPUs and ranges a-b (a <= b), as
// taskset -c takes it. Empty = no CPUs.
func parseCPUList(list string) ([]int, error) {
	var cpus []int
	if list == "" {
		return cpus, nil
	}
	number := func(s string) (int, error) {
		if s == "" || strings.Trim(s, "0123456789") != "" {
			return 0, fmt.Errorf("expected CPUs and ranges a-b, separated by commas")
		}
		n, err := strconv.Atoi(s)
		if err != nil || n >= pinSetSize {
			return 0, fmt.Errorf("CPU number too large")
		}
		return n, nil
	}
	for _, item := range strings.Split(list, ",") {
		a, b, isRange := strings.Cut(item, "-")
		lo, err := number(a)
		if err != nil {
			return nil, err
		}
		hi := lo
		if isRange {
			if hi, err = number(b); err != nil {
				return nil, err
			}
			if lo > hi {
				return nil, fmt.Errorf("a range a-b needs a <= b")
			}
		}
		for c := lo; c <= hi; c++ {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}

var (
	pinOnce sync.Once
	pinList []int
)

// pinCPUs: THREADBENCH_PIN's CPUs, read and checked once (main reads them before anything
// runs, so a malformed list stops the program there: one line, exit 2).
func pinCPUs() []int {
	pinOnce.Do(func() {
		text := os.Getenv("THREADBENCH_PIN")
		cpus, err := parseCPUList(text)
		if err != nil {
			fmt.Fprintf(os.Stderr, "go_bench: error: THREADBENCH_PIN=%q: %v\n", text, err)
			os.Exit(2)
		}
		pinList = cpus
	})
	return pinList
}

// pinContext: the pin_threads context value, "per-thread:<list as given>" or "off".
func pinContext() string {
	if len(pinCPUs()) == 0 {
		return "off"
	}
	return "per-thread:" + os.Getenv("THREADBENCH_PIN")
}

// pinThisThread locks the calling goroutine to its OS thread and pins that thread to
// pinCPUs()[index % n] (sched_setaffinity, pid 0 = the calling thread); nothing when the
// list is empty. A CPU the process may not use is an error (exit 2): the row would
// otherwise run unpinned without a word.
func pinThisThread(index int) {
	cpus := pinCPUs()
	if len(cpus) == 0 {
		return
	}
	runtime.LockOSThread()
	cpu := cpus[index%len(cpus)]
	var mask [pinSetSize / 64]uint64
	mask[cpu/64] |= 1 << (cpu % 64)
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0,
		uintptr(len(mask)*8), uintptr(unsafe.Pointer(&mask[0])))
	if errno != 0 {
		fmt.Fprintf(os.Stderr, "go_bench: error: THREADBENCH_PIN: cannot pin a thread to CPU %d: %v\n",
			cpu, errno)
		os.Exit(2)
	}
}
