package analysis

import "github.com/flowsleuth/flowsleuth/ingest"

// The read API of a Table beyond table.go's row accessors: what rule
// synthesis (analysis/rules) and the dashboard (analysis/summary) read of a
// row, without reaching into the row's layout.

// AnyUnanswered reports whether some session of row i was never answered.
func (t *Table) AnyUnanswered(i int) bool { return t.Unanswered(i) > 0 }

// Packets returns the packets of row i in both directions.
func (t *Table) Packets(i int) uint64 {
	r := &t.rows[t.at(i)]
	return r.origPkts + r.replyPkts
}

// OnlyUDP reports whether every line of row i arrived over UDP, whose
// sender address anyone can forge (OriginUnauthenticated).
func (t *Table) OnlyUDP(i int) bool { return t.rows[t.at(i)].flags&flagUnauthenticated != 0 }

// VendorBits returns the vendors that logged row i, as a set of bits
// 1<<ingest.Vendor: a test of one vendor without a list.
func (t *Table) VendorBits(i int) uint8 { return t.rows[t.at(i)].vendors }

// SampleCount returns how many sample lines row i has (at most
// DefaultSamples), without reading them.
func (t *Table) SampleCount(i int) int { return t.rows[t.at(i)].sampleCount() }

// CompareEnds orders rows i and j by source, destination, protocol and
// port: CompareRows without the direction.
func (t *Table) CompareEnds(i, j int) int {
	a, b := &t.rows[t.at(i)], &t.rows[t.at(j)]
	if c := compareIP(a.src, b.src, a.flags&flagSrc4 != 0, b.flags&flagSrc4 != 0); c != 0 {
		return c
	}
	return compareTail(a, b)
}

// SameSrc reports whether rows i and j have the same source address;
// SameDst, the same destination.
func (t *Table) SameSrc(i, j int) bool {
	a, b := &t.rows[t.at(i)], &t.rows[t.at(j)]
	return a.src == b.src && a.flags&flagSrc4 == b.flags&flagSrc4
}

// SameDst is SameSrc of the destination.
func (t *Table) SameDst(i, j int) bool {
	a, b := &t.rows[t.at(i)], &t.rows[t.at(j)]
	return a.dst == b.dst && a.flags&flagDst4 == b.flags&flagDst4
}

// DirectionOf is the direction of a conversation relative to a set, given
// whether its source and its destination are in the set: OUTBOUND from it,
// INBOUND to it, INTRA within it, UNKNOWN outside it.
func DirectionOf(srcIn, dstIn bool) ingest.Direction { return direction(srcIn, dstIn) }

// CompareDirections orders directions as rows are ordered: inbound,
// outbound, intra, unknown.
func CompareDirections(a, b ingest.Direction) int { return dirRank[a] - dirRank[b] }

// The read API of a row for people (the exports, the app's views and its
// details pane), one field at a time.

// Counters returns the packets and bytes of row i from source to
// destination (orig) and back (reply).
func (t *Table) Counters(i int) (origPkts, origBytes, replyPkts, replyBytes uint64) {
	r := &t.rows[t.at(i)]
	return r.origPkts, r.origBytes, r.replyPkts, r.replyBytes
}

// Vendors returns the vendors that logged row i, in enum order, shared.
func (t *Table) Vendors(i int) []ingest.Vendor { return vendorSets[t.rows[t.at(i)].vendors] }

// SrcVM returns what the inventory says of row i's source (the empty label
// when nothing), shared; DstVM, of its destination.
func (t *Table) SrcVM(i int) VMLabel { return t.inv[t.rows[t.at(i)].srcInv] }

// DstVM is SrcVM of the destination.
func (t *Table) DstVM(i int) VMLabel { return t.inv[t.rows[t.at(i)].dstInv] }
