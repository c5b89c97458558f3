// channel.go: family `channel` for Go's built-in channel, impl:go_chan: the scenarios of
// bench/channel_bench.cpp, same names, same message counts, same checks.
//
// Names: channel/<scenario>/impl:go_chan/cap:<0|1|1024>/producers:<P>/consumers:<C>/
// payload:<8|64|1024|boxed>/real_time (keys that do not apply are left out).
//
// Go has no unbounded channel: make(chan T, n) is bounded, n = 0 is the unbuffered
// (rendezvous) channel. So there are no cap:unbounded rows here, and none is emulated (a
// goroutine-fed buffer would measure something else); the JSON context says so too.
//
// Method, as in channel_bench.cpp:
//   - Goroutines are started before timing and parked at a start gate (crew.go, the
//     protocol of the C++ bench::Crew and the Rust crew). Only the messages are timed: the
//     clock starts when the timing goroutine releases the crew and stops when it sees the
//     last consumer report, right after that consumer's last message; the crew's return to
//     the gate and the checks are untimed. What remains of the harness inside the interval
//     (waking the parked crew, noticing the last consumer) is measured alone by the crew
//     rows, channel/crew/impl:goroutine/producers:P/consumers:C: the same round with
//     nothing to send.
//   - Producers send keys 1..N (disjoint ranges per producer), then one end marker each;
//     consumers keep count and sum; the consumer that takes the last marker sends one stop
//     message per other consumer. The same in-band protocol as the C++ contenders (a Go
//     program would close the channel instead, but a closed channel cannot be reused by
//     the next iteration, and the protocol should not differ between languages).
//   - Every iteration checks count == N and sum == N(N+1)/2; a mismatch ends the program
//     with an error (exit 1): a number from a run that lost or duplicated messages is
//     never written.
//   - items_per_second = messages per second of timed wall time (real_time is the mean
//     timed interval per iteration: laps in main.go).
//   - GOMAXPROCS = the row's goroutine count (seq 1, spsc 2, mpsc P+1, mpmc 2P,
//     ping_pong and idle_recv 2): each role may run on its own P, as each C++ role has
//     its own OS thread; above the machine's cores that oversubscribes, as the C++ rows do.
//
// The grid is channel_bench.cpp's, less the unbounded rows:
//
//	cap axis      spsc and ping_pong: 0, 1, 1024 (payload 8); seq: 1, 1024
//	idle_recv     one row (cap 1)
//	payload axis  spsc at cap 1024: 8, 64, 1024, boxed
//	thread axis   mpsc (P x 1) and mpmc (P x P), P = 1, 2, 4, ... (threadAxis), cap 1024
//	crew          channel/crew/impl:goroutine/producers:P/consumers:C for each P x 1 and
//	              P x P above: the flow round with nothing to send (the harness floor)
package main

import (
	"fmt"
	"math"
	"sort"
	"sync/atomic"
	"time"
	_ "unsafe" // for go:linkname
)

// The two largest keys are in-band messages; data keys are 1..N.
const (
	keyMarker = ^uint64(0)     // "this producer is done"
	keyStop   = ^uint64(0) - 1 // "consumer: leave now"
)

// payload: how a message of type T is made from its 64-bit key, and its key read back.
// The scenarios are generic over it; make and key are called through function values,
// not inlined (Go's generics would not inline them either). A send/receive loop through
// them ran within noise of the same loop on a plain chan uint64 (2-vCPU reference VM).
type payload[T any] struct {
	label string // payload:<label> in the name
	make  func(k uint64) T
	key   func(v T) uint64
}

// payload:8, a machine word: the channel's own cost, nothing else.
var wordPayload = payload[uint64]{"8", func(k uint64) uint64 { return k },
	func(v uint64) uint64 { return v }}

