package analysis

import (
	"cmp"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"runtime"
	"sync"
)

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
	return m.drain(func(idx *[numShards][]uint32) error {
		return m.eachState(func(st *ConvState, sh *shard, i uint32) error { return fn(st, idx[sh.idx][i] != 0) })
	})
}

// DrainEncoded is Drain for a caller that stores the states as bytes: enc
// appends a state's encoding to b, without its sample lines read back from
// the model's sample file (Options.SampleFile): refs says where they are,
// for SampleLines to read once the caller needs them, until the file is
// closed (it is only appended to). Without a sample file the lines are in
// the state and refs is empty. A state that holds nothing (ConvState.Empty:
// a connection restored from an earlier import kept it, and no line came)
// is not encoded. The states are encoded in batches, on as many goroutines
// as the process may run at once, and write is given each batch's bytes
// and how many states they encode, in the order Drain hands them, on the
// caller's goroutine. enc must be safe for concurrent use; write must not
// keep b.
//
// The pipeline waits while a model drains. Encoded on one goroutine, the
// 18 drains of a million conversations of one line each (ws1m's log) took
// 0.30 s of a 2.0 s import into a new workspace, the second core mostly
// idle. Encoded on both cores, with the keys read so too (sortedConvs),
// the import took 0.95-0.98x the time (three runs of 16 pairs), wstag1m's
// 0.94x (6 pairs); batches of 256 states took 1.04x those of 512.
func (m *Model) DrainEncoded(enc func(b []byte, st *ConvState, refs SampleRefs, kept bool) []byte,
	write func(b []byte, states int) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.drain(func(idx *[numShards][]uint32) error {
		workers := drainWorkers()
		convs := m.sortedConvs(workers)
		err := encodeBatches(len(convs), workers, func(b []byte, from, to int) ([]byte, int) {
			n := 0
			for _, r := range convs[from:to] {
				if r.c.Empty() {
					continue
				}
				var refs SampleRefs
				if sh := &m.shards[r.sh]; sh.spilled != nil {
					refs = sh.spilled[r.i]
				}
				b = enc(b, r.c, refs, idx[r.sh][r.i] != 0)
				n++
			}
			return b, n
		}, write)
		return cmp.Or(err, m.spill.failed())
	})
}

// drainWorkers is how many goroutines encode a drain's states: as many as
// the process may run at once, at most drainWorkersMax.
func drainWorkers() int { return min(runtime.GOMAXPROCS(0), runtime.NumCPU(), drainWorkersMax) }

// drainWorkersMax bounds the goroutines of a drain, and so the batches its
// encodings hold at once (two each).
const drainWorkersMax = 4

// drainEncodeBatch is how many states a drain encodes into one batch: a
// handover costs about a microsecond, encoding them tens.
const drainEncodeBatch = 512

// encodeBatches encodes n items in batches of drainEncodeBatch (enc appends
// the encoding of items from to to to b, and says how many it encoded) on
// workers goroutines, and hands each batch's bytes and count to write in
// order, on the caller's goroutine. Worker w encodes batches w, w+workers,
// …; each hands them on a channel of its own, which write takes in turn.
// The buffers go round: two per worker. After an error from write the
// workers stop.
func encodeBatches(n, workers int, enc func(b []byte, from, to int) ([]byte, int), write func(b []byte, items int) error) error {
	batches := (n + drainEncodeBatch - 1) / drainEncodeBatch
	span := func(i int) (int, int) { return i * drainEncodeBatch, min((i+1)*drainEncodeBatch, n) }
	if workers <= 1 || batches <= 1 {
		var b []byte
		for i := range batches {
			var items int
			from, to := span(i)
			b, items = enc(b[:0], from, to)
			if err := write(b, items); err != nil {
				return err
			}
		}
		return nil
	}
	workers = min(workers, batches)
	outs := make([]chan encoded, workers)
	free := make(chan []byte, 2*workers)
	for w := range workers {
		outs[w] = make(chan encoded, 1)
		free <- nil
		free <- nil
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < batches; i += workers {
				var b []byte
				select {
				case b = <-free:
				case <-stop:
					return
				}
				var e encoded
				from, to := span(i)
				e.b, e.items = enc(b[:0], from, to)
				select {
				case outs[w] <- e:
				case <-stop:
					return
				}
			}
		})
	}
	var err error
	for i := 0; i < batches && err == nil; i++ {
		e := <-outs[i%workers]
		err = write(e.b, e.items)
		free <- e.b
	}
	close(stop)
	wg.Wait()
	return err
}

// encoded is a batch encodeBatches encoded.
type encoded struct {
	b     []byte
	items int
}

// drain runs each, which hands the conversations over, with the new index
// (plus one) of each conversation an open connection keeps, then keeps
// those and forgets the others; the caller holds m.mu.
func (m *Model) drain(each func(idx *[numShards][]uint32) error) error {
	var idx [numShards][]uint32 // per conversation, its new index plus one; 0: forgotten
	for i := range m.shards {
		sh := &m.shards[i]
		idx[i] = make([]uint32, sh.nconv)
		sh.open.each(func(_ openKey, v *openVal) { idx[i][v.ci] = 1 })
	}
	if err := each(&idx); err != nil {
		return err
	}
	for i := range m.shards {
		m.shards[i].drain(idx[i])
	}
	return nil
}

