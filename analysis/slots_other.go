//go:build !unix

package analysis

// allocSlots returns n zeroed slots.
func allocSlots[T any](n int) []T { return make([]T, n) }

// freeSlots leaves slots to the garbage collector.
func freeSlots[T any]([]T) {}

// makeWritten returns n zeroed slots of the heap.
func makeWritten[T any](n int) []T { return make([]T, n) }
