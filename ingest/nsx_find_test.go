package ingest

import (
	"bytes"
	"testing"
	"time"
)

// FuzzIndexINET holds indexINET to bytes.Index.
func FuzzIndexINET(f *testing.F) {
	for _, s := range []string{
		"<14>2025-06-02T06:00:00.008Z esxi-prod-01 FIREWALL_PKTLOG: 5a05ebbf INET match PASS 4100 IN 60 TCP",
		"INET", "NINET", "INE", "xINETx", "IINNEETT INET6", "NNNN", "", "I", "INETINET",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := indexINET(b), bytes.Index(b, inetWord); got != want {
			t.Fatalf("%q: %d, want %d", b, got, want)
		}
	})
}

// TestCheckTimeBounds checks the range's ends to the nanosecond.
func TestCheckTimeBounds(t *testing.T) {
	for _, c := range []struct {
		t  time.Time
		ok bool
	}{
		{time.Time{}, true},
		{MinTime, true},
		{MinTime.Add(-time.Nanosecond), false},
		{MinTime.Add(time.Nanosecond), true},
		{MaxTime, false},
		{MaxTime.Add(-time.Nanosecond), true},
		{MaxTime.Add(time.Hour), false},
		{time.Unix(0, 0).UTC(), false},
		{time.Date(2025, 6, 2, 6, 0, 0, 8e6, time.UTC), true},
	} {
		ev := Event{Time: c.t}
		if b, _ := checkTime(&ev); (b == Parsed) != c.ok {
			t.Errorf("%v: %v, want in range %v", c.t, b, c.ok)
		}
	}
}

// FuzzHoldsAnchor holds holdsAnchor to bytes.Contains.
func FuzzHoldsAnchor(f *testing.F) {
	for _, s := range []string{
		"<14>2025-06-02T06:00:00.008Z esxi-prod-01 FIREWALL_PKTLOG: ", "SG-WEB-FRONTEND",
		"] SRC=", "]] SRC=", "] SRC", "x] SRC=1", "] SR] SRC=", "]", "", "INFO:2025/04/10 10:11:55 [a] SRC=1",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := holdsAnchor(b), bytes.Contains(b, nutanixAnchor); got != want {
			t.Fatalf("%q: %v, want %v", b, got, want)
		}
	})
}
