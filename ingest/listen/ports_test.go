package listen

import (
	"os"
	"testing"
)

func TestDefaultPort(t *testing.T) {
	got := DefaultPort()
	if got != 514 && got != 5514 {
		t.Fatalf("DefaultPort() = %d", got)
	}
	if os.Geteuid() == 0 && got != 514 {
		t.Errorf("root may bind 514, DefaultPort() = %d", got)
	}
	if got == 514 && !PrivilegedPortsAllowed() || got == 5514 && PrivilegedPortsAllowed() {
		t.Error("DefaultPort disagrees with PrivilegedPortsAllowed")
	}
}
