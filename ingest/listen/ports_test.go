package listen

import (
	"errors"
	"net"
	"syscall"
	"testing"
)

// TestDefaultPort asks the kernel: DefaultPort is 514 exactly when this
// process can bind 514 (TCP or UDP on loopback; skipped when both are taken).
func TestDefaultPort(t *testing.T) {
	bound, err := bind514()
	if err != nil {
		t.Skipf("port 514 in use on loopback, the kernel cannot tell: %v", err)
	}
	want := 5514
	if bound {
		want = 514
	}
	if got := DefaultPort(); got != want {
		t.Errorf("DefaultPort() = %d, but binding 514 here succeeded: %v", got, bound)
	}
}

// bind514 reports whether binding port 514 on loopback succeeds (false
// when it is refused for want of privilege); an error when the port is
// taken on both transports.
func bind514() (bool, error) {
	l, err := net.Listen("tcp", "127.0.0.1:514")
	if err == nil {
		l.Close()
		return true, nil
	}
	if errors.Is(err, syscall.EACCES) {
		return false, nil
	}
	c, uerr := net.ListenPacket("udp", "127.0.0.1:514")
	if uerr == nil {
		c.Close()
		return true, nil
	}
	if errors.Is(uerr, syscall.EACCES) {
		return false, nil
	}
	return false, errors.Join(err, uerr)
}

// TestMayBind514 covers the three ways Linux lets a process bind 514.
func TestMayBind514(t *testing.T) {
	const user = "Name:\tflowsleuth\nCapInh:\t0000000000000000\nCapEff:\t0000000000000000\n"
	tests := []struct {
		Name   string
		EUID   int
		Start  string
		Status string
		Want   bool
	}{
		{"root", 0, "1024\n", user, true},
		{"a user", 1000, "1024\n", user, false},
		{"unprivileged ports from 0 (containers)", 1000, "0\n", user, true},
		{"unprivileged ports from 514", 1000, "514\n", user, true},
		{"unprivileged ports from 515", 1000, "515\n", user, false},
		{"CAP_NET_BIND_SERVICE (setcap)", 1000, "1024\n", "CapEff:\t0000000000000400\n", true},
		{"other capabilities only", 1000, "1024\n", "CapEff:\t00000000000003ff\n", false},
		{"/proc unreadable", 1000, "", "", false},
		{"garbled", 1000, "many\n", "CapEff:\tzz\n", false},
	}
	for _, tc := range tests {
		if got := mayBind514(tc.EUID, tc.Start, tc.Status); got != tc.Want {
			t.Errorf("%s: mayBind514 = %v, want %v", tc.Name, got, tc.Want)
		}
	}
}
