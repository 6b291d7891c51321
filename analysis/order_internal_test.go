package analysis

import "cmp"

// Compare orders conversations as Conversations returns them: the order
// the tests check the table's against, written apart from compareRows.
func Compare(a, b conversation) int {
	return cmp.Or(
		cmp.Compare(dirRank[a.Direction], dirRank[b.Direction]),
		a.Src.Compare(b.Src),
		a.Dst.Compare(b.Dst),
		cmp.Compare(a.Proto, b.Proto),
		cmp.Compare(a.DPort, b.DPort),
	)
}
