package summary

import (
	"cmp"
	"encoding/binary"
	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/analysis/services"
	"iter"
	"maps"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

func TestOf(t *testing.T) {
	day := time.Date(2025, 4, 7, 0, 0, 0, 0, time.UTC)
	a := netip.MustParseAddr
	convs := []analysistest.Conversation{
		{Src: a("10.0.0.1"), Dst: a("10.1.0.1"), Proto: ingest.ProtoUDP, DPort: 53, Sessions: 10, OrigBytes: 100, ReplyBytes: 50,
			Tags: []analysis.Tag{{Name: "SGTSWEB", Direction: ingest.DirOutbound}}, First: day.Add(time.Hour), Last: day.Add(3 * time.Hour),
			Hourly: []analysis.Hour{{Start: day.Add(time.Hour), Sessions: 4}, {Start: day.Add(3 * time.Hour), Sessions: 6}}},
		{Src: a("10.9.0.1"), Dst: a("10.0.0.1"), Proto: ingest.ProtoTCP, DPort: 443, Sessions: 30,
			Tags: []analysis.Tag{{Name: "SGTSWEB", Direction: ingest.DirInbound}, {Name: "SGTSAPP", Direction: ingest.DirIntra}}, First: day.Add(26 * time.Hour), Last: day.Add(27 * time.Hour),
			Hourly: []analysis.Hour{{Start: day.Add(time.Hour), Sessions: 30}}},
		{Src: a("10.9.0.2"), Dst: a("10.0.0.3"), Proto: ingest.ProtoICMP, DPort: 8, Sessions: 2, Unanswered: 2, // inbound to 10.0.0.3: monitored, unlike 10.0.0.1
			Direction: ingest.DirInbound},
	}
	o := Of(analysistest.Table(convs), 1)
	checkTotals(t, o, day)
	checkTags(t, o)
	checkSeries(t, o, day)
	if got := Of(analysistest.Table(nil), 5); got.Conversations != 0 || got.Tags != nil || len(got.Hourly) != 0 {
		t.Errorf("empty: %+v", got)
	}
}

// checkTotals checks TestOf's totals and time range.
func checkTotals(t *testing.T, o Overview, day time.Time) {
	t.Helper()
	if o.Conversations != 3 || o.Sessions != 42 || o.Bytes != 150 || o.Suspect != 1 {
		t.Errorf("totals: %d convs, %d sessions, %d bytes, %d suspect", o.Conversations, o.Sessions, o.Bytes, o.Suspect)
	}
	if !o.First.Equal(day.Add(time.Hour)) || !o.Last.Equal(day.Add(27*time.Hour)) {
		t.Errorf("range %v – %v", o.First, o.Last)
	}
}

// checkTags checks TestOf's tags (SGTSWEB's sessions, top service and
// peer, SGTSAPP's intra sessions) and the untagged sessions.
func checkTags(t *testing.T, o Overview) {
	t.Helper()
	if len(o.Tags) != 2 || o.Tags[0].Name != "SGTSWEB" || o.Tags[1].Name != "SGTSAPP" {
		t.Fatalf("tags %+v", o.Tags)
	}
	web := o.Tags[0]
	if web.Sessions[ingest.DirInbound] != 30 || web.Sessions[ingest.DirOutbound] != 10 || web.Total() != 40 {
		t.Errorf("SGTSWEB sessions %v", web.Sessions)
	}
	if len(web.Services) != 1 || web.Services[0].Label != "HTTPS (443/tcp)" || web.Services[0].Value != 30 {
		t.Errorf("SGTSWEB top service %+v", web.Services)
	}
	if len(web.Peers) != 1 || web.Peers[0].Label != "10.9.0.1" {
		t.Errorf("SGTSWEB top peer %+v", web.Peers)
	}
	if o.Tags[1].Sessions[ingest.DirIntra] != 30 || len(o.Tags[1].Peers) != 0 {
		t.Errorf("SGTSAPP %+v", o.Tags[1])
	}
	if o.Untagged[ingest.DirInbound] != 2 {
		t.Errorf("untagged %v", o.Untagged)
	}
}

// checkSeries checks TestOf's top services, sessions per hour and new
// conversations per day.
func checkSeries(t *testing.T, o Overview, day time.Time) {
	t.Helper()
	if len(o.Services) != 1 || o.Services[0].Value != 30 {
		t.Errorf("services %+v", o.Services)
	}
	if len(o.Hourly) != 2 || o.Hourly[0].Sessions != 34 || o.Hourly[1].Sessions != 6 {
		t.Errorf("hourly %+v", o.Hourly)
	}
	if len(o.NewDaily) != 2 || o.NewDaily[0].Sessions != 1 || !o.NewDaily[1].Start.Equal(day.Add(24*time.Hour)) {
		t.Errorf("new per day %+v", o.NewDaily)
	}
}

// peerSums are sessions by address, of one tag, as peerCounts takes them.
type peerSums struct {
	v4    map[uint32]uint64
	other map[netip.Addr]uint64
}

// add adds n sessions of peer a.
func (p *peerSums) add(a netip.Addr, n uint64) {
	if a.Is4() {
		b := a.As4()
		p.v4[binary.BigEndian.Uint32(b[:])] += n
		return
	}
	if p.other == nil {
		p.other = make(map[netip.Addr]uint64)
	}
	p.other[a] += n
}

// TestTopCounts keeps the n largest counts, ties by label, as sorting all
// of them and cutting would.
func TestTopCounts(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 200 {
		m := map[netip.Addr]uint64{}
		for range r.IntN(60) {
			a := netip.AddrFrom4([4]byte{10, 0, byte(r.IntN(3)), byte(r.IntN(256))})
			if r.IntN(4) == 0 { // IPv6 peers beside IPv4 ones, and an IPv4-mapped one apart from its IPv4
				a = netip.AddrFrom16(a.As16())
				if r.IntN(2) == 0 {
					a = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(r.IntN(256))})
				}
			}
			m[a] = uint64(r.IntN(4))
		}
		sums := peerSums{v4: map[uint32]uint64{}}
		for a, v := range m {
			sums.add(a, v)
		}
		n := r.IntN(10) - 1
		var want []Count
		for a, v := range m {
			want = append(want, Count{Label: a.String(), Peer: a, Value: v})
		}
		slices.SortFunc(want, func(a, b Count) int { return cmp.Or(cmp.Compare(b.Value, a.Value), strings.Compare(a.Label, b.Label)) })
		if n > 0 && len(want) > n {
			want = want[:n]
		}
		if got := peerCounts(maps.All(sums.v4), sums.other, n); !slices.Equal(got, want) && len(got)+len(want) > 0 {
			t.Fatalf("round %d, n %d: %v, want %v", round, n, got, want)
		}
	}
}

