package listen

import (
	"os"
	"strconv"
	"strings"
)

// DefaultPort is syslog's port, 514, when this process may bind it, else
// 5514 (point the hosts' syslog target there).
func DefaultPort() int {
	if PrivilegedPortsAllowed() {
		return 514
	}
	return 5514
}

// PrivilegedPortsAllowed reports whether this process may bind port 514:
// root, CAP_NET_BIND_SERVICE, or a lowered ip_unprivileged_port_start.
func PrivilegedPortsAllowed() bool {
	if os.Geteuid() == 0 {
		return true
	}
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n <= 514 {
			return true
		}
	}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if hex, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			return err == nil && caps&(1<<10) != 0 // CAP_NET_BIND_SERVICE
		}
	}
	return false
}
