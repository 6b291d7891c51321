package analysis

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"unsafe"
)

// TestTableArraysHugeWhileBuilt: a large table's rows ask for huge pages
// while they are added, and no longer once the table is finished or the
// builder abandoned (or khugepaged could fill the memory again after the
// runtime returned it).
func TestTableArraysHugeWhileBuilt(t *testing.T) {
	const n = 40_000 // 5.8 MB of rows
	build := func() *TableBuilder {
		b := NewTableBuilder(nil, n, nil)
		for i := range n {
			st := ConvState{Src: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), Dst: netip.MustParseAddr("10.1.0.1"),
				Proto: 6, DPort: 443}
			b.Add(&st, 0, 0)
		}
		return b
	}
	b := build()
	rows := unsafe.Pointer(unsafe.SliceData(b.t.rows))
	if f := vmFlags(t, uintptr(rows)+hugeMin/2); !strings.Contains(f, " hg") {
		t.Errorf("rows while built: flags %q, want hg", f)
	}
	tb := b.Finish(NewMonitored(nil, nil), nil)
	if f := vmFlags(t, uintptr(rows)+hugeMin/2); strings.Contains(f, " hg") {
		t.Errorf("rows of the finished table: flags %q, want no hg", f)
	}
	b = build()
	rows = unsafe.Pointer(unsafe.SliceData(b.t.rows))
	b.Abandon()
	if f := vmFlags(t, uintptr(rows)+hugeMin/2); strings.Contains(f, " hg") {
		t.Errorf("rows abandoned: flags %q, want no hg", f)
	}
	if tb.Len() != n {
		t.Errorf("%d rows", tb.Len())
	}
}

// vmFlags returns the VmFlags line of the mapping of this process that
// holds addr.
func vmFlags(t *testing.T, addr uintptr) string {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	in := false
	for sc := bufio.NewScanner(f); sc.Scan(); {
		l := sc.Text()
		var lo, hi uintptr
		if _, err := fmt.Sscanf(l, "%x-%x ", &lo, &hi); err == nil && strings.Contains(strings.Fields(l)[0], "-") {
			in = lo <= addr && addr < hi
			continue
		}
		if in && strings.HasPrefix(l, "VmFlags:") {
			return l + " "
		}
	}
	t.Fatalf("no mapping holds %#x", addr)
	return ""
}
