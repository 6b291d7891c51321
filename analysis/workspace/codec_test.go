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

// TestDecodeRecordLists: decodeRecord leaves a record's labels and hosts as
// their bytes, which read as decodeStateInto reads them; a damaged list is
// an error either way.
func TestDecodeRecordLists(t *testing.T) {
	c := analysis.ConvState{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), Proto: 6, DPort: 443,
		Labels: []analysis.LabelState{{Name: "web", Sides: 1}, {Name: "db", Sides: 2}}, Hosts: []string{"ahv-1", "ahv-2"},
		Samples: []string{"a", "b"}, Origins: analysis.OriginAuthenticated}
	c.Sides[1].Sessions = 3
	c.Sides[1].Hourly = []analysis.HourCount{{Hour: 5, N: 3}}
	for _, tc := range []struct {
		Name   string
		Labels []analysis.LabelState
		Hosts  []string
	}{
		{"lists", c.Labels, c.Hosts},
		{"no labels", nil, c.Hosts},
		{"no hosts", c.Labels, nil},
	} {
		t.Run(tc.Name, func(t *testing.T) {
			c := c
			c.Labels, c.Hosts = tc.Labels, tc.Hosts
			b := encodeState(nil, &c)
			var got analysis.ConvState
			var lists recordLists
			n, err := decodeRecord(b, &got, nil, true, &lists)
			if err != nil || n != 2 || got.Labels != nil || got.Hosts != nil {
				t.Fatalf("decodeRecord: %d lines, %v, labels %v, hosts %v", n, err, got.Labels, got.Hosts)
			}
			got.Labels, got.Hosts = decodeLabels(lists.labels, strCache{}), decodeHosts(lists.hosts, nil)
			if !reflect.DeepEqual(got, c) {
				t.Fatalf("got %+v\nwant %+v", got, c)
			}
			for cut := 1; cut < len(b); cut++ {
				_, err1 := decodeRecord(b[:cut], &got, nil, false, &lists)
				_, err2 := decodeStateInto(b[:cut], &got, nil, false)
				if err1 == nil || err2 == nil {
					t.Fatalf("record cut at %d of %d: %v, %v", cut, len(b), err1, err2)
				}
			}
		})
	}
}
