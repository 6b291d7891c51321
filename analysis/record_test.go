package analysis_test

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/ingest/demo"
)

// latest keeps the latest version of each session record, checking that
// versions of one ID only grow and that equal versions are equal records.
func latest(t *testing.T, takes ...[]analysis.SessionRecord) map[uint64]analysis.SessionRecord {
	t.Helper()
	out := make(map[uint64]analysis.SessionRecord)
	for _, take := range takes {
		for _, r := range take {
			prev, ok := out[r.ID]
			switch {
			case !ok || r.Version > prev.Version:
				out[r.ID] = r
			case r.Version == prev.Version && !reflect.DeepEqual(r, prev):
				t.Fatalf("record %d version %d taken twice with different content:\n%+v\n%+v", r.ID, r.Version, prev, r)
			case r.Version < prev.Version:
				t.Fatalf("record %d: version %d taken after %d", r.ID, r.Version, prev.Version)
			}
		}
	}
	return out
}

// recordStates sums the latest records into conversation states.
func recordStates(recs map[uint64]analysis.SessionRecord) []analysis.ConvState {
	all := make([]analysis.SessionRecord, 0, len(recs))
	for _, r := range recs {
		all = append(all, r)
	}
	return analysistest.RecordStates(all, nil)
}

func demoLines(t *testing.T, vendor string, sessions int) []string {
	t.Helper()
	var buf bytes.Buffer
	if _, _, err := demo.Generate(&buf, demo.Config{Vendor: vendor, Sessions: sessions, Seed: 9}); err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(buf.String()), "\n")
}

// TestRecordsSumToConversations is the invariant behind a shared store: the
// latest records of every session, summed, give the model's conversations,
// also when the log is read in parts that continue each other's open
// connections (a collector's imports and commits), whatever the sessions'
// fate: closed by their last line, replaced, expired, or still open.
func TestRecordsSumToConversations(t *testing.T) {
	for _, vendor := range []string{"nutanix", "nsxv", "nsxt", "nsx4"} {
		lines := demoLines(t, vendor, 1500)
		for _, opts := range []analysis.Options{
			{Records: true},
			{Records: true, IdleTimeout: 20 * time.Minute, MaxOpen: 40}, // expiry and sweeps
		} {
			whole := analysis.NewModel(analysis.Options{IdleTimeout: opts.IdleTimeout, MaxOpen: opts.MaxOpen})
			addLines(t, whole, lines)
			want := analysistest.Rows(whole.Table())
			for _, cuts := range [][]int{nil, {len(lines) / 2}, {1, len(lines) / 3, len(lines) - 7}} {
				name := fmt.Sprintf("%s/idle%v/cuts%v", vendor, opts.IdleTimeout, cuts)
				t.Run(name, func(t *testing.T) {
					var takes [][]analysis.SessionRecord
					tags := map[string]string{}
					m := analysis.NewModel(opts)
					from := 0
					for _, cut := range append(cuts, len(lines)) {
						addLines(t, m, lines[from:cut])
						takes = append(takes, m.Records())
						for r, tg := range m.RuleTags() {
							tags[r] = tg
						}
						sessions, clocks := m.Sessions()
						next := analysis.NewModel(opts)
						next.Restore(sessions, clocks)
						next.SetRecordSeq(m.RecordSeq())
						m, from = next, cut
					}
					recs := latest(t, takes...)
					states := recordStates(recs)
					got := analysistest.Build(states, analysis.NewMonitored(nil, states), tags)
					analysistest.SameConversations(t, got, want)
					sameSamples(t, got, want, len(cuts) == 0)
				})
			}
		}
	}
}

// sameSamples checks the records kept the model's evidence lines: the same
// lines when one model read everything, lines of the conversation otherwise.
func sameSamples(t *testing.T, got, want []analysistest.Conversation, exact bool) {
	t.Helper()
	for i := range got {
		g, w := slices.Clone(got[i].Samples), slices.Clone(want[i].Samples)
		slices.Sort(g)
		slices.Sort(w)
		if exact && !slices.Equal(g, w) {
			t.Fatalf("conversation %d: samples %q, want %q", i, g, w)
		}
		if len(g) == 0 || len(g) > analysis.DefaultSamples {
			t.Fatalf("conversation %d: %d samples", i, len(g))
		}
	}
}

