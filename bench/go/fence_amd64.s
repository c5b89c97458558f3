// fence_amd64.s: lfence for workload.go's spin (see the paragraph above spin there).
#include "textflag.h"

// func lfence()
TEXT ·lfence(SB), NOSPLIT, $0-0
	LFENCE
	RET
