package analysistest

import (
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// AddLines parses log lines into m; a malformed line fails the test.
func AddLines(t testing.TB, m *analysis.Model, lines []string) {
	t.Helper()
	p := ingest.NewParser()
	for _, l := range lines {
		var ev ingest.Event
		if b, err := p.Parse([]byte(l), &ev); b == ingest.Parsed {
			m.Add(&ev)
		} else if b == ingest.Malformed {
			t.Fatalf("%v: %s", err, l)
		}
	}
}