// TestRecordsOff: without Options.Records a model takes no records.
func TestRecordsOff(t *testing.T) {
	m := analysis.NewModel(analysis.Options{})
	addLines(t, m, demoLines(t, "nsxt", 50))
	if recs := m.Records(); len(recs) != 0 {
		t.Fatalf("%d records without Options.Records", len(recs))
	}
	sessions, _ := m.Sessions()
	for _, s := range sessions {
		if s.Record != nil {
			t.Fatalf("open session with a record: %+v", s)
		}
	}
}

// TestRecordVersions: a session's records in the models that continue each
// other carry growing versions, the last one closed; a model where an open
// session saw no line does not write it again; Records can be called twice.
func TestRecordVersions(t *testing.T) {
	m := analysis.NewModel(analysis.Options{Records: true})
	feed := func(lines ...string) []analysis.SessionRecord {
		addLines(t, m, lines)
		recs := m.Records()
		if again := m.Records(); !reflect.DeepEqual(again, recs) {
			t.Fatalf("Records changed between two calls: %+v, then %+v", recs, again)
		}
		sessions, clocks := m.Sessions()
		next := analysis.NewModel(analysis.Options{Records: true})
		next.Restore(sessions, clocks)
		next.SetRecordSeq(m.RecordSeq())
		m = next
		return recs
	}
	const hdr = "<134>2025-04-10T10:00:0%d.000000+00:00 ahv-1 Genesis_1: INFO:2025/04/10 10:00:0%d  [ff16a6fb-ff89-4c2d-a9c8-f67030f93d79] Web [%s] SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPORT=40000 DPORT=443 ACTION=ALLOW DIRECTION=INBOUND"
	line := func(sec int, kind string, counters string) string {
		return fmt.Sprintf(hdr, sec, sec, kind) + counters
	}
	first := feed(line(1, "New", ""))
	again := feed()
	second := feed(line(2, "Update", " ORIG: PKTS=2 BYTES=120 REPLY: PKTS=1 BYTES=60"))
	last := feed(line(3, "Destroy", " ORIG: PKTS=4 BYTES=240 REPLY: PKTS=3 BYTES=180"))
	if len(first) != 1 || len(again) != 0 || len(second) != 1 || len(last) != 1 {
		t.Fatalf("takes: %d, %d, %d, %d records; want 1, 0, 1, 1", len(first), len(again), len(second), len(last))
	}
	r := last[0]
	if r.ID != first[0].ID || !(first[0].Version < second[0].Version && second[0].Version < r.Version) || !r.Closed || first[0].Closed {
		t.Fatalf("versions %d, %d, %d (closed %v): want one ID, growing, the last closed", first[0].Version, second[0].Version, r.Version, r.Closed)
	}
	if r.Counts != [4]uint64{4, 240, 3, 180} || r.Unanswered || r.Start != first[0].Start || r.Labels[0] != "Web" {
		t.Fatalf("final record %+v", r)
	}
}

// checkRecords compares the sum of the records with the model's
// conversations after reading lines whole and cut at every line.
func checkRecords(t *testing.T, opts analysis.Options, lines []string) {
	t.Helper()
	opts.Records = true
	whole := analysis.NewModel(opts)
	addLines(t, whole, lines)
	want := analysistest.Rows(whole.Table())
	if st := whole.Stats(); st.Events != int64(len(lines)) {
		t.Fatalf("%d of %d lines were events", st.Events, len(lines))
	}
	for cut := 0; cut < len(lines); cut++ {
		a := analysis.NewModel(opts)
		addLines(t, a, lines[:cut])
		first := a.Records()
		sessions, clocks := a.Sessions()
		b := analysis.NewModel(opts)
		b.Restore(sessions, clocks)
		b.SetRecordSeq(a.RecordSeq())
		addLines(t, b, lines[cut:])
		states := recordStates(latest(t, first, b.Records()))
		tags := a.RuleTags()
		for r, tg := range b.RuleTags() {
			tags[r] = tg
		}
		got := analysistest.Build(states, analysis.NewMonitored(nil, states), tags)
		if len(got) != len(want) {
			t.Fatalf("cut %d: %d conversations, want %d", cut, len(got), len(want))
		}
		analysistest.SameConversations(t, got, want)
	}
}

