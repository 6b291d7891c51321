package app

import (
	"strings"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis/live"
	"github.com/flowsleuth/flowsleuth/ingest/listen"
)

// TestArchiveAlert: a listener whose archive fails shows a banner that
// says so and what happens meanwhile; none while it works.
func TestArchiveAlert(t *testing.T) {
	st := live.Stats{Stats: listen.Stats{ArchiveErr: "write syslog-x.log: no space left on device"}}
	if got := archiveAlert(&st); got != "" {
		t.Errorf("banner while the archive works: %q", got)
	}
	st.ArchiveDown, st.ArchiveDownSince, st.ArchiveDropped = true, time.Date(2025, 4, 10, 10, 12, 51, 0, time.Local), 1234
	got := archiveAlert(&st)
	for _, want := range []string{"cannot be written since 10:12:51", "no space left", "no message is accepted", "1,234 UDP"} {
		if !strings.Contains(got, want) {
			t.Errorf("banner %q does not say %q", got, want)
		}
	}
}
