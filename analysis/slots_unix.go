//go:build unix

package analysis

import (
	"syscall"
	"unsafe"
)

// mmapMin is the size from which slots are mapped outside the heap.
const mmapMin = 64 << 10

// allocSlots returns n zeroed slots outside the Go heap: a table of a
// million open connections is then neither counted twice by the garbage
// collector's heap goal nor kept after a resize until the next collection.
// The slots hold no pointers, so the collector need not see them. Small
// tables stay on the heap.
func allocSlots[T any](n int) []T {
	size := n * int(unsafe.Sizeof(*new(T)))
	if size < mmapMin {
		return makeWritten[T](n)
	}
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]T, n)
	}
	adviseHuge(b)
	// A table reads a slot before it writes it (a look-up, then a put):
	// the read of a page never touched maps the kernel's shared zero page,
	// and the write after it then faults again to copy it, flushing the
	// page from every processor's TLB (an interrupt to the other
	// processors: 5% of the CPU of flows on the long-line corpus, under
	// table.resize). Every page of a table is written sooner or later (it
	// grows when 68-85% full, and its keys are spread evenly), so making
	// them all at once costs no memory.
	populate(b)
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), n)
}

// slotsOutsideHeap returns the bytes of n slots of T that allocSlots maps
// outside the Go heap: 0 for a table small enough to stay on the heap (or,
// rarely, one whose mapping failed).
func slotsOutsideHeap[T any](n int) int64 {
	if size := n * int(unsafe.Sizeof(*new(T))); size >= mmapMin {
		return int64(size)
	}
	return 0
}

// freeSlots returns slots made by allocSlots to the operating system.
func freeSlots[T any](s []T) {
	size := slotsOutsideHeap[T](len(s))
	if size == 0 {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), size)
	_ = syscall.Munmap(b) // fails only for the heap slots of a failed Mmap, which the collector frees
}

// makeWritten returns n zeroed slots of the heap whose pages are present
// and writable: slots that are read before they are written, as a probing
// table's are, would otherwise cost each page never touched two faults and
// a flush of the other processors' TLBs (see allocSlots). The collector
// frees them.
func makeWritten[T any](n int) []T {
	s := make([]T, n)
	size := n * int(unsafe.Sizeof(*new(T)))
	if size == 0 {
		return s
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), size)
	if size >= mmapMin {
		populate(b) // a large object starts a page: one call
		return s
	}
	page := syscall.Getpagesize()
	for i := 0; i < size; i += page - int(uintptr(unsafe.Pointer(&b[i])))%page {
		b[i] = 0 // each page the slots are on, written once
	}
	return s
}