// payload:64 / payload:1024: plain values copied into and out of the channel's buffer; the
// producer writes every byte of each (the C++ Blob's memset).
type blob64 struct {
	key uint64
	pad [56]byte
}
type blob1024 struct {
	key uint64
	pad [1016]byte
}

// fill sets every byte of b to c, by doubling copies (memmove), not a byte loop.
func fill(b []byte, c byte) {
	b[0] = c
	for n := 1; n < len(b); n *= 2 {
		copy(b[n:], b[:n])
	}
}

var blob64Payload = payload[blob64]{"64",
	func(k uint64) (v blob64) { v.key = k; fill(v.pad[:], byte(k)); return },
	func(v blob64) uint64 { return v.key }}
var blob1024Payload = payload[blob1024]{"1024",
	func(k uint64) (v blob1024) { v.key = k; fill(v.pad[:], byte(k)); return },
	func(v blob1024) uint64 { return v.key }}

// payload:boxed, a pointer to a heap word: one allocation per message, freed by Go's
// garbage collector once the consumer has dropped it (the C++ unique_ptr's new/delete).
var boxedPayload = payload[*uint64]{"boxed",
	func(k uint64) *uint64 { p := new(uint64); *p = k; return p },
	func(v *uint64) uint64 { return *v }}

// tally: one consumer's count and key sum, on its own cache line.
type tally struct {
	count, sum uint64
	_          [48]byte
}

// checkSum is every scenario's exactly-once check: count messages with keys 1..total.
func checkSum(what string, count, sum, total uint64) error {
	if want := total * (total + 1) / 2; count != total || sum != want {
		return fmt.Errorf("%s: messages lost or duplicated: received %d with key sum %d, "+
			"sent %d with key sum %d", what, count, sum, total, want)
	}
	return nil
}

// seq: one goroutine sends 1000 messages and receives them all; no other goroutine exists:
// the channel's single-threaded fast path (no contention, no parking). At cap 1024 the
// 1000 messages are sent, then received, as in channel_bench.cpp's seq; cap 1 cannot hold
// them (the sender would block forever), so there each message is sent and then received
// at once: batches of min(cap, 1000). GOMAXPROCS 1.
const seqMessages = 1000

func benchSeq(capacity int) runFunc {
	return func(iters int64) (result, error) {
		ch := make(chan uint64, capacity)
		batch := uint64(capacity)
		if batch > seqMessages {
			batch = seqMessages
		}
		w := startWatch()
		for it := int64(0); it < iters; it++ {
			var sum uint64
			for first := uint64(1); first <= seqMessages; first += batch {
				for k := first; k < first+batch; k++ {
					ch <- k
				}
				for k := first; k < first+batch; k++ {
					sum += <-ch
				}
			}
			if err := checkSum("seq", seqMessages, sum, seqMessages); err != nil {
				return result{}, err
			}
		}
		return w.stop(iters, iters*seqMessages), nil
	}
}

// Messages moved by one iteration of spsc/mpsc/mpmc: 2^16, as in channel_bench.cpp (it
// divides evenly among 1, 2, 4, 8... producers and is 64 laps of a 1024-slot buffer).
const flowMessages = 65536

