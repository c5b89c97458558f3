//go:build !amd64

package main

// lfence is a plain (not inlined) call elsewhere: only x86 has the instruction workload.go
// wants, as in threadbench/workload.hpp's compiler-barrier fallback.
//
//go:noinline
func lfence() {}
