package analysis

// Drain hands fn the state of every conversation the model holds, in the
// order of EachState, then lets go of them, so that a long import's memory
// is bounded by what it holds between drains instead of growing with the
// conversations of the whole input. A conversation no open connection
// refers to is forgotten; one that open connections refer to stays (fn is
// told: kept), with its figures, lists and sample lines emptied, and what
// its later lines add is handed by the next Drain or EachState. The states
// handed add up (ConvState.Merge, oldest first) to those of a model that
// never drained. A conversation Drain keeps gives at most Options.Samples
// sample lines over all its drains, its first ones; one it forgot takes
// lines anew if it comes back (Merge keeps the first). fn must neither keep
// nor change the state; after an error from fn the model is half drained:
// discard it.
func (m *Model) Drain(fn func(st *ConvState, kept bool) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var idx [numShards][]uint32 // per conversation, its new index plus one; 0: forgotten
	for i := range m.shards {
		sh := &m.shards[i]
		idx[i] = make([]uint32, sh.nconv)
		sh.open.each(func(_ openKey, v *openVal) { idx[i][v.ci] = 1 })
	}
	err := m.eachState(func(st *ConvState, sh *shard, i uint32) error { return fn(st, idx[sh.idx][i] != 0) })
	if err != nil {
		return err
	}
	for i := range m.shards {
		m.shards[i].drain(idx[i])
	}
	return nil
}

// Held returns how many conversations the model holds: all it has seen, or
// since its last Drain those seen since and those Drain kept.
func (m *Model) Held() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for i := range m.shards {
		n += m.shards[i].nconv
	}
	return n
}

// drain keeps the conversations marked in idx, emptied (their key and how
// many sample lines they took stay) and renumbered in their order, and
// forgets the others. The blocks and the map are new: a map gives no memory
// back as it shrinks.
func (sh *shard) drain(idx []uint32) {
	blocks, taken := sh.blocks, sh.taken
	sh.blocks, sh.nconv, sh.taken, sh.spilled, sh.hot = nil, 0, nil, nil, nil
	sh.convs = convIndex{}
	for i := range idx {
		if idx[i] == 0 {
			continue
		}
		c := &blocks[i/convBlock][i%convBlock]
		j := sh.newConv(c.Key(), c.Src.Is4())
		sh.taken[j] = taken[i]
		idx[i] = j + 1
	}
	sh.open.each(func(_ openKey, v *openVal) { v.ci = idx[v.ci] - 1 })
}