// spsc / mpsc / mpmc: P producers and C consumers move flowMessages per iteration through
// one channel (see the method at the top of the file).
func benchFlow[T any](p payload[T], capacity, producers, consumers int) runFunc {
	return func(iters int64) (result, error) {
		perProducer := uint64(flowMessages / producers)
		total := perProducer * uint64(producers)
		ch := make(chan T, capacity)
		var markers atomic.Int64
		tallies := make([]tally, consumers)
		// Members 0..P-1 produce, P..P+C-1 consume; the consumers' return ends a round.
		c := newCrew(producers+consumers, consumers, func(i int) {
			if i < producers {
				first := uint64(i)*perProducer + 1
				for k := first; k < first+perProducer; k++ {
					ch <- p.make(k)
				}
				ch <- p.make(keyMarker)
				return
			}
			var t tally
			for {
				k := p.key(<-ch)
				if k == keyStop {
					break
				}
				if k == keyMarker {
					// Per-producer FIFO: once all P markers are taken, every data message
					// has been taken too, so the other consumers may be told to stop.
					if markers.Add(1) == int64(producers) {
						for j := 1; j < consumers; j++ {
							ch <- p.make(keyStop)
						}
						break
					}
					continue
				}
				t.count++
				t.sum += k
			}
			tallies[i-producers] = t
		})
		defer c.stop()
		var l laps
		switchesBefore := contextSwitches()
		w := startWatch()
		for it := int64(0); it < iters; it++ {
			c.round(&l, func() { markers.Store(0) }) // published by the gate's release
			// untimed from here: the round's clock stopped at the last consumer's report
			var count, sum uint64
			for _, t := range tallies {
				count += t.count
				sum += t.sum
			}
			if err := checkSum("flow", count, sum, total); err != nil {
				return result{}, err
			}
		}
		r := w.stopLaps(iters, iters*int64(total), &l)
		// switches_per_1k_msgs, as the C++ flow rows: context switches of the whole process
		// (every thread: a park, a preemption) per 1000 messages moved, over all iterations,
		// timed parts and untimed alike. High: the row is bound by sleeping and waking; near
		// the crew's floor ((threads + 2) / 64 per 1000 messages): by cache-line traffic.
		// Go's own scheduler switches goroutines without the kernel: only OS thread switches
		// count, so a goroutine that blocks on a channel adds one only when its thread sleeps.
		if moved := float64(iters) * float64(total); moved > 0 {
			r.counters = append(r.counters, counter{"switches_per_1k_msgs",
				1000 * float64(contextSwitches()-switchesBefore) / moved})
		}
		return r, nil
	}
}

// crew: the floor under every spsc/mpsc/mpmc row of the same P x C, and of no channel: the
// flow's round (crew.go: release the parked crew, wait until the C consumers report) with
// roles that return at once. real_time is ns per round: the release and the Broadcast to
// P + C parked goroutines, their getting a P, the last consumer's report and the timing
// goroutine noticing it (a wake-up of its own when it had parked). GOMAXPROCS P + C, as
// the flow rows of that shape.
func benchCrew(producers, consumers int) runFunc {
	return func(iters int64) (result, error) {
		c := newCrew(producers+consumers, consumers, func(int) {})
		defer c.stop()
		var l laps
		w := startWatch()
		for it := int64(0); it < iters; it++ {
			c.round(&l, func() {})
		}
		return w.stopLaps(iters, 0, &l), nil
	}
}

// nanotime is the Go runtime's monotonic clock (the reading time.Now pairs with a wall
// clock reading): one vDSO clock_gettime, dearer than the C++ side's TSC read (~11 ns on
// the reference VM); clockReadNs measures it. The runtime keeps it open to linkname use.
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

// clockReadNs: what one nanotime reading costs here, the fastest of 5 runs of 100000
// back-to-back readings (written to the JSON context: each ping_pong round includes one).
func clockReadNs() float64 {
	best := 0.0
	for trial := 0; trial < 5; trial++ {
		const n = 100000
		t0 := nanotime()
		for i := 0; i < n-1; i++ {
			nanotime()
		}
		if ns := float64(nanotime()-t0) / n; trial == 0 || ns < best {
			best = ns
		}
	}
	return best
}

// rttRecorder: per-round round-trip times, one clock reading per round (RTT = difference
// of consecutive readings), as channel_bench.cpp's RttRecorder; keeps the first 2^21.
type rttRecorder struct {
	samples []int64
	prev    int64
}

const rttMaxSamples = 1 << 21

func (r *rttRecorder) start() { r.prev = nanotime() }
func (r *rttRecorder) lap() {
	now := nanotime()
	if len(r.samples) < rttMaxSamples {
		r.samples = append(r.samples, now-r.prev)
	}
	r.prev = now
}

