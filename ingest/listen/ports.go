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
	start, _ := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
	status, _ := os.ReadFile("/proc/self/status")
	return mayBind514(os.Geteuid(), string(start), string(status))
}

// mayBind514 decides from the effective user id, the contents of
// ip_unprivileged_port_start and of /proc/self/status (either "" when
// unreadable) whether port 514 may be bound.
func mayBind514(euid int, unprivStart, status string) bool {
	if euid == 0 {
		return true
	}
	if n, err := strconv.Atoi(strings.TrimSpace(unprivStart)); err == nil && n <= 514 {
		return true
	}
	for _, line := range strings.Split(status, "\n") {
		if hex, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			return err == nil && caps&(1<<10) != 0 // CAP_NET_BIND_SERVICE
		}
	}
	return false
}
