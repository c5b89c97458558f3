// stub.s: empty. A Go package that declares a function without a body (nanotime in
// channel.go, bound to the runtime's by go:linkname) must contain an assembly file, on
// every architecture; fence_amd64.s is one only on amd64.
