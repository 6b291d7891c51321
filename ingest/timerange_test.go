package ingest

import (
	"errors"
	"strings"
	"testing"
)

// TestParseTimeRange: event times outside 2000–2199 are malformed lines, not
// events: year 9999 overflowed the model's nanosecond clock (it showed
// 1816) and the epoch read as "no time".
func TestParseTimeRange(t *testing.T) {
	nsx := "2018-07-03T19:44:09.749Z b6507827 INET match PASS mainrs/1024 IN 52 TCP 192.168.4.3/49627->192.168.4.4/49153 SEW"
	nutanix := "INFO:2025/04/10 10:11:55  [ff16a6fb-ff89-4c2d-a9c8-f67030f93d79] P [Update] SRC=10.0.0.1 DST=1.2.3.4 PROTO=TCP SPORT=1 DPORT=99"
	for _, tc := range []struct {
		line string
		ok   bool
	}{
		{nsx, true},
		{strings.Replace(nsx, "2018", "9999", 1), false},
		{strings.Replace(nsx, "2018-07-03", "1970-01-01", 1), false},
		{strings.Replace(nsx, "2018", "1999", 1), false},
		{strings.Replace(nsx, "2018", "2199", 1), true},
		{strings.Replace(nsx, "2018", "2200", 1), false},
		{nutanix, true},
		{strings.Replace(nutanix, "2025", "9999", 1), false},
		{"<134>1 9999-12-31T23:59:59Z esx FIREWALL-PKTLOG - - - b6507827 INET match PASS mainrs/1024 IN 52 TCP 192.168.4.3/49627->192.168.4.4/49153 SEW", false},
	} {
		var ev Event
		b, err := NewParser().Parse([]byte(tc.line), &ev)
		if ok := b == Parsed; ok != tc.ok {
			t.Errorf("%.40s…: %v %v, want parsed %v", tc.line, b, err, tc.ok)
		}
		if !tc.ok && !errors.Is(err, ErrTimeRange) {
			t.Errorf("%.40s…: error %v, want ErrTimeRange", tc.line, err)
		}
	}
}
