// workload.go: calibrated CPU work ("burn about N ns") for pool/go_workers, the Go twin of
// bench/workload.hpp, so that a grain means the same thing on both sides.
//
// The kernel is the same chain of dependent 64-bit multiply-adds (Knuth's MMIX LCG): each
// step needs the last, so the CPU cannot overlap steps, Go's compiler has no closed form for
// it, and it touches no memory, so its time does not depend on caches or other threads. On
// x86 it is bracketed by LFENCE (fence_amd64.s), as in the C++ kernel, so back-to-back tasks
// cannot overlap their chains either.
//
// Calibration is the C++ one: cost per call = fixed + steps / rate, fitted from short
// (32-step) and long (4096-step) calls made back to back, each point the fastest of 7
// trials of ~2 ms of the calling thread's own CPU time (CLOCK_THREAD_CPUTIME_ID, with the
// goroutine locked to its OS thread), so that time when another process held the core
// does not count. ~30 ms, once per process, before anything is timed.
package main

import (
	"math"
	"runtime"
	"syscall"
	"unsafe"
)

// spin runs n dependent LCG steps from seed and returns the last value.
//
//go:noinline
func spin(n, seed uint64) uint64 {
	x := seed
	lfence()
	for i := uint64(0); i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	lfence()
	return x
}

// threadCPUNs is the calling OS thread's CPU time in ns (the caller must hold
// runtime.LockOSThread for two readings to be of one thread).
func threadCPUNs() float64 {
	const clockThreadCPUTimeID = 3 // CLOCK_THREAD_CPUTIME_ID in <time.h> on Linux
	var ts syscall.Timespec
	_, _, errno := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID,
		uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		panic("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed: " + errno.Error())
	}
	return float64(ts.Sec)*1e9 + float64(ts.Nsec)
}

var workSink uint64 // results of calibration calls land here, so the calls are kept

// nsPerCall is thread CPU ns per spin(n) call, over `calls` back-to-back calls.
func nsPerCall(n, calls uint64) float64 {
	var sink uint64
	t0 := threadCPUNs()
	for i := uint64(0); i < calls; i++ {
		sink += spin(n, i)
	}
	t1 := threadCPUNs()
	workSink += sink
	return (t1 - t0) / float64(calls)
}

// workModel: a call costs fixedNs + steps / stepsPerNs.
type workModel struct {
	stepsPerNs float64 // slope: how fast the chain runs
	fixedNs    float64 // intercept: a call's own cost (call, fences, loop exit)
}

func calibrateWork() workModel {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const nShort, nLong = 32, 4096
	nsPerCall(nLong, 256) // warm-up
	guess := math.Max(nsPerCall(nLong, 256), 1)
	callsLong := uint64(math.Max(2e6/guess, 16))
	callsShort := callsLong * (nLong / nShort) / 2
	tShort, tLong := math.Inf(1), math.Inf(1)
	for trial := 0; trial < 7; trial++ {
		tShort = math.Min(tShort, nsPerCall(nShort, callsShort))
		tLong = math.Min(tLong, nsPerCall(nLong, callsLong))
	}
	rate := float64(nLong-nShort) / math.Max(tLong-tShort, 1e-3)
	return workModel{stepsPerNs: rate, fixedNs: math.Max(tShort-nShort/rate, 0)}
}

// work is a fixed amount of calibrated CPU work: about ns nanoseconds (never less than a
// call's fixed cost: asking for less gives zero steps).
type work struct {
	steps uint64
	ns    uint64 // nominal duration
}

func (m workModel) of(ns uint64) work {
	steps := math.Round((float64(ns) - m.fixedNs) * m.stepsPerNs)
	return work{steps: uint64(math.Max(steps, 0)), ns: ns}
}

// run burns the CPU for about w.ns; the result depends on seed.
func (w work) run(seed uint64) uint64 { return spin(w.steps, seed) }
