package main

// lfence executes x86's LFENCE (fence_amd64.s): a later instruction starts only after every
// earlier one has completed locally.
func lfence()
