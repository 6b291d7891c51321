package ingest

import (
	"fmt"
	"testing"
	"unsafe"
)

// TestQuickHashSpread checks that the values one field takes (rule IDs,
// hosts, filter hashes that differ in one character) spread over the intern
// cache instead of evicting each other on every line.
func TestQuickHashSpread(t *testing.T) {
	for _, format := range []string{"30%02d", "esx-%02d", "38da72%02x", "host%d.example.com"} {
		slots := map[uint8]bool{}
		for i := 0; i < 16; i++ {
			slots[QuickHash(fmt.Sprintf(format, i))] = true
		}
		if len(slots) < 12 {
			t.Errorf("%q: 16 values use only %d cache slots", format, len(slots))
		}
	}
}

// TestInternShares checks that repeated values come back as one shared copy.
func TestInternShares(t *testing.T) {
	p := NewParser()
	a := p.intern([]byte("esx-01"))
	p.intern([]byte("esx-02"))
	b := p.intern([]byte("esx-01"))
	if a != b || unsafeData(a) != unsafeData(b) {
		t.Errorf("intern returned two copies of esx-01")
	}
}

func unsafeData(s string) *byte { return unsafe.StringData(s) }
