package inputs

import (
	"slices"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis/workspace"
)

// TestWorkspace: each imported file becomes one row of the Sources sheet,
// with its counts, its last import and its malformed lines located.
func TestWorkspace(t *testing.T) {
	at := time.Date(2025, 4, 10, 12, 0, 0, 0, time.UTC)
	s := workspace.Source{Path: "/logs/flow.log", Size: 4096, LastImported: at,
		Malformed: []workspace.MalformedLine{{Line: 7, Reason: "no SRC"}, {Line: 9, Reason: "bad DPORT"}}}
	s.Stats.Lines, s.Stats.Events, s.Stats.Skipped, s.Stats.Unsupported, s.Stats.Malformed = 100, 90, 5, 3, 2
	got := Workspace([]workspace.Source{s, {Path: "/logs/empty.log"}})
	if len(got) != 2 {
		t.Fatalf("%d sources, want 2", len(got))
	}
	g := got[0]
	if g.Path != s.Path || g.Size != 4096 || g.Lines != 100 || g.Events != 90 || g.Skipped != 5 || g.Unsupported != 3 ||
		g.Malformed != 2 || !g.Imported.Equal(at) {
		t.Errorf("source %+v", g)
	}
	if want := []string{"/logs/flow.log:7: no SRC", "/logs/flow.log:9: bad DPORT"}; !slices.Equal(g.MalformedSamples, want) {
		t.Errorf("malformed %q, want %q", g.MalformedSamples, want)
	}
	if got[1].Path != "/logs/empty.log" || got[1].MalformedSamples != nil {
		t.Errorf("empty source %+v", got[1])
	}
}