// TestOfParts: the tags shared out among goroutines add up as on
// one, and a tag that only a conversation outside a time window had (its
// tag set still in the windowed table) is not listed.
func TestOfParts(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	day := time.Date(2025, 4, 7, 0, 0, 0, 0, time.UTC)
	names := []string{"APP", "WEB", "DB", "DNS", "LATE"}
	var convs []analysistest.Conversation
	dstIn := []bool{true, false, true, false} // of 172.16.x.1: the monitored set, one reading of each address
	for i := range 5000 {
		x := r.IntN(4)
		c := analysistest.Conversation{Src: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}),
			Dst: netip.AddrFrom4([4]byte{172, 16, byte(x), 1}), Proto: ingest.ProtoTCP, DPort: uint16(r.IntN(20)),
			Sessions: uint64(1 + r.IntN(5)), Direction: analysis.DirectionOf(r.IntN(2) == 0, dstIn[x])}
		if i%3 == 0 {
			c.Src = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(i >> 8), 15: byte(i)})
		}
		for _, name := range names[:4] {
			if r.IntN(2) == 0 {
				c.Tags = append(c.Tags, analysis.Tag{Name: name, Direction: ingest.Direction(r.IntN(4))})
			}
		}
		start := day.Add(time.Duration(r.IntN(48)) * time.Hour)
		if i == 77 {
			c.Tags, start = []analysis.Tag{{Name: "LATE", Direction: ingest.DirInbound}}, day.Add(72*time.Hour)
		}
		c.First, c.Last = start, start
		c.Hourly = []analysis.Hour{{Start: start, Sessions: c.Sessions}}
		convs = append(convs, c)
	}
	w := analysistest.Table(convs).Window(time.Time{}, day.Add(48*time.Hour))
	one := summarize(w, 0, 1)
	for _, tg := range one.Tags {
		if tg.Name == "LATE" {
			t.Fatalf("tag of no conversation in the window listed: %+v", tg)
		}
	}
	if len(one.Tags) != 4 {
		t.Fatalf("%d tags, want 4", len(one.Tags))
	}
	for parts := 2; parts <= 4; parts++ {
		if got := summarize(w, 0, parts); !reflect.DeepEqual(got, one) {
			t.Fatalf("%d parts: overview differs from one part's", parts)
		}
	}
}

