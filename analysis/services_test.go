package analysis

import (
	"testing"

	"github.com/flowsleuth/flowsleuth/ingest"
)

func TestServiceName(t *testing.T) {
	tests := []struct {
		Name  string
		Proto uint8
		Port  uint16
		Want  string
	}{
		{"DNS over UDP", udp, 53, "DNS"},
		{"DNS over TCP", tcp, 53, "DNS"},
		{"LDAP", tcp, 389, "LDAP"},
		{"registered for both, listed for one", tcp, 1812, "RADIUS"},
		{"portmapper", udp, 111, "ONC RPC portmapper"},
		{"VXLAN is UDP only", udp, 4789, "VXLAN"},
		{"no VXLAN over TCP", tcp, 4789, ""},
		{"QUIC is not HTTPS", udp, 443, "QUIC"},
		{"unassigned", tcp, 47123, ""},
		{"ICMP has no ports", ingest.ProtoICMP, 8, "ICMP"},
		{"other protocols have no table", 47, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			if got := ServiceName(tc.Proto, tc.Port); got != tc.Want {
				t.Errorf("ServiceName(%d, %d) = %q, want %q", tc.Proto, tc.Port, got, tc.Want)
			}
		})
	}
}

// TestServiceTables checks the bundled tables: names set, and a service
// registered for both transports named alike in both tables.
func TestServiceTables(t *testing.T) {
	for k, name := range ianaPorts {
		if name == "" || (k.proto != tcp && k.proto != udp) {
			t.Errorf("%d/%d: %q", k.port, k.proto, name)
		}
		if both, ok := bothPorts[k]; ok && both != name {
			t.Errorf("%d/%d: %q in one table, %q in the other", k.port, k.proto, name, both)
		}
	}
}
