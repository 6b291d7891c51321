package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestTimezone: RFC 3164 headers carry no zone; --timezone says which one
// the syslog server wrote, and the times read are moved to it (Berlin is
// UTC+1 in December, UTC+2 in July); a name that is no zone is refused
// before any file is read.
func TestTimezone(t *testing.T) {
	log := filepath.Join(t.TempDir(), "bsd.log")
	writeFile(t, log,
		"<14>Dec 30 23:59:59 esx dfwpktlogs: 38d9a1f3 INET match PASS domain-c7/1001 IN 60 TCP 10.0.0.1/50000->10.0.0.2/443 S\n"+
			"<14>Jul  1 12:00:00 esx dfwpktlogs: 38d9a1f3 INET match PASS domain-c7/1001 IN 60 TCP 10.0.0.1/50001->10.0.0.3/443 S\n")
	for _, tc := range []struct {
		zone      string
		dec, july string
	}{
		{"", "2025-12-30T23:59:59Z", "2025-07-01T12:00:00Z"},
		{"UTC", "2025-12-30T23:59:59Z", "2025-07-01T12:00:00Z"},
		{"Europe/Berlin", "2025-12-30T22:59:59Z", "2025-07-01T10:00:00Z"},
		{"America/New_York", "2025-12-31T04:59:59Z", "2025-07-01T16:00:00Z"},
	} {
		args := []string{"flows", "--format", "json", "--year", "2025"}
		if tc.zone != "" {
			args = append(args, "--timezone", tc.zone)
		}
		out := flowsleuthOK(t, append(args, log)...)
		for _, want := range []string{tc.dec, tc.july} {
			if !strings.Contains(out, `"first_seen": "`+want+`"`) {
				t.Errorf("--timezone %q: no first_seen %s in\n%s", tc.zone, want, out)
			}
		}
	}
	code, _, stderr := flowsleuth(t, "", "flows", "--timezone", "Mars/Olympus", log)
	if code == 0 || !strings.Contains(stderr, `unknown time zone "Mars/Olympus"`) {
		t.Errorf("an unknown zone: exit %d, %s", code, stderr)
	}
}
