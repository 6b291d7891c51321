package analysis

import (
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// A tracked connection is forgotten once no line of it can come any more:
// when its host's clock has passed its last line by the idle timer the
// enforcement point itself applies to a connection in that state, plus
// Grace. A line of the same connection's key after that is a new
// connection. The timers are the vendors' defaults:
//
// Nutanix Flow Network Security is a stateful firewall that each AHV host
// implements with Open vSwitch ("Each AHV host implements the rules using
// OVS and OpenFlow", nutanixbible.com, Book of Network Services, Flow
// Network Security), whose connection tracking is the Linux kernel's
// nf_conntrack; its defaults (Documentation/networking/nf_conntrack-sysctl.rst,
// net/netfilter/nf_conntrack_proto_tcp.c): an established TCP connection
// 432000 s (5 days), one whose SYN was not answered (SYN_SENT) 120 s, UDP 30 s
// and 120 s once answered (udp_timeout_stream), ICMP 30 s, other protocols
// 600 s (generic).
//
// NSX distributed firewall session timers, "Default Session Timer Values"
// (NSX 4.1 Administration Guide; the same defaults in NSX-T 3.2 and NSX-V 6.4
// "Session Timers"): TCP first packet 120 s, opening 30 s, established 43200 s,
// closing 120 s, FIN wait 45 s, closed 20 s; UDP first packet 60 s, single
// 30 s, multiple 60 s; ICMP first packet 20 s, error reply 10 s. An NSX log
// shows a session's first packet (match) and its end (TERM), nothing in
// between, so a session is waited for as long as the longest timer of its
// protocol: TCP established, UDP first packet or multiple, ICMP first packet.
// A match line whose verdict drops the packet (DROP, REJECT) opens no
// session on the firewall and is never followed by a TERM: that session ends
// with its line.
//
// Grace covers what the log does not show: a line is written when the host
// reports the connection (Nutanix hit logs are periodic; an NSX TERM comes
// only after the session's last packet), hosts' clocks and syslog delays
// differ, and a session may be active for a while before it goes idle.
const Grace = 5 * time.Minute

// Vendor default idle timers, in seconds (see above).
const (
	ahvTCPEstablished = 432000
	ahvTCPSynSent     = 120
	ahvUDP            = 30
	ahvUDPStream      = 120
	ahvICMP           = 30
	ahvGeneric        = 600

	nsxTCPEstablished = 43200
	nsxUDPFirstPacket = 60
	nsxICMPFirstPkt   = 20
)

// timerSecs returns the idle timer in seconds of a tracked connection: of
// protocol proto, logged by Nutanix (else NSX), and known to be unanswered
// so far (its destination sent nothing back).
func timerSecs(nutanix bool, proto uint8, unanswered bool) int64 {
	if !nutanix {
		switch proto {
		case ingest.ProtoTCP:
			return nsxTCPEstablished
		case ingest.ProtoICMP, ingest.ProtoICMPv6:
			return nsxICMPFirstPkt
		}
		return nsxUDPFirstPacket // UDP, and the DFW's timers for other protocols are UDP's
	}
	switch proto {
	case ingest.ProtoTCP:
		if unanswered {
			return ahvTCPSynSent
		}
		return ahvTCPEstablished
	case ingest.ProtoUDP:
		if unanswered {
			return ahvUDP
		}
		return ahvUDPStream
	case ingest.ProtoICMP, ingest.ProtoICMPv6:
		return ahvICMP
	}
	return ahvGeneric
}
