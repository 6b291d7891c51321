//go:build unix

package analysis

import "unsafe"

// hugeMin is the size from which a table's arrays ask for huge pages.
const hugeMin = 4 << 20

// adviseHugeArray asks for huge pages (adviseHuge) for the memory of s
// up to its capacity, a fresh array the builder fills: a million rows are
// 144 MB written once in the order of the rows, and with 4 KiB pages each
// page's first write was a page fault (half the faults of reading
// wstag1m's table, 97,000 against 52,000, with the hour counts').
// Small arrays are left as they are.
func adviseHugeArray[T any](s []T) {
	size := uintptr(cap(s)) * unsafe.Sizeof(*new(T))
	if size < hugeMin {
		return
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(s[:1])))
	const page = 4096
	skip := (page - start%page) % page // madvise wants a page's start
	adviseHuge(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(s[:1])), skip)), size-skip))
}
