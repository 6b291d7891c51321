//go:build unix

package analysis

import "unsafe"

// hugeMin is the size from which a table's arrays ask for huge pages.
const hugeMin = 4 << 20

// adviseHugeArray asks for huge pages (adviseHuge) for the memory of s
// up to its capacity, a fresh array the builder fills: a million rows are
// 144 MB written once in the order of the rows, and with 4 KiB pages each
// page's first write was a page fault (half the faults of reading
// wstag1m's table, 97,000 against 52,000, with the hour counts'). Small
// arrays are left as they are.
//
// The array is in the Go heap: once filled (or dropped), the builder asks
// for normal pages again (adviseNormalArray), or when the runtime
// returned the memory freed, Linux's khugepaged could make huge pages of
// it again and bring back the pages the runtime gave up (Go stopped
// asking for huge pages for its heap for that reason).
func adviseHugeArray[T any](s []T) {
	if b := arrayBytes(s); b != nil {
		adviseHuge(b)
	}
}

// adviseNormalArray undoes adviseHugeArray of s: the huge pages made stay,
// and no more are made.
func adviseNormalArray[T any](s []T) {
	if b := arrayBytes(s); b != nil {
		adviseNoHuge(b)
	}
}

// arrayBytes returns the memory of s up to its capacity from its first
// page boundary (madvise takes whole pages), nil when it is below hugeMin.
func arrayBytes[T any](s []T) []byte {
	size := uintptr(cap(s)) * unsafe.Sizeof(*new(T))
	if size < hugeMin {
		return nil
	}
	start := unsafe.Pointer(unsafe.SliceData(s[:1]))
	const page = 4096
	skip := (page - uintptr(start)%page) % page
	return unsafe.Slice((*byte)(unsafe.Add(start, skip)), size-skip)
}
