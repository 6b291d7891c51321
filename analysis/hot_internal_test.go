package analysis

import (
	"math/rand"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// TestObserveHostsLabels holds a conversation's Hosts and Labels, which
// observe skips looking through when convHot knows them, to every host and
// every (tag, side) its lines carried, on lines that alternate between a
// few hosts, tags and sides as both-vNIC NSX sessions do.
func TestObserveHostsLabels(t *testing.T) {
	type line struct {
		host, tag string
		d         ingest.Direction
	}
	var lines []line
	for i := 0; i < 100; i++ { // two vNICs' lines in turn, each with its own tag and side
		lines = append(lines, line{"esx-1", "WEB", ingest.DirInbound}, line{"esx-2", "APP", ingest.DirOutbound})
	}
	lines = append(lines, line{"esx-3", "APP", ingest.DirInbound}, line{"esx-1", "WEB", ingest.DirOutbound},
		line{"esx-4", "DB", ingest.DirOutbound}, line{"esx-2", "APP", ingest.DirOutbound}, line{"esx-5", "WEB", ingest.DirOutbound})
	r := rand.New(rand.NewSource(1))
	hosts, tags := []string{"esx-1", "esx-2", "esx-3", "esx-4", "esx-5", "esx-6"}, []string{"WEB", "APP", "DB", "LOG"}
	for i := 0; i < 2000; i++ {
		lines = append(lines, line{hosts[r.Intn(len(hosts))], tags[r.Intn(len(tags))], ingest.DirInbound + ingest.Direction(r.Intn(2))})
	}
	m := NewModel(Options{})
	wantHosts := map[string]bool{}
	wantSides := map[string]uint8{}
	at := time.Date(2025, 6, 2, 6, 0, 0, 0, time.UTC)
	for i, l := range lines {
		ev := ingest.Event{Vendor: ingest.NSXT, Kind: ingest.KindMatch, Proto: ingest.ProtoTCP, Action: ingest.ActionAllow,
			Direction: l.d, SPort: uint16(1024 + i), DPort: 443, Time: at.Add(time.Duration(i) * time.Second),
			Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), Host: l.host, Rule: "1", Tag: l.tag}
		m.Add(&ev)
		wantHosts[l.host] = true
		wantSides[l.tag] |= 1 << l.d
		if i == 204 { // before the random lines
			checkHostsLabels(t, m, wantHosts, wantSides)
		}
	}
	checkHostsLabels(t, m, wantHosts, wantSides)
}

func checkHostsLabels(t *testing.T, m *Model, wantHosts map[string]bool, wantSides map[string]uint8) {
	t.Helper()
	sts := m.States()
	if len(sts) != 1 {
		t.Fatalf("%d conversations", len(sts))
	}
	st := sts[0]
	var got []string
	for h := range wantHosts {
		got = append(got, h)
	}
	slices.Sort(got)
	hs := slices.Clone(st.Hosts)
	slices.Sort(hs)
	if !slices.Equal(hs, got) {
		t.Errorf("hosts %v, want %v", hs, got)
	}
	gotSides := map[string]uint8{}
	for _, l := range st.Labels {
		gotSides[l.Name] |= l.Sides
	}
	for name, sides := range wantSides {
		if gotSides[name] != sides {
			t.Errorf("label %s: sides %b, want %b", name, gotSides[name], sides)
		}
	}
	if len(gotSides) != len(wantSides) {
		t.Errorf("labels %v, want %v", gotSides, wantSides)
	}
}
