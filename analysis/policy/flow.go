package policy

import (
	"net/netip"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// flow is what the evaluators read of a conversation: its ends, protocol,
// destination port (ICMP: type) and direction, taken from a row of the
// table, not a copy of the whole row (lists, figures, names).
type flow struct {
	src, dst netip.Addr
	proto    uint8
	dport    uint16
	dir      ingest.Direction
}

// rowFlow returns the flow of row i of t.
func rowFlow(t *analysis.Table, i int) flow {
	return flow{src: t.Src(i), dst: t.Dst(i), proto: t.Proto(i), dport: t.DPort(i), dir: t.Direction(i)}
}
