package rules

import (
	"net/netip"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"

	"github.com/flowsleuth/flowsleuth/ingest"
)

func TestCheckReadiness(t *testing.T) {
	day := func(d, h int) time.Time { return time.Date(2025, 4, 7+d, h, 0, 0, 0, time.UTC) }
	c := func(src, dst string, port uint16, unanswered bool, hours ...time.Time) analysistest.Conversation {
		x := analysistest.Conversation{Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst), Proto: ingest.ProtoTCP, DPort: port,
			Direction: ingest.DirInbound, First: hours[0], Last: hours[len(hours)-1]}
		for _, h := range hours {
			x.Hourly = append(x.Hourly, analysis.Hour{Start: h, Sessions: 2})
			x.Sessions += 2
		}
		if unanswered {
			x.Unanswered = x.Sessions
		}
		return x
	}
	intra := func(x analysistest.Conversation) analysistest.Conversation { x.Direction = ingest.DirIntra; return x }
	convs := []analysistest.Conversation{
		c("198.51.100.7", "10.0.0.11", 443, false, day(0, 9), day(2, 10)),       // old: admitted
		c("198.51.100.8", "10.0.0.11", 443, false, day(2, 11)),                  // new peer, same service
		intra(c("10.0.0.11", "10.0.0.21", 8080, false, day(2, 12), day(2, 13))), // new service: blocked
		c("203.0.113.66", "10.0.0.11", 23, true, day(2, 14)),                    // a scan: under review
	}
	cut := day(2, 0)
	var trained []analysistest.Conversation
	r, err := CheckReadiness(analysistest.Table(convs), cut, Knobs{}, func(t *analysis.Table) (Set, error) {
		trained = analysistest.Rows(t)
		return Synthesize(t, Knobs{}), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(trained) != 1 || trained[0].Sessions != 2 {
		t.Fatalf("trained on %+v, want the first conversation's sessions of day 0", trained)
	}
	if r.HeldOut.Conversations != 4 || r.InReview != 1 || r.Assessed() != 3 {
		t.Errorf("held out %d, in review %d", r.HeldOut.Conversations, r.InReview)
	}
	// The rule "Any-ish 198.51.100.7 → 10.0.0.11 443" is built from one
	// peer: the new peer is blocked too, and the new service.
	if len(r.Blocked) != 2 || r.Held.DPort(int(r.Blocked[0])) != 443 || r.Held.DPort(int(r.Blocked[1])) != 8080 {
		t.Errorf("blocked %+v", r.Blocked)
	}
	if len(r.Novel) != 2 {
		t.Errorf("novel %d, want 2", len(r.Novel))
	}
	if got := r.BlockedShare(); got < 0.66 || got > 0.67 {
		t.Errorf("blocked share %.3f, want 2/3", got)
	}
	if r.BlockedSessionShare() != 6.0/10 {
		t.Errorf("blocked session share %.3f, want 6/10", r.BlockedSessionShare())
	}
	if !r.LastNew.Equal(day(2, 12)) || r.DaysSinceNew() != 2.0/24 {
		t.Errorf("last new %v, %.3f days before the end", r.LastNew, r.DaysSinceNew())
	}
	if _, err := CheckReadiness(analysistest.Table(convs), day(9, 0), Knobs{}, func(*analysis.Table) (Set, error) { return Set{}, nil }); err != ErrNoHoldout {
		t.Errorf("a cut after the end: %v", err)
	}
	if cut, _ := HoldoutCut(analysistest.Table(convs), 24*time.Hour); !cut.Equal(day(1, 14)) {
		t.Errorf("HoldoutCut: %v", cut)
	}
}
