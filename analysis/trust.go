package analysis

import "github.com/flowsleuth/flowsleuth/ingest"

// A listener cannot tell who sent a UDP datagram: its source address is
// whatever the sender wrote, so the allowlist does not keep out a forged
// one, and one datagram from a forged allowed address makes a conversation,
// then an allow rule. TCP's handshake proves the address (short of a
// machine on the path), and TLS with client certificates proves the sender.
// Conversations keep how their lines arrived, and those seen only over UDP
// go to review instead of into rules (analysis/rules).

// Origins of a conversation's lines (ConvState.Origins).
const (
	// OriginAuthenticated: a file the user imported, or a listener
	// transport that proves the sender's address (TCP, TLS).
	OriginAuthenticated uint8 = 1 << iota
	// OriginUnauthenticated: received over UDP.
	OriginUnauthenticated
)

// origin returns the Origin bit of line f.
func origin(f *ingest.Flow) uint8 {
	if f.Bits&ingest.FlowUnauthenticated != 0 {
		return OriginUnauthenticated
	}
	return OriginAuthenticated
}
