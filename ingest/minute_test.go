package ingest

import "testing"

// minuteSeqs are times read one after the other by one minuteMemo.
var minuteSeqs = [][]string{
	{"2025-06-02T06:00:00", "2025-06-02T06:00:59", "2025-06-02T06:00:60", "2025-06-02T06:00:61", "2025-06-02T06:00:0x"},
	{"2025-06-02T06:00:07", "2025-06-02T06:01:07", "2025-06-02 06:01:08", "2025/06/02 06:01:09", "2025-06-02T06:01:09"},
	{"2025-02-29T06:00:00", "2025-02-29T06:00:01"}, // not a leap year: never remembered
	{"2024-02-29T23:59:59", "2024-02-29T23:59:60", "2024-03-01T00:00:00"},
	{"2025-06-02T24:00:00", "2025-06-02T24:00:01", "2025-06-02T23:60:00"},
	{"1969-12-31T23:59:59", "2025-13-01T00:00:00", "2025-06-02T06:00:00Z", "2025-06-02T06:00:09.5"},
}

// TestMinuteMemo checks that dateTime reads every time of a sequence as
// dateTimeDigits does.
func TestMinuteMemo(t *testing.T) {
	for _, seq := range minuteSeqs {
		var m minuteMemo
		for _, s := range seq {
			checkMinute(t, &m, []byte(s))
		}
	}
}

func checkMinute(t *testing.T, m *minuteMemo, b []byte) {
	t.Helper()
	got, gotOK := m.dateTime(b)
	want, wantOK := dateTimeDigits(b)
	if got != want || gotOK != wantOK {
		t.Errorf("%q: %d, %v; want %d, %v", b, got, gotOK, want, wantOK)
	}
}

func FuzzMinuteMemo(f *testing.F) {
	for _, seq := range minuteSeqs {
		for i := 1; i < len(seq); i++ {
			f.Add([]byte(seq[i-1]), []byte(seq[i]))
		}
	}
	f.Fuzz(func(t *testing.T, first, second []byte) {
		if len(first) < 19 || len(second) < 19 {
			return
		}
		var m minuteMemo
		checkMinute(t, &m, first)
		checkMinute(t, &m, second)
	})
}
