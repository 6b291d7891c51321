package app

import "testing"

func TestPlural(t *testing.T) {
	for _, tc := range []struct {
		N    int
		Noun string
		Want string
	}{
		{1, "source", "1 source"},
		{0, "source", "0 sources"},
		{37344, "rule", "37,344 rules"},
		{3117, "conversation", "3,117 conversations"},
		{1, "address", "1 address"},
		{2, "address", "2 addresses"},
		{2, "entry", "2 entries"},
		{2, "day", "2 days"},
		{2, "VM", "2 VMs"},
		{1234567, "session", "1,234,567 sessions"},
		{-3, "file", "0 files"},
	} {
		if got := plural(tc.N, tc.Noun); got != tc.Want {
			t.Errorf("plural(%d, %q) = %q, want %q", tc.N, tc.Noun, got, tc.Want)
		}
	}
}
