//go:build !amd64

package analysis

import "unsafe"

// prefetch does nothing where there is no prefetch instruction written for
// the architecture.
func prefetch(unsafe.Pointer) {}

func prefetchLine(unsafe.Pointer) {}
func prefetchFlow(unsafe.Pointer) {}
func prefetchWide(unsafe.Pointer) {}
