package analysis

// Drain hands fn the state of every conversation the model holds, in the
// order of EachState, then lets go of them, so that a long import's memory
// is bounded by what it holds between drains instead of growing with the
// conversations of the whole input. A conversation no open connection
// refers to is forgotten; one that open connections refer to stays (fn is
// told: kept), with its figures, lists and sample lines emptied, and what
// its later lines add is handed by the next Drain or EachState. The states
// handed add up (ConvState.Merge, oldest first) to those of a model that
// never drained; a conversation gives at most Options.Samples sample lines
// over all its drains, its first ones. fn must neither keep nor change the
// state; after an error from fn the model is half drained: discard it.
func (m *Model) Drain(fn func(st *ConvState, kept bool) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var idx [numShards][]uint32 // per conversation, its new index plus one; 0: forgotten
	for i := range m.shards {
		sh := &m.shards[i]
		idx[i] = make([]uint32, len(sh.convList))
		sh.open.each(func(_ openKey, v *openVal) { idx[i][v.conv] = 1 })
	}
	err := m.eachState(func(st *ConvState, sh *shard, i int) error { return fn(st, idx[sh.idx][i] != 0) })
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
		n += len(m.shards[i].convList)
	}
	return n
}

// drain keeps the conversations marked in idx, emptied and renumbered in
// their order, and forgets the others.
func (sh *shard) drain(idx []uint32) {
	var kept []*conv
	for i, c := range sh.convList {
		if idx[i] != 0 {
			kept = append(kept, c)
			idx[i] = uint32(len(kept))
			c.empty()
		}
	}
	sh.open.each(func(_ openKey, v *openVal) { v.conv = idx[v.conv] - 1 })
	// A new map: a map gives no memory back as it shrinks.
	sh.convList = kept
	sh.convs = make(map[convKey]uint32, len(kept))
	for i, c := range kept {
		sh.convs[c.key] = uint32(i)
	}
}

// empty clears what c has counted since it was made or last drained,
// keeping its identity and how many sample lines it has taken.
func (c *conv) empty() {
	*c = conv{key: c.key, v4: c.v4, taken: c.taken}
}
