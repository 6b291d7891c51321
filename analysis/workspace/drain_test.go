package workspace

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
)

// importTwo imports a log cut in two files into a new workspace, with
// imports that drain their model once it holds drainAt conversations, and
// returns the workspace's conversations.
func importTwo(t *testing.T, lines []string, drainAt int) []analysistest.Conversation {
	t.Helper()
	return importTwoAt(t, lines, drainAt, drainHours)
}

// importTwoAt is importTwo with imports that also drain once their model
// holds hoursAt sessions-per-hour entries.
func importTwoAt(t *testing.T, lines []string, drainAt, hoursAt int) []analysistest.Conversation {
	t.Helper()
	defer func(n, h int) { drainConversations, drainHours = n, h }(drainConversations, drainHours)
	drainConversations, drainHours = drainAt, hoursAt
	dir := t.TempDir()
	first, second := filepath.Join(dir, "1.log"), filepath.Join(dir, "2.log")
	os.WriteFile(first, []byte(strings.Join(lines[:len(lines)/2], "")), 0o644)
	os.WriteFile(second, []byte(strings.Join(lines[len(lines)/2:], "")), 0o644)
	ws := openTemp(t)
	stale := ws.Path() + ".import-1234"
	os.WriteFile(stale, []byte("left by a crash"), 0o644)
	for _, f := range []string{first, second} {
		if _, err := ws.Import(ctx, []string{f}, ImportOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if left, _ := filepath.Glob(ws.Path() + ".import-*"); len(left) != 0 {
		t.Errorf("left beside the workspace: %v", left)
	}
	got, err := analysistest.RowsOf(ws.Conversations(ctx, Query{}))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestLeftoversRemovedWhenNothingIsNew: an import killed between its commit
// and the removal of its files leaves them beside the workspace; the next
// import of the same files, which finds nothing new and reads nothing,
// still removes them (found by TestImportSurvivesKill's kill at 95%).
func TestLeftoversRemovedWhenNothingIsNew(t *testing.T) {
	log := filepath.Join(t.TempDir(), "1.log")
	_, lines := demoLog(t, "nutanix", 200)
	os.WriteFile(log, []byte(strings.Join(lines, "")), 0o644)
	ws := openTemp(t)
	if _, err := ws.Import(ctx, []string{log}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	stale := ws.Path() + ".import-1234"
	os.WriteFile(stale, []byte("left by a kill after the commit"), 0o644)
	res, err := ws.Import(ctx, []string{log}, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Outcome != Already {
		t.Fatalf("second import: %+v, want the file found imported already", res)
	}
	if left, _ := filepath.Glob(ws.Path() + ".import-*"); len(left) != 0 {
		t.Errorf("left beside the workspace: %v", left)
	}
}

// TestDrainedImportSameAsWhole imports a log in two files, each import
// draining its model at almost every batch: the workspace holds exactly the
// conversations, sample lines included, of the same imports that did not
// drain, and no drain file is left beside it, not even one a crashed
// import left.
func TestDrainedImportSameAsWhole(t *testing.T) {
	for _, vendor := range []string{"nutanix", "nsxv"} {
		t.Run(vendor, func(t *testing.T) {
			_, lines := demoLog(t, vendor, 12000)
			want := importTwo(t, lines, 1<<30)
			got := importTwo(t, lines, 1)
			analysistest.SameConversations(t, got, want)
			for i := range got {
				if !reflect.DeepEqual(got[i].Samples, want[i].Samples) {
					t.Fatalf("conversation %d: samples %q, want %q", i, got[i].Samples, want[i].Samples)
				}
			}
		})
	}
}

// TestDrainFileRoundTrip: the states a drain writes are read back as they
// were handed.
func TestDrainFileRoundTrip(t *testing.T) {
	defer func(n int) { drainConversations = n }(drainConversations)
	drainConversations = 1
	path, _ := demoLog(t, "nutanix", 300)
	m := analysis.NewModel(analysis.Options{})
	if _, err := analysis.Import(ctx, m, []string{path}, analysis.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	want := m.States()
	ws := openTemp(t)
	d := ws.newDrainFile()
	defer d.close()
	room, err := d.maybe(m)
	if err != nil {
		t.Fatal(err)
	}
	if want := max(drainConversations, 2*m.Held()) - m.Held(); room != want {
		t.Errorf("room for %d more conversations after the drain, want %d", room, want)
	}
	var got []analysis.ConvState
	err = d.mergeDrained(m, func(st *analysis.ConvState) error {
		got = append(got, *st)
		got[len(got)-1].Samples = append([]string(nil), st.Samples...)
		return nil
	}, func(func(*analysis.ConvState) error) error { return nil }) // the model's states: none
	if err != nil || len(got) != len(want) || d.records != len(want) {
		t.Fatalf("%d states read (%v), %d written, want %d", len(got), err, d.records, len(want))
	}
}

// TestDrainsOnTime: the import looks at its model only once enough lines
// have come for it to hold drainConversations (a line adds at most one
// conversation), and still drains as often as before: on a file of 60,000
// conversations of one line each, every one ended, it drains each time the
// model holds drainConversations, at most a batch of lines (a MiB) late.
func TestDrainsOnTime(t *testing.T) {
	defer func(n int) { drainConversations = n }(drainConversations)
	drainConversations = 10_000
	var held []int
	onDrain = func(n int) { held = append(held, n) }
	defer func() { onDrain = nil }()
	var b strings.Builder
	const n = 60_000
	for i := range n {
		fmt.Fprintf(&b, "INFO:2025/04/10 10:%02d:%02d  [6b9c2f0e-3d41-4c7a-9e85-0a1f2b3c4d5e] App [Destroy] SRC=10.%d.%d.%d "+
			"DST=10.0.0.1 PROTO=TCP SPORT=40000 DPORT=443 ACTION=ALLOW DIRECTION=INBOUND ORIG: PKTS=1 BYTES=60 REPLY: PKTS=1 BYTES=60\n",
			i/1000%60, i%60, i>>16&255, i>>8&255, i&255)
	}
	path := filepath.Join(t.TempDir(), "distinct.log")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	batch := 1 << 20 / (b.Len() / n) // lines of a MiB batch
	ws := openTemp(t)
	if _, err := ws.Import(ctx, []string{path}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("drains at %v, batch %d", held, batch)
	if len(held) < n/(drainConversations+batch) || len(held) > n/drainConversations {
		t.Errorf("%d drains, want %d to %d", len(held), n/(drainConversations+batch), n/drainConversations)
	}
	for _, h := range held {
		if h < drainConversations || h > drainConversations+batch {
			t.Errorf("drained holding %d conversations, want %d to %d", h, drainConversations, drainConversations+batch)
		}
	}
	info, err := ws.Info(ctx)
	if err != nil || info.Conversations != n {
		t.Fatalf("%d conversations in the workspace (%v), want %d", info.Conversations, err, n)
	}
}

// hourlyLines returns the lines of conv conversations that each start one
// session (a line that ends it) in each of hours hours, hour by hour.
func hourlyLines(conv, hours int) []string {
	t0 := time.Date(2025, 4, 10, 0, 0, 0, 0, time.UTC)
	var lines []string
	for h := range hours {
		for c := range conv {
			at := t0.Add(time.Duration(h)*time.Hour + time.Duration(c)*time.Second)
			lines = append(lines, fmt.Sprintf("INFO:%s  [6b9c2f0e-3d41-4c7a-9e85-0a1f2b3c4d5e] App [Destroy] SRC=10.1.%d.%d "+
				"DST=10.0.0.1 PROTO=TCP SPORT=%d DPORT=443 ACTION=ALLOW DIRECTION=INBOUND ORIG: PKTS=1 BYTES=60 REPLY: PKTS=1 BYTES=60\n",
				at.Format("2006/01/02 15:04:05"), c>>8, c&255, 40000+h%20000))
		}
	}
	return lines
}

// TestDrainsOnHours: an import whose conversations are few but span many
// hours drains once its model holds drainHours sessions-per-hour entries
// (a session adds at most one), at most a batch of lines late, and its
// workspace holds what an import that never drained stores, sessions per
// hour and sample lines included.
func TestDrainsOnHours(t *testing.T) {
	const conv, hours, at = 100, 300, 4000
	lines := hourlyLines(conv, hours)
	var held []int
	onDrain = func(n int) { held = append(held, n) }
	defer func() { onDrain = nil }()
	got := importTwoAt(t, lines, 1<<30, at)
	onDrain = nil
	batch := 1 << 20 / len(lines[0]) // lines of a MiB batch, about
	t.Logf("%d drains, batch %d", len(held), batch)
	entries := conv * hours // one a conversation and hour: each session starts in an hour of its own
	if len(held) < entries/(at+batch) || len(held) > entries/at {
		t.Errorf("%d drains, want %d to %d", len(held), entries/(at+batch), entries/at)
	}
	want := importTwoAt(t, lines, 1<<30, 1<<30)
	analysistest.SameConversations(t, got, want)
	for i := range got {
		if !reflect.DeepEqual(got[i].Samples, want[i].Samples) || !reflect.DeepEqual(got[i].Hourly, want[i].Hourly) {
			t.Fatalf("conversation %d: samples %q and hours %v, want %q and %v", i, got[i].Samples, got[i].Hourly, want[i].Samples, want[i].Hourly)
		}
	}
	if len(want) != conv || len(want[0].Hourly) == 0 {
		t.Fatalf("%d conversations, the first with %d hours, want %d with hours", len(want), len(want[0].Hourly), conv)
	}
}

// TestMergeDrainedHandsEachOnce: a commit after drains is handed every
// conversation once, in key order, its drained records and its state in
// the model merged: the sessions, hours and sample lines of a model that
// never drained. The conversations open connections keep have records in
// several runs.
func TestMergeDrainedHandsEachOnce(t *testing.T) {
	defer func(n int) { drainConversations = n }(drainConversations)
	drainConversations = 1
	for _, vendor := range []string{"nutanix", "nsxt"} {
		t.Run(vendor, func(t *testing.T) {
			path, lines := demoLog(t, vendor, 3000)
			whole := analysis.NewModel(analysis.Options{})
			if _, err := analysis.Import(ctx, whole, []string{path}, analysis.ImportOptions{}); err != nil {
				t.Fatal(err)
			}
			want := make(map[analysis.SortKey]analysis.ConvState)
			for _, st := range whole.States() {
				want[analysis.SortKeyOf(&st)] = st
			}
			const parts = 4
			m, d := drainInParts(t, lines, parts)
			if len(d.runs) != parts-1 || d.records <= len(want) {
				t.Fatalf("%d runs of %d records for %d conversations: want %d runs, some conversations in several", len(d.runs), d.records, len(want), parts-1)
			}
			var prev *analysis.SortKey
			handed := 0
			err := d.mergeDrained(m, func(st *analysis.ConvState) error {
				k := analysis.SortKeyOf(st)
				if prev != nil && prev.Compare(&k) >= 0 {
					return fmt.Errorf("%v→%v handed after a key not before it", st.Src, st.Dst)
				}
				prev = &k
				handed++
				return sameMerged(st, want)
			}, m.EachState)
			if err != nil {
				t.Fatal(err)
			}
			if handed != len(want) {
				t.Fatalf("%d conversations handed, want %d", handed, len(want))
			}
		})
	}
}

// drainInParts imports lines, cut in parts, into a model with a sample
// file, draining it into a drain file after each part but the last.
func drainInParts(t *testing.T, lines []string, parts int) (*analysis.Model, *drainFile) {
	t.Helper()
	samples, err := os.CreateTemp(t.TempDir(), "samples")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { samples.Close() })
	m := analysis.NewModel(analysis.Options{SampleFile: samples})
	d := openTemp(t).newDrainFile()
	t.Cleanup(d.close)
	for p := range parts {
		part := filepath.Join(t.TempDir(), fmt.Sprintf("%d.log", p))
		os.WriteFile(part, []byte(strings.Join(lines[p*len(lines)/parts:(p+1)*len(lines)/parts], "")), 0o644)
		if _, err := analysis.Import(ctx, m, []string{part}, analysis.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		if p < parts-1 {
			if _, err := d.maybe(m); err != nil {
				t.Fatal(err)
			}
		}
	}
	return m, d
}

// sameMerged returns an error unless st has the sessions, hours and sample
// lines of its conversation in want.
func sameMerged(st *analysis.ConvState, want map[analysis.SortKey]analysis.ConvState) error {
	w, ok := want[analysis.SortKeyOf(st)]
	if !ok {
		return fmt.Errorf("%v→%v: not a conversation of the log", st.Src, st.Dst)
	}
	for i := range st.Sides {
		if st.Sides[i].Sessions != w.Sides[i].Sessions || !slices.Equal(st.Sides[i].Hourly, w.Sides[i].Hourly) {
			return fmt.Errorf("%v→%v side %d: %d sessions %v, want %d %v", st.Src, st.Dst, i,
				st.Sides[i].Sessions, st.Sides[i].Hourly, w.Sides[i].Sessions, w.Sides[i].Hourly)
		}
	}
	if !slices.Equal(st.Samples, w.Samples) {
		return fmt.Errorf("%v→%v: samples %q, want %q", st.Src, st.Dst, st.Samples, w.Samples)
	}
	return nil
}