// counters: p50_ns, p99_ns, p999_ns; the q-quantile is the sorted sample at index
// min(n-1, floor(q n)), the C++ rule.
func (r *rttRecorder) counters() []counter {
	if len(r.samples) == 0 {
		return nil
	}
	s := r.samples
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	pct := func(q float64) float64 {
		i := int(q * float64(len(s)))
		if i > len(s)-1 {
			i = len(s) - 1
		}
		return float64(s[i])
	}
	return []counter{{"p50_ns", pct(0.50)}, {"p99_ns", pct(0.99)}, {"p999_ns", pct(0.999)}}
}

// ping_pong: the timing goroutine sends a word on one channel, a responder goroutine
// (started before timing) echoes it +1 on a second channel, 1000 rounds per iteration.
// items_per_second is round trips per second; p50_ns / p99_ns / p999_ns are percentiles
// of the per-round round-trip time (one runtime.nanotime reading per round included).
// Latency, not throughput: each message waits for the previous one, so how Go parks and
// wakes a goroutine (and whether its scheduler runs both on one P) is what is measured.
// 1000 warm-up rounds first. Each reply is checked (== sent + 1). GOMAXPROCS 2.
const pingPongRounds = 1000

func benchPingPong(capacity int) runFunc {
	return func(iters int64) (result, error) {
		there := make(chan uint64, capacity)
		back := make(chan uint64, capacity)
		gone := make(chan struct{})
		go func() {
			defer close(gone)
			// With THREADBENCH_PIN (--pin) the responder locks its OS thread and pins it to
			// the list's first CPU before its first message, as crew member 0 would: its
			// placement is baked into every repetition, so a per-thread pin keeps it on the
			// same core every process.
			pinThisThread(0)
			for v := range there {
				if v == keyStop {
					return
				}
				back <- v + 1
			}
		}()
		defer func() { there <- keyStop; <-gone }()
		next := uint64(1)
		for i := 0; i < pingPongRounds; i, next = i+1, next+2 { // warm-up
			there <- next
			<-back
		}
		var rtt rttRecorder
		rtt.samples = make([]int64, 0, minInt64(iters*pingPongRounds, rttMaxSamples))
		ok := true
		w := startWatch()
		for it := int64(0); it < iters; it++ {
			rtt.start()
			for i := 0; i < pingPongRounds; i, next = i+1, next+2 {
				there <- next
				ok = ok && <-back == next+1
				rtt.lap()
			}
			if !ok {
				return result{}, fmt.Errorf("ping_pong: a reply is not request + 1")
			}
		}
		r := w.stop(iters, iters*pingPongRounds)
		r.counters = rtt.counters()
		return r, nil
	}
}

// idle_recv: how much CPU a receiver burns while it waits on an empty channel. The timing
// goroutine blocks in a receive for 1 s (channel_bench.cpp's default --idle_ms) until a
// helper goroutine, which sleeps that long, sends one message. cpu_pct = CPU time / wall
// time x 100 over the waits; 100 = a whole core kept busy. The CPU time is the whole
// process's (getrusage: Go cannot read one goroutine's), so it also holds the helper's
// wake-up and send and the runtime's own background work (sysmon, timers): an upper bound
// on what the waiting goroutine burns, where the C++ number is the waiting thread's alone.
// One wait outlasts min_time, so a repetition is one wait. cap 1 (the helper never blocks;
// a receiver parks the same way whatever the capacity). GOMAXPROCS 2.
const idleWait = time.Second

