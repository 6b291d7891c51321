package analysis

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"", time.Time{}, true},
		{"2025-04-10", time.Date(2025, 4, 10, 0, 0, 0, 0, time.UTC), true},
		{" 2025-04-10 13:05 ", time.Date(2025, 4, 10, 13, 5, 0, 0, time.UTC), true},
		{"2025-04-10T13:05:00+02:00", time.Date(2025, 4, 10, 11, 5, 0, 0, time.UTC), true},
		{"10/04/2025", time.Time{}, false},
		{"2025-13-01", time.Time{}, false},
	} {
		got, err := ParseTime(tc.in)
		if (err == nil) != tc.ok || !got.Equal(tc.want) {
			t.Errorf("ParseTime(%q) = %v, %v", tc.in, got, err)
		}
	}
}
