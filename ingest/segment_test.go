package ingest

import "testing"

func TestIsSegment(t *testing.T) {
	for name, want := range map[string]bool{
		"/a/syslog-20250410T101251.646Z.log":      true,
		"syslog-20250410T101251.646Z.log.gz":      true,
		"syslog-20250410T101251.646Z-2.log":       true,
		"syslog-20250410T101251.646Z.log.udp":     false,
		"syslog-20250410T101251.646Z.log.gz.tmp1": false,
		"syslog-2025.log":                         false,
		"syslog-20250410T101251.646Zx.log":        false,
		"flow.log":                                false,
	} {
		if got := IsSegment(name); got != want {
			t.Errorf("IsSegment(%q) = %v, want %v", name, got, want)
		}
	}
}
