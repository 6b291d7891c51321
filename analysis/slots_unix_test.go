//go:build unix

package analysis

import (
	"testing"
	"unsafe"
)

// TestOutsideHeap: a model counts the slots of its tables that are mapped
// outside the heap (a workspace's commit sets its collector by them), those
// of the tables it holds now only, and none of a small table's.
func TestOutsideHeap(t *testing.T) {
	m := NewModel(Options{})
	if n := m.OutsideHeap(); n != 0 {
		t.Fatalf("an empty model: %d bytes outside the heap, want 0", n)
	}
	tb := &m.tables[3]
	size := int64(unsafe.Sizeof(slot{}))
	for i := range 20_000 {
		*tb.put(openKey{src: uint32(i), dst: 1}) = openVal{ci: uint32(i), n: 1}
		if got, mapped := m.OutsideHeap(), int64(len(tb.slots))*size; mapped < mmapMin && got != 0 ||
			mapped >= mmapMin && got != mapped {
			t.Fatalf("%d connections in %d slots: %d bytes outside the heap", i+1, len(tb.slots), got)
		}
	}
	if got := m.OutsideHeap(); got < 20_000*size {
		t.Fatalf("20,000 connections: %d bytes outside the heap, want at least %d", got, 20_000*size)
	}
}
