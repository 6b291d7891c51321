package app

import (
	"net/netip"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/analysis/summary"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// TestChartTotalsAgree: for every tag, its bar, its services donut and its
// peers donut show the same total (the tag's sessions), "Other" holding
// what the top eight leave; for all tags the services donut shows every
// session.
func TestChartTotalsAgree(t *testing.T) {
	u := demoUI(t)
	v := u.overview
	o := &u.Project().Snapshot().Overview
	for i, tag := range o.Tags {
		onUI(func() { v.tagSel.SetSelected(tag.Name) })
		label, bar, ok := v.tags.RowTotal(i)
		if !ok || label != tag.Name {
			t.Fatalf("bar %d is %q, want %q", i, label, tag.Name)
		}
		want := float64(tag.Total())
		if bar != want || v.services.Total() != want || v.peers.Total() != want {
			t.Errorf("%s: bar %v, services donut %v, peers donut %v; the tag has %v sessions",
				tag.Name, bar, v.services.Total(), v.peers.Total(), want)
		}
	}
	onUI(func() { v.tagSel.SetSelected(allTags) })
	if got := v.services.Total(); got != float64(o.Sessions) {
		t.Errorf("all tags: services donut %v, want %d sessions", got, o.Sessions)
	}
}

// TestEveryDayPlotted: new conversations per day runs to the last day of
// the period, zeros included, even when the last new conversation came
// days before its end (the flat part is the point of the chart).
func TestEveryDayPlotted(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2025, 4, d, 10, 0, 0, 0, time.UTC) }
	conv := func(i byte, first, last time.Time) analysistest.Conversation {
		return analysistest.Conversation{Src: netip.AddrFrom4([4]byte{10, 0, 0, i}), Dst: netip.MustParseAddr("10.1.0.1"),
			Proto: ingest.ProtoTCP, DPort: 443, Sessions: 1, First: first, Last: last,
			Hourly: []analysis.Hour{{Start: first.Truncate(time.Hour), Sessions: 1}}}
	}
	// New conversations on Apr 7, 7, 8 and 9; one of them still talks on Apr 14.
	convs := []analysistest.Conversation{conv(1, day(7), day(14)), conv(2, day(7), day(7)), conv(3, day(8), day(8)),
		conv(4, day(9), day(9))}
	u, _ := newTestUI(t, "")
	tb := analysistest.Table(convs)
	s := &Snapshot{Path: "test.flowsleuth", Convs: tb, Overview: summary.Of(tb, topN)}
	onUI(func() { u.overview.show(s) })
	got := u.overview.daily.Values()
	want := []float64{2, 1, 1, 0, 0, 0, 0, 0} // Apr 7 to Apr 14
	if len(got) != len(want) {
		t.Fatalf("daily chart has %d days %v, want Apr 7 to Apr 14: %v", len(got), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("day %d: %v new conversations, want %v", i, got[i], want[i])
		}
	}
	if from, _ := u.overview.daily.Bucket(7); !from.Equal(time.Date(2025, 4, 14, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("last bucket starts %v, want Apr 14", from)
	}
	hours := u.overview.hourly.Values()
	if n := len(hours); n != 7*24+1 { // Apr 7 10:00 to Apr 14 10:00
		t.Errorf("hourly chart has %d hours, want %d", n, 7*24+1)
	}
}
