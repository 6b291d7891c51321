//go:build !unix

package workspace

import "testing"

// processCPU returns -1: the process's CPU time is read on Unix only.
func processCPU(*testing.B) int64 { return -1 }