// AppendSampleRefs appends the encoding of r to b: its length, then each
// line's place and length.
func AppendSampleRefs(b []byte, r SampleRefs) []byte {
	b = binary.AppendUvarint(b, uint64(len(r)))
	for _, x := range r {
		b = binary.AppendUvarint(binary.AppendUvarint(b, uint64(x.off)), uint64(x.n))
	}
	return b
}

// ReadSampleRefs reads what AppendSampleRefs wrote from r.
func ReadSampleRefs(r io.ByteReader) (SampleRefs, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil || n > math.MaxUint8 { // Options.Samples are at most 255
		return nil, cmp.Or(err, errors.New("too many sample lines"))
	}
	var out SampleRefs
	for range n {
		off, err1 := binary.ReadUvarint(r)
		size, err2 := binary.ReadUvarint(r)
		if err := cmp.Or(err1, err2); err != nil {
			return nil, err
		}
		if off > math.MaxInt64 || size > math.MaxUint32 {
			return nil, errors.New("sample line out of range")
		}
		out = append(out, sampleRef{int64(off), uint32(size)})
	}
	return out, nil
}

// SampleLines reads back the sample lines refs[k] of many conversations
// DrainRefs handed over, in one pass over the sample file: out[k] are the
// k-th's, nil when it has none. The lines are views of a buffer that the
// next call reuses: a caller copies what it keeps, and calls must not
// overlap. (A commit encodes them at once: allocated anew, the lines of a
// million drained conversations were 830 MB of garbage, and the collector
// a sixth of the commit's CPU.)
func (m *Model) SampleLines(refs []SampleRefs) ([][]string, error) {
	return m.SampleLinesInto(refs, &m.sampleBuf)
}

// SampleLinesInto is SampleLines with the lines in *buf, which it grows as
// needed, instead of the model's own buffer: the lines are valid until the
// caller's next use of *buf, so that callers reading several runs of
// drained states at once each keep theirs.
func (m *Model) SampleLinesInto(refs []SampleRefs, buf *[]byte) ([][]string, error) {
	if m.spill == nil {
		return make([][]string, len(refs)), nil
	}
	out := m.spill.getAll(refs, buf)
	if err := m.spill.failed(); err != nil {
		return nil, err
	}
	return out, nil
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

// HeldHours returns how many sessions-per-hour entries the conversations
// the model holds have (one per side and hour with a session; Hourly),
// plus the sessions not yet added to them. They grow with the hours the
// input spans, not only with its conversations: 42,000 conversations seen
// in most hours of a week hold millions, at 8 bytes each, so that an
// importer bounds them as it bounds the conversations, by draining.
func (m *Model) HeldHours() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for i := range m.shards {
		n += m.shards[i].hourEntries + len(m.shards[i].hours)
	}
	return n
}

// drain keeps the conversations marked in idx, emptied (their key and how
// many sample lines they took stay) and renumbered in their order, and
// forgets the others. The kept ones move down in place, into the blocks
// they were in: made anew beside the old ones and their lists, the blocks
// of the 42,000 conversations an import keeps open raised its peak (a
// 4.75 GB file, drained twice: 187 MiB against 177, median of 6 runs). The
// map is new: a map gives no memory back as it shrinks.
func (sh *shard) drain(idx []uint32) {
	sh.hourEntries = 0 // the conversations kept are kept empty
	sh.convs = convIndex{}
	n := 0
	for i := range idx {
		if idx[i] == 0 {
			continue
		}
		c := &sh.blocks[i/convBlock][i%convBlock]
		k := c.Key()
		*sh.conv(uint32(n)) = ConvState{Src: c.Src, Dst: c.Dst, Proto: c.Proto, DPort: c.DPort} // n <= i: c is read
		sh.convs.put(&k, uint32(n))
		sh.taken[n], sh.hot[n] = sh.taken[i], convHot{}
		if sh.spilled != nil {
			sh.spilled[n] = nil
		}
		idx[i] = uint32(n) + 1
		n++
	}
	// The blocks past the kept conversations are let go, and the rest of
	// the last one cleared: its states' lists go with them.
	nb := (n + convBlock - 1) / convBlock
	clear(sh.blocks[nb:])
	sh.blocks = sh.blocks[:nb]
	if nb > 0 {
		last := &sh.blocks[nb-1]
		used := n - (nb-1)*convBlock
		clear((*last)[used:])
		*last = (*last)[:used]
	}
	sh.nconv = n
	sh.taken, sh.hot = sh.taken[:n], sh.hot[:n]
	if sh.spilled != nil {
		clear(sh.spilled[n:])
		sh.spilled = sh.spilled[:n]
	}
	sh.open.each(func(_ openKey, v *openVal) { v.ci = idx[v.ci] - 1 })
}
