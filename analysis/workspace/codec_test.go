package workspace

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// TestCodecOrigins: a conversation record keeps whether its lines came over
// UDP, and records written before (version 1) read as authenticated, so
// existing workspaces flag nothing.
func TestCodecOrigins(t *testing.T) {
	c := analysis.ConvState{Src: netip.MustParseAddr("6.6.6.6"), Dst: netip.MustParseAddr("10.20.10.12"), Proto: 6, DPort: 22,
		First: 1, Last: 2, Hosts: []string{"ahv-1"}, Samples: []string{"x"}}
	c.Sides[1].Sessions = 1
	for _, origins := range []uint8{analysis.OriginUnauthenticated, analysis.OriginAuthenticated | analysis.OriginUnauthenticated} {
		c.Origins = origins
		b := encodeState(nil, &c)
		got, err := decodeState(b)
		if err != nil || !reflect.DeepEqual(got, c) {
			t.Errorf("origins %b: round trip %+v, %v", origins, got, err)
		}
	}
	c.Origins = analysis.OriginAuthenticated
	b := encodeState(nil, &c)
	if b[0] != codecVersion {
		t.Errorf("an authenticated record is written as version %d: older versions could not read it", b[0])
	}
	if got, err := decodeState(b); err != nil || got.Origins != analysis.OriginAuthenticated {
		t.Errorf("version 1 record: origins %b, %v", got.Origins, err)
	}
	if _, err := decodeState(append(b, 0)); err == nil {
		t.Error("a version 1 record with a trailing byte decoded")
	}
}
