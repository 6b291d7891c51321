package ingest

import "testing"

// TestDirectionProtected: the ends a direction's enforcement point protects.
func TestDirectionProtected(t *testing.T) {
	for _, c := range []struct {
		d        Direction
		src, dst bool
	}{
		{DirUnknown, false, false},
		{DirInbound, false, true},
		{DirOutbound, true, false},
		{DirIntra, true, true},
		{Direction(9), false, false},
	} {
		if src, dst := c.d.Protected(); src != c.src || dst != c.dst {
			t.Errorf("%v: protected (%v, %v), want (%v, %v)", c.d, src, dst, c.src, c.dst)
		}
	}
}
