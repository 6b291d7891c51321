package analysis

import (
	"syscall"
	"testing"
	"unsafe"
)

// TestAllocSlotsPopulated checks that a table's mapped slots are present
// before it reads any (so that no page is first mapped to the zero page
// and then copied on its first write), and zeroed.
func TestAllocSlotsPopulated(t *testing.T) {
	for _, n := range []int{mmapMin/44 + 1, 100_000, 1<<20 + 7} {
		s := allocSlots[slot](n)
		b := unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), n*int(unsafe.Sizeof(slot{})))
		page := syscall.Getpagesize()
		vec := make([]byte, (len(b)+page-1)/page)
		if _, _, errno := syscall.Syscall(syscall.SYS_MINCORE, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
			uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
			t.Fatal(errno)
		}
		for i, v := range vec {
			if v&1 == 0 {
				t.Fatalf("%d slots: page %d of %d not present", n, i, len(vec))
			}
		}
		for i := range s {
			if s[i] != (slot{}) {
				t.Fatalf("%d slots: slot %d not zero", n, i)
			}
		}
		freeSlots(s)
	}
}
