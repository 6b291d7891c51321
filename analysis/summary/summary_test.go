package summary

import (
	"cmp"
	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

func TestSummarize(t *testing.T) {
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
	o := Summarize(analysistest.Table(convs), 1)
	if o.Conversations != 3 || o.Sessions != 42 || o.Bytes != 150 || o.Suspect != 1 {
		t.Errorf("totals: %d convs, %d sessions, %d bytes, %d suspect", o.Conversations, o.Sessions, o.Bytes, o.Suspect)
	}
	if !o.First.Equal(day.Add(time.Hour)) || !o.Last.Equal(day.Add(27*time.Hour)) {
		t.Errorf("range %v – %v", o.First, o.Last)
	}
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
	if len(o.Services) != 1 || o.Services[0].Value != 30 {
		t.Errorf("services %+v", o.Services)
	}
	if len(o.Hourly) != 2 || o.Hourly[0].Sessions != 34 || o.Hourly[1].Sessions != 6 {
		t.Errorf("hourly %+v", o.Hourly)
	}
	if len(o.NewDaily) != 2 || o.NewDaily[0].Sessions != 1 || !o.NewDaily[1].Start.Equal(day.Add(24*time.Hour)) {
		t.Errorf("new per day %+v", o.NewDaily)
	}
	if got := Summarize(analysistest.Table(nil), 5); got.Conversations != 0 || got.Tags != nil || len(got.Hourly) != 0 {
		t.Errorf("empty: %+v", got)
	}
}

// TestTopCounts keeps the n largest counts, ties by label, as sorting all
// of them and cutting would.
func TestTopCounts(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 200 {
		m := map[netip.Addr]uint64{}
		for range r.IntN(60) {
			m[netip.AddrFrom4([4]byte{10, 0, byte(r.IntN(3)), byte(r.IntN(256))})] = uint64(r.IntN(4))
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
		if got := peerCounts(m, n); !slices.Equal(got, want) && len(got)+len(want) > 0 {
			t.Fatalf("round %d, n %d: %v, want %v", round, n, got, want)
		}
	}
}
