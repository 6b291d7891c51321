//go:build !unix

package analysis

// allocSlots returns n zeroed slots.
func allocSlots(n int) []slot { return make([]slot, n) }

// freeSlots leaves slots to the garbage collector.
func freeSlots([]slot) {}