func benchIdleRecv(iters int64) (result, error) {
	ch := make(chan uint64, 1)
	wake := make(chan struct{})
	go func() {
		for range wake {
			time.Sleep(idleWait)
			ch <- 42
		}
	}()
	defer close(wake)
	var cpu, wall float64
	w := startWatch()
	for it := int64(0); it < iters; it++ {
		wake <- struct{}{}
		c0, t0 := processCPUNs(), nanotime()
		v := <-ch
		cpu += processCPUNs() - c0
		wall += float64(nanotime() - t0)
		if v != 42 {
			return result{}, fmt.Errorf("idle_recv: received %d, sent 42", v)
		}
	}
	r := w.stop(iters, 0)
	r.counters = []counter{{"cpu_pct", 100 * cpu / math.Max(wall, 1)}}
	return r, nil
}

func minInt64(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}

// registerChannel adds the channel rows (see the grid at the top of the file).
func registerChannel(add func(name string, procs int, unit string, run runFunc),
	threads []int) {
	const impl = "/impl:go_chan"
	capName := func(c int) string { return fmt.Sprintf("/cap:%d", c) }
	flowName := func(scenario string, c, p, cons int, payload string) string {
		return fmt.Sprintf("channel/%s%s%s/producers:%d/consumers:%d/payload:%s", scenario,
			impl, capName(c), p, cons, payload)
	}
	for _, c := range []int{1, 1024} {
		add("channel/seq"+impl+capName(c)+"/payload:8", 1, "ns", benchSeq(c))
	}
	// spsc, cap axis: cap 0 and 1 make every message a hand-off between running goroutines
	// (wake-up and waiting cost); cap 1024 lets the two sides run apart (the steady-state
	// cost of a slot, and the cache traffic between cores).
	for _, c := range []int{0, 1, 1024} {
		add(flowName("spsc", c, 1, 1, "8"), 2, "ns", benchFlow(wordPayload, c, 1, 1))
	}
	// spsc, payload axis at cap 1024: 64 B, 1 KiB (copying dominates) and boxed (an
	// allocation per message and garbage collection).
	add(flowName("spsc", 1024, 1, 1, "64"), 2, "ns", benchFlow(blob64Payload, 1024, 1, 1))
	add(flowName("spsc", 1024, 1, 1, "1024"), 2, "ns", benchFlow(blob1024Payload, 1024, 1, 1))
	add(flowName("spsc", 1024, 1, 1, "boxed"), 2, "ns", benchFlow(boxedPayload, 1024, 1, 1))
	// mpsc: P producers into one consumer; mpmc: P producers and P consumers; cap 1024.
	// Past the cores, goroutines contend for Ps and the channel's one lock.
	for _, p := range threads {
		add(flowName("mpsc", 1024, p, 1, "8"), p+1, "ns", benchFlow(wordPayload, 1024, p, 1))
	}
	for _, p := range threads {
		add(flowName("mpmc", 1024, p, p, "8"), 2*p, "ns", benchFlow(wordPayload, 1024, p, p))
	}
	// crew: one floor row per crew shape the flows above use (1 x 1 is spsc's), named after
	// what runs it (impl:goroutine): the crew is the same whatever the channel.
	type shape struct{ p, c int }
	var shapes []shape
	seen := map[shape]bool{}
	for _, p := range threads {
		for _, s := range []shape{{p, 1}, {p, p}} {
			if !seen[s] {
				seen[s] = true
				shapes = append(shapes, s)
			}
		}
	}
	sort.Slice(shapes, func(i, j int) bool {
		return shapes[i].p < shapes[j].p || shapes[i].p == shapes[j].p && shapes[i].c < shapes[j].c
	})
	for _, s := range shapes {
		add(fmt.Sprintf("channel/crew/impl:goroutine/producers:%d/consumers:%d", s.p, s.c),
			s.p+s.c, "ns", benchCrew(s.p, s.c))
	}
	for _, c := range []int{0, 1, 1024} {
		add("channel/ping_pong"+impl+capName(c)+"/payload:8", 2, "ns", benchPingPong(c))
	}
	add("channel/idle_recv"+impl, 2, "ns", benchIdleRecv)
}
