package app

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// probeUI opens path in a new UI on the test driver with ProbeOpen, and
// returns the report.
func probeUI(t testing.TB, path string) OpenReport {
	t.Helper()
	got := make(chan OpenReport, 1)
	// The probe starts loads (its sorts and filters) until it reports:
	// waiting for the UI's loads before then would race with them.
	u, _ := startTestUI(t, path, func(u *UI) { u.ProbeOpen(func(r OpenReport) { got <- r }) })
	select {
	case r := <-got:
		u.Wait()
		return r
	case <-time.After(5 * time.Minute):
		t.Fatal("the probe did not report")
	}
	return OpenReport{}
}

// TestProbeOpen: the probe sees the demo workspace open, its readiness
// line computed after the Overview and its rules synthesised after that,
// and each sort and filter of the Flows view come back with the rows it
// should.
func TestProbeOpen(t *testing.T) {
	path, err := EnsureDemo(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := probeUI(t, path)
	if r.Conversations < 100 || r.Overview <= 0 || r.Flows < r.Overview || r.Readiness < r.Overview || r.Rules < r.Readiness {
		t.Fatalf("report %v", r)
	}
	if len(r.Steps) < 6 {
		t.Fatalf("%d steps: %v", len(r.Steps), r)
	}
	for _, st := range r.Steps {
		filtered := strings.HasPrefix(st.What, "filter ")
		if st.Took <= 0 || filtered && (st.Rows == 0 || st.Rows >= r.Conversations) || !filtered && st.Rows != r.Conversations {
			t.Errorf("%s: %d of %d rows in %v", st.What, st.Rows, r.Conversations, st.Took)
		}
	}
}

// BenchmarkOpenWorkspace opens the workspace FLOWSLEUTH_BENCH_WORKSPACE
// names (make bench: a million conversations) on the test driver, as
// TestProbeOpen does, and reports when the Overview, the Flows view and
// the rules showed it, how long each sort and filter of the Flows view
// took, and the process's peak resident memory (the test binary included).
func BenchmarkOpenWorkspace(b *testing.B) {
	path := os.Getenv("FLOWSLEUTH_BENCH_WORKSPACE")
	if path == "" {
		b.Skip("set FLOWSLEUTH_BENCH_WORKSPACE to a workspace (make bench makes one of a million conversations)")
	}
	var r OpenReport
	for b.Loop() {
		r = probeUI(b, path)
	}
	b.ReportMetric(float64(r.Conversations), "conversations")
	b.ReportMetric(r.Overview.Seconds(), "overview-s")
	b.ReportMetric(r.Flows.Seconds(), "flows-s")
	b.ReportMetric(r.Rules.Seconds(), "rules-s")
	b.ReportMetric(r.Readiness.Seconds(), "readiness-s")
	for _, st := range r.Steps {
		b.ReportMetric(float64(st.Took.Milliseconds()), strings.ReplaceAll(st.What, " ", "-")+"-ms")
	}
	b.ReportMetric(peakRSS(), "peak-RSS-MB")
}

// peakRSS returns the process's peak resident memory in MB (Linux; 0 elsewhere).
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// TestOpeningStatus: the status line says a workspace of an older schema
// is being upgraded (which takes a while when it is large), and only that
// one.
func TestOpeningStatus(t *testing.T) {
	b, err := os.ReadFile("../analysis/workspace/testdata/schema4.flowsleuth")
	if err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(t.TempDir(), "old.flowsleuth")
	if err := os.WriteFile(old, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := openingStatus(old); !strings.HasPrefix(got, "Upgrading "+old+" from schema 4 to ") {
		t.Errorf("schema 4: status %q, want the upgrade said", got)
	}
	fresh := filepath.Join(t.TempDir(), "new.flowsleuth")
	if got := openingStatus(fresh); got != "Opening "+fresh+"…" {
		t.Errorf("a new workspace: status %q", got)
	}
}
