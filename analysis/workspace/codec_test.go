package workspace

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"reflect"
	"slices"
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
	b := oldRecord(&c)
	if b[0] != codecVersion {
		t.Fatalf("an authenticated record of before Origins is version %d", b[0])
	}
	if got, err := decodeState(b); err != nil || got.Origins != analysis.OriginAuthenticated || !reflect.DeepEqual(got, c) {
		t.Errorf("version 1 record: %+v, %v", got, err)
	}
	if _, err := decodeState(append(b, 0)); err == nil {
		t.Error("a version 1 record with a trailing byte decoded")
	}
}

// oldRecord is the record of c as versions 1 and 2 wrote it (before
// codecSplit): the sample lines, then the Origins byte of version 2.
func oldRecord(c *analysis.ConvState) []byte {
	b, split := encodeSplit(nil, c)
	count := binary.AppendUvarint(nil, uint64(len(c.Samples)))
	body, origins := b[1:split-len(count)-1], b[split-len(count)-1]
	out := append([]byte{codecVersion}, body...)
	out = append(append(out, count...), b[split:]...)
	if c.Origins&analysis.OriginUnauthenticated != 0 {
		out[0] = codecOrigins
		out = append(out, origins)
	}
	return out
}

// TestSplitRecord: a record of version 1 or 2 splits into the record of
// codecSplit without its lines, and its lines, which together read as the
// record did; the record alone reads without lines, with their count.
func TestSplitRecord(t *testing.T) {
	c := analysis.ConvState{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), Proto: 6, DPort: 443,
		Labels: []analysis.LabelState{{Name: "web", Sides: 1}}, Hosts: []string{"ahv-1"}, First: 3, Last: 9}
	c.Sides[0].Sessions = 2
	c.Sides[0].Hourly = []analysis.HourCount{{Hour: 5, N: 2}}
	for _, samples := range [][]string{nil, {"a"}, {"a line", "another"}} {
		for _, origins := range []uint8{analysis.OriginAuthenticated, analysis.OriginUnauthenticated} {
			c := c
			c.Samples, c.Origins = samples, origins
			checkSplit(t, &c)
			checkStored(t, &c)
		}
	}
}

// checkSplit checks the split of c's record as versions 1 and 2 wrote it,
// and of its record as written now: the parts encodeSplit writes.
func checkSplit(t *testing.T, c *analysis.ConvState) {
	t.Helper()
	state, lines, err := splitRecord(oldRecord(c))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := decodeState(append(state, lines...)); err != nil || !reflect.DeepEqual(got, *c) {
		t.Errorf("%q %b: state and lines read %+v, %v", c.Samples, c.Origins, got, err)
	}
	want, split := encodeSplit(nil, c)
	if !bytes.Equal(state, want[:split]) || !bytes.Equal(lines, want[split:]) {
		t.Errorf("%q %b: split into %x + %x, want %x + %x", c.Samples, c.Origins, state, lines, want[:split], want[split:])
	}
	if s, l, err := splitRecord(want); err != nil || !bytes.Equal(s, want[:split]) || !bytes.Equal(l, want[split:]) {
		t.Errorf("%q %b: a record of codecSplit split into %x + %x, %v", c.Samples, c.Origins, s, l, err)
	}
}

// checkStored checks that c's stored record reads alone, without its lines
// but with their count, that its lines read alone, and that a cut line is
// an error.
func checkStored(t *testing.T, c *analysis.ConvState) {
	t.Helper()
	b, split := encodeSplit(nil, c)
	state, lines := b[:split:split], b[split:]
	if ls, err := decodeLines(lines); err != nil || !slices.Equal(ls, c.Samples) {
		t.Errorf("%q: lines read %q, %v", c.Samples, ls, err)
	}
	var got analysis.ConvState
	n, err := decodeStateInto(state, &got, nil, true)
	if err != nil || n != len(c.Samples) || got.Samples != nil || !reflect.DeepEqual(got.Sides, c.Sides) {
		t.Errorf("%q: the stored record alone: %d lines, %v, %+v", c.Samples, n, err, got)
	}
	if len(lines) > 0 {
		if _, err := decodeState(append(state, lines[:len(lines)-1]...)); err == nil {
			t.Errorf("%q: a cut line decoded", c.Samples)
		}
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
			_, split := encodeSplit(nil, &c)
			for cut := 1; cut < len(b); cut++ {
				if cut == split {
					continue // the record as stored, its lines in conversation_samples
				}
				_, err1 := decodeRecord(b[:cut], &got, nil, false, &lists)
				_, err2 := decodeStateInto(b[:cut], &got, nil, false)
				if err1 == nil || err2 == nil {
					t.Fatalf("record cut at %d of %d: %v, %v", cut, len(b), err1, err2)
				}
			}
		})
	}
}

// FuzzSplitRecord: any bytes decode, split, read as lines and give a key
// without a panic; a record that decodes splits into a stored record and
// lines that read back as it did, and its key (recordKey) is its state's.
func FuzzSplitRecord(f *testing.F) {
	c := analysis.ConvState{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("2001:db8::2"), Proto: 17, DPort: 53,
		Labels: []analysis.LabelState{{Name: "dns", Sides: 3}}, Hosts: []string{"esx-1"}, Samples: []string{"a", "bc"}}
	c.Sides[1].Hourly = []analysis.HourCount{{Hour: 7, N: 1}}
	f.Add(encodeState(nil, &c))
	f.Add(oldRecord(&c))
	c.Origins = analysis.OriginUnauthenticated
	f.Add(oldRecord(&c))
	f.Fuzz(func(t *testing.T, b []byte) {
		decodeLines(b)
		var st analysis.ConvState
		decodeRecord(b, &st, nil, false, &recordLists{})
		want, err := decodeState(b)
		state, lines, serr := splitRecord(b)
		k, kerr := recordKey(b)
		if err != nil {
			if serr == nil {
				t.Fatalf("%x: split, but does not decode: %v", b, err)
			}
			return
		}
		if kerr != nil || k != want.Key() {
			t.Fatalf("%x: key %v (%v), want %v", b, k, kerr, want.Key())
		}
		if serr != nil {
			t.Fatalf("%x decodes but does not split: %v", b, serr)
		}
		if want.Origins&analysis.OriginUnauthenticated == 0 {
			want.Origins = analysis.OriginAuthenticated // as the encoders write it
		}
		got, err := decodeState(append(slices.Clip(state), lines...))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%x: split parts read %+v, %v; want %+v", b, got, err, want)
		}
	})
}
