package services

import (
	"testing"

	"github.com/flowsleuth/flowsleuth/ingest"
)

func TestName(t *testing.T) {
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
			if got := Name(tc.Proto, tc.Port); got != tc.Want {
				t.Errorf("Name(%d, %d) = %q, want %q", tc.Proto, tc.Port, got, tc.Want)
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

// TestLabel: one service, one label, whichever view shows it: the
// overview's and the rules' (rules.Service.Label) read the same.
func TestLabel(t *testing.T) {
	for _, tc := range []struct {
		proto uint8
		port  uint16
		want  string
	}{
		{ingest.ProtoUDP, 53, "DNS (53/udp)"},
		{ingest.ProtoTCP, 8443, "HTTPS alternate (8443/tcp)"},
		{ingest.ProtoTCP, 49999, "49999/tcp"},
		{ingest.ProtoICMP, 0, "ICMP"},
		{ingest.ProtoICMP, 8, "ICMP"},
		{ingest.ProtoICMPv6, 128, "ICMPv6"},
		{47, 0, "protocol 47"},
	} {
		if got := Label(tc.proto, tc.port); got != tc.want {
			t.Errorf("Label(%d, %d) = %q, want %q", tc.proto, tc.port, got, tc.want)
		}
	}
}

// TestPort: the ICMP types are one service; other ports stay.
func TestPort(t *testing.T) {
	for _, tc := range []struct {
		proto       uint8
		dport, want uint16
	}{{ingest.ProtoICMP, 8, 0}, {ingest.ProtoICMPv6, 128, 0}, {ingest.ProtoTCP, 443, 443}, {ingest.ProtoUDP, 53, 53}} {
		if got := Port(tc.proto, tc.dport); got != tc.want {
			t.Errorf("Port(%d, %d) = %d, want %d", tc.proto, tc.dport, got, tc.want)
		}
	}
}
