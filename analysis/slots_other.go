//go:build !unix

package analysis

// allocSlots returns n zeroed slots.
func allocSlots[T any](n int) []T { return make([]T, n) }

// slotsOutsideHeap returns 0: every slot is on the heap.
func slotsOutsideHeap[T any](int) int64 { return 0 }

// freeSlots leaves slots to the garbage collector.
func freeSlots[T any]([]T) {}

// makeWritten returns n zeroed slots of the heap.
func makeWritten[T any](n int) []T { return make([]T, n) }
