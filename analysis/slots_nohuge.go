//go:build unix && !linux

package analysis

import "syscall"

// adviseHuge does nothing: huge pages are asked for on Linux only.
func adviseHuge([]byte) {}

// adviseNoHuge does nothing, as adviseHuge.
func adviseNoHuge([]byte) {}

// populate makes b's pages present and writable at once, one write a page:
// see allocSlots.
func populate(b []byte) {
	for i, n := 0, syscall.Getpagesize(); i < len(b); i += n {
		b[i] = 0
	}
}