// TestOfTagsAsAdded: each tag's sessions, services and peers (all of
// them, n = 0) are those a map a tag, row after row, adds up: IPv4 and
// IPv6 peers, every direction, conversations of several tags.
func TestOfTagsAsAdded(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	names := []string{"APP", "WEB", "DB", "DNS", "MGMT"}
	var convs []analysistest.Conversation
	for i := range 3000 {
		c := analysistest.Conversation{Src: netip.AddrFrom4([4]byte{10, 0, 0, byte(i % 50)}), // keys of i: each once
			Dst: netip.AddrFrom4([4]byte{172, 16, byte(i / 50 % 3), 1}), Proto: ingest.ProtoTCP, DPort: uint16(i / 150),
			Sessions: uint64(1 + r.IntN(9))}
		if i%5 == 0 {
			c.Dst = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i / 50 % 3)})
		}
		for _, name := range names {
			if r.IntN(3) == 0 {
				c.Tags = append(c.Tags, analysis.Tag{Name: name, Direction: ingest.Direction(r.IntN(4))})
			}
		}
		convs = append(convs, c)
	}
	tab := analysistest.Table(convs)
	want := addedTags(tab)
	o := Of(tab, 0)
	if len(o.Tags) != len(want) {
		t.Fatalf("%d tags, want %d", len(o.Tags), len(want))
	}
	asMap := func(cs []Count) map[string]uint64 {
		m := map[string]uint64{}
		for _, c := range cs {
			m[c.Label] = c.Value
		}
		return m
	}
	for _, tg := range o.Tags {
		w := want[tg.Name]
		if tg.Sessions != w.sessions || !maps.Equal(asMap(tg.Services), w.services) || !maps.Equal(asMap(tg.Peers), w.peers) {
			t.Errorf("%s: %v, services %v, peers %v; want %v, %v, %v", tg.Name, tg.Sessions, tg.Services, tg.Peers,
				w.sessions, w.services, w.peers)
		}
	}
}

// tagSums are a tag's sessions by direction, services and peers by label.
type tagSums struct {
	sessions [4]uint64
	services map[string]uint64
	peers    map[string]uint64
}

// addedTags adds up every tag of tab as a map a tag, row after row.
func addedTags(tab *analysis.Table) map[string]*tagSums {
	want := map[string]*tagSums{}
	for i := range tab.Len() {
		for _, tg := range tab.Tags(i) {
			s := want[tg.Name]
			if s == nil {
				s = &tagSums{services: map[string]uint64{}, peers: map[string]uint64{}}
				want[tg.Name] = s
			}
			s.sessions[tg.Direction&3] += tab.Sessions(i)
			s.services[services.Label(tab.Proto(i), tab.ServicePort(i))] += tab.Sessions(i)
			switch tg.Direction {
			case ingest.DirInbound:
				s.peers[tab.Src(i).String()] += tab.Sessions(i)
			case ingest.DirOutbound:
				s.peers[tab.Dst(i).String()] += tab.Sessions(i)
			}
		}
	}
	return want
}

// TestTagListSums: each tag's list, sorted by radix, adds up to what a
// map of its keys adds up to, keys varying in either half or in both.
func TestTagListSums(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, mask := range []uint32{0xffff, 0xffff0000, 0xffffffff, 0} {
		l := tagLists{start: []int{0}, end: nil}
		want := []map[uint32]uint64{}
		for range 5 {
			m := map[uint32]uint64{}
			for range r.IntN(3000) {
				key, n := r.Uint32()&mask|0x0a000000&^mask, uint64(r.IntN(100))
				l.keys, l.sessions = append(l.keys, key), append(l.sessions, n)
				m[key] += n
			}
			l.end = append(l.end, len(l.keys))
			l.start = append(l.start, len(l.keys))
			want = append(want, m)
		}
		got := make([]map[uint32]uint64, len(want))
		l.sum(2, func(k int, sums iter.Seq2[uint32, uint64]) {
			m := map[uint32]uint64{}
			last, first := uint32(0), true
			for key, v := range sums {
				if !first && key <= last {
					t.Errorf("mask %x tag %d: key %x after %x", mask, k, key, last)
				}
				last, first = key, false
				m[key] = v
			}
			got[k] = m
		})
		for k := range want {
			if !maps.Equal(got[k], want[k]) {
				t.Errorf("mask %x tag %d: %d sums, want %d", mask, k, len(got[k]), len(want[k]))
			}
		}
	}
}

// BenchmarkPeerCountsTies: the top 8 of a tag's 200,000 peers of one
// session each, every one a tie with the smallest kept.
func BenchmarkPeerCountsTies(b *testing.B) {
	keys := make([]uint32, 200_000)
	sessions := make([]uint64, len(keys))
	for i := range keys {
		keys[i], sessions[i] = 0x0a000000+uint32(i), 1
	}
	b.ReportAllocs()
	for b.Loop() {
		if cs := peerCounts(runSums(keys, sessions), nil, 8); len(cs) != 8 {
			b.Fatal(len(cs))
		}
	}
}
