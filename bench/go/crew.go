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
	"runtime"
	"sync"
	"sync/atomic"
	_ "unsafe" // for go:linkname
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