// TestRecordFates covers every way a session ends in the model, each
// checked against the conversations for every cut of the lines.
func TestRecordFates(t *testing.T) {
	const ntx = "<134>2025-04-10T%s.000000+00:00 ahv-1 Genesis_1: INFO:2025/04/10 %s  [ff16a6fb-ff89-4c2d-a9c8-f67030f93d79] Web [%s] SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPORT=40000 DPORT=443 ACTION=%s DIRECTION=INBOUND%s"
	nx := func(at, kind, action, counters string) string {
		if counters != "" {
			counters = " ORIG: PKTS=" + strings.ReplaceAll(counters, "/", " BYTES=")
			counters = strings.Replace(counters, ";", " REPLY: PKTS=", 1)
		}
		return fmt.Sprintf(ntx, at, at, kind, action, counters)
	}
	const nsx = "<14>2025-04-07T%s.000Z esx-03 dfwpktlogs: 44482 INET %s domain-c7/1001 IN %sTCP 198.51.100.164/35698->10.20.10.12/443%s"
	match := func(at, action string) string { return fmt.Sprintf(nsx, at, "match "+action, "52 ", " S SGTSWEB") }
	term := func(at string) string { return fmt.Sprintf(nsx, at, "TERM", "", " FIN 18/28 1404/38709") }
	tests := []struct {
		Name  string
		Opts  analysis.Options
		Lines []string
	}{
		{"nutanix new update destroy", analysis.Options{}, []string{
			nx("10:00:01", "New", "ALLOW", ""), nx("10:00:02", "Update", "ALLOW", "2/120;1/60"),
			nx("10:00:03", "Destroy", "ALLOW", "4/240;3/180")}},
		{"nutanix new on an open connection replaces it", analysis.Options{}, []string{
			nx("10:00:01", "New", "ALLOW", ""), nx("10:00:02", "Update", "ALLOW", "2/120;1/60"),
			nx("10:00:05", "New", "ALLOW", ""), nx("10:00:06", "Destroy", "ALLOW", "1/60;0/0")}},
		{"nutanix counters restart", analysis.Options{}, []string{
			nx("10:00:01", "Update", "ALLOW", "5/300;5/300"), nx("10:00:02", "Update", "ALLOW", "1/60;1/60"),
			nx("10:00:03", "Update", "ALLOW", "2/120;1/60")}},
		{"nutanix older report", analysis.Options{}, []string{
			nx("10:00:05", "Update", "ALLOW", "5/300;5/300"), nx("10:00:01", "Update", "ALLOW", "1/60;1/60"),
			nx("10:00:09", "Destroy", "ALLOW", "6/360;6/360")}},
		{"nutanix unanswered then answered", analysis.Options{}, []string{
			nx("10:00:01", "New", "DROP", ""), nx("10:00:02", "Update", "ALLOW", "2/120;0/0"),
			nx("10:00:03", "Update", "ALLOW", "2/120;1/60")}},
		{"nutanix idle expiry", analysis.Options{IdleTimeout: time.Minute}, []string{
			nx("10:00:01", "Update", "ALLOW", "2/120;1/60"), nx("10:30:01", "Update", "ALLOW", "4/240;1/60"),
			nx("11:30:01", "Update", "ALLOW", "1/60;1/60")}},
		{"nsx match and term", analysis.Options{}, []string{match("00:00:00", "PASS"), term("00:00:17")}},
		{"nsx repeated drops", analysis.Options{}, []string{
			match("00:00:00", "DROP"), match("00:00:00", "DROP"), match("00:00:01", "DROP"), match("00:00:03", "PASS"),
			term("00:00:09")}},
		{"nsx term alone", analysis.Options{}, []string{term("00:00:17"), term("00:00:18")}},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) { checkRecords(t, tc.Opts, tc.Lines) })
	}
}
