package rules

import (
	"strings"
	"testing"
)

// TestDescribeCountsInWords: a rule of one session says "1 session".
func TestDescribeCountsInWords(t *testing.T) {
	for n, want := range map[uint64]string{1: "— 1 session", 2: "— 2 sessions", 12431: "— 12,431 sessions"} {
		r := Rule{Src: Endpoint{Name: "Web tier"}, Dst: Endpoint{Name: "DNS"}}
		r.Evidence.Sessions = n
		if got := describe(&r); !strings.HasSuffix(got, want) {
			t.Errorf("%d sessions: %q, want … %q", n, got, want)
		}
	}
}
