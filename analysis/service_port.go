package analysis

import "github.com/flowsleuth/flowsleuth/ingest"

// ServicePort is the port that identifies c's service: its destination
// port, or 0 for ICMP, whose types are one service.
func ServicePort(c *Conversation) uint16 {
	if c.Proto == ingest.ProtoICMP || c.Proto == ingest.ProtoICMPv6 {
		return 0
	}
	return c.DPort
}
