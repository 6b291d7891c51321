package analysis

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"os"
	"slices"
)

// countDrainAt is how many conversations a CountOnly model holds before it
// forgets their states (census.drain); a variable for the tests. After a
// drain the model holds the conversations of its open connections, and
// the next drain waits for twice as many, as the workspace import's does.
var countDrainAt = 50_000

// census is what a CountOnly model remembers of the conversations it let
// go of: per conversation its key and its sessions per side, exactly, as
// sorted runs of compact entries (appendEntry: 13 bytes for an IPv4
// conversation of one side, against the 360 bytes of its state and its
// share of the map), one run per drain. A key is in as many runs as drains
// handed it (a conversation kept for its open connections, or one that
// came back after it was forgotten); totals adds them up.
type census struct {
	runs []run
	file *os.File // Options.CountFile: where runs go instead of the heap
	end  int64    // bytes written to file
	// kept is, per shard, how many conversations the last drain kept:
	// they are numbered first, so a conversation of a lower index was
	// handed before and one of a higher index is new since.
	kept [numShards]int
	next int // the held conversations at which to drain
}

func newCensus(file *os.File) *census { return &census{next: countDrainAt, file: file} }

// run is a sorted run of encoded entries: in the census's file at off, n
// bytes, or in mem.
type run struct {
	off, n int64
	mem    []byte
}

// add keeps the encoded run b: in the file when there is one and the write
// succeeds, else in the heap.
func (c *census) add(b []byte) {
	if c.file != nil {
		if _, err := c.file.WriteAt(b, c.end); err == nil {
			c.runs = append(c.runs, run{off: c.end, n: int64(len(b))})
			c.end += int64(len(b))
			return
		}
	}
	c.runs = append(c.runs, run{mem: b})
}

// reader returns a reader of r's bytes.
func (c *census) reader(r run) *bufio.Reader {
	if r.mem != nil {
		return bufio.NewReaderSize(bytes.NewReader(r.mem), 4<<10)
	}
	return bufio.NewReaderSize(io.NewSectionReader(c.file, r.off, r.n), 16<<10)
}

// countEntry is a conversation as the census counts it.
type countEntry struct {
	k        Key
	sessions [3]uint64 // by side, as ConvState.Sides
}

func cmpEntry(a, b *countEntry) int { return cmpKey(&a.k, &b.k) }

// cmpKey orders keys by their bytes: source, destination, port, protocol.
func cmpKey(a, b *Key) int {
	if c := bytes.Compare(a.Src[:], b.Src[:]); c != 0 {
		return c
	}
	if c := bytes.Compare(a.Dst[:], b.Dst[:]); c != 0 {
		return c
	}
	if c := cmp.Compare(a.DPort, b.DPort); c != 0 {
		return c
	}
	return cmp.Compare(a.Proto, b.Proto)
}

// drain forgets the conversations of shards no open connection refers to
// once they hold enough, after adding them to the census; those it keeps
// are emptied, as Model.Drain does. The caller holds the model's lock.
func (c *census) drain(shards *[numShards]shard) {
	held := 0
	for i := range shards {
		held += shards[i].nconv
	}
	if held < c.next {
		return
	}
	c.add(encodeRun(c.collect(shards)))
	held = 0
	for i := range shards {
		sh := &shards[i]
		idx := make([]uint32, sh.nconv) // non-zero: kept (shard.drain)
		sh.open.each(func(_ openKey, v *openVal) { idx[v.ci] = 1 })
		sh.drain(idx)
		c.kept[i] = sh.nconv
		held += sh.nconv
	}
	c.next = max(countDrainAt, 2*held)
}

// collect returns, sorted, the entries of the conversations shards hold
// that the census lacks: every conversation new since the last drain, and
// those it kept that have sessions since.
func (c *census) collect(shards *[numShards]shard) []countEntry {
	n := 0
	for i := range shards {
		n += shards[i].nconv
	}
	es := make([]countEntry, 0, n)
	for i := range shards {
		shards[i].eachConv(func(j uint32, cs *ConvState) {
			var e countEntry
			for s := range cs.Sides {
				e.sessions[s] = cs.Sides[s].Sessions
			}
			if int(j) < c.kept[i] && e.sessions == [3]uint64{} {
				return
			}
			e.k = cs.Key()
			es = append(es, e)
		})
	}
	slices.SortFunc(es, func(a, b countEntry) int { return cmpEntry(&a, &b) })
	return es
}

// totals returns how many distinct conversations the census and shards
// hold, and their connections (Model.Connections: per conversation, its
// largest side's sessions, each side's sessions summed over the
// conversation's entries), or the error reading the census's file. The
// caller holds the model's lock.
func (c *census) totals(shards *[numShards]shard) (convs int, conns int64, err error) {
	h := make(cursorHeap, 0, len(c.runs)+1)
	for _, r := range append(slices.Clip(c.runs), run{mem: encodeRun(c.collect(shards))}) {
		cur := cursor{r: c.reader(r)}
		if err := cur.next(); err == nil {
			h = append(h, cur)
		} else if err != io.EOF {
			return 0, 0, err
		}
	}
	h.init()
	var acc countEntry
	for len(h) > 0 {
		top := &h[0]
		switch {
		case convs > 0 && top.e.k == acc.k:
			for s := range acc.sessions {
				acc.sessions[s] += top.e.sessions[s]
			}
		default:
			conns += largest(acc.sessions)
			acc = top.e
			convs++
		}
		switch err := top.next(); err {
		case nil:
			h.down(0)
		case io.EOF:
			h.pop()
		default:
			return 0, 0, err
		}
	}
	return convs, conns + largest(acc.sessions), nil
}

func largest(s [3]uint64) int64 { return int64(max(s[0], s[1], s[2])) }

// v4InV6 is the prefix of an IPv4 address in its 16-byte form.
var v4InV6 = [12]byte{10: 0xff, 11: 0xff}

// Entry header bits: an address is IPv4 (4 bytes follow, not 16); a side
// has sessions (an uvarint of them follows, after the port and protocol).
const (
	entrySrc4  = 1 << 0
	entryDst4  = 1 << 1
	entrySide0 = 1 << 2 // <<s for side s
)

// encodeRun returns the entries es encoded one after another.
func encodeRun(es []countEntry) []byte {
	n := 0
	for i := range es {
		n += entrySize(&es[i])
	}
	b := make([]byte, 0, n)
	for i := range es {
		b = appendEntry(b, &es[i])
	}
	return b
}

// entrySize returns the length of e encoded.
func entrySize(e *countEntry) int {
	n := 1 + 2 + 1 + 16 + 16
	if [12]byte(e.k.Src[:12]) == v4InV6 {
		n -= 12
	}
	if [12]byte(e.k.Dst[:12]) == v4InV6 {
		n -= 12
	}
	for _, s := range e.sessions {
		if s != 0 {
			n += (bits.Len64(s) + 6) / 7
		}
	}
	return n
}

// appendEntry appends e to b: a header byte, the source and destination
// (4 bytes for an IPv4 address, else 16), the port (big-endian) and the
// protocol, then the sessions of each side that has any.
func appendEntry(b []byte, e *countEntry) []byte {
	var head byte
	src, dst := e.k.Src[:], e.k.Dst[:]
	if [12]byte(src[:12]) == v4InV6 {
		head, src = head|entrySrc4, src[12:]
	}
	if [12]byte(dst[:12]) == v4InV6 {
		head, dst = head|entryDst4, dst[12:]
	}
	for s, n := range e.sessions {
		if n != 0 {
			head |= entrySide0 << s
		}
	}
	b = append(b, head)
	b = append(b, src...)
	b = append(b, dst...)
	b = binary.BigEndian.AppendUint16(b, e.k.DPort)
	b = append(b, e.k.Proto)
	for _, n := range e.sessions {
		if n != 0 {
			b = binary.AppendUvarint(b, n)
		}
	}
	return b
}

// cursor reads a run's entries in turn.
type cursor struct {
	r   *bufio.Reader
	e   countEntry // the entry read last
	buf [16 + 16 + 3]byte
}

// next reads the next entry into cur.e. It returns io.EOF at the run's
// end, and the error of a read that fails.
func (cur *cursor) next() error {
	head, err := cur.r.ReadByte()
	if err != nil {
		return err
	}
	n := 16 + 16 + 3
	if head&entrySrc4 != 0 {
		n -= 12
	}
	if head&entryDst4 != 0 {
		n -= 12
	}
	b := cur.buf[:n]
	if _, err := io.ReadFull(cur.r, b); err != nil {
		return fmt.Errorf("count file: %w", noEOF(err))
	}
	e := &cur.e
	b = readAddr(&e.k.Src, b, head&entrySrc4 != 0)
	b = readAddr(&e.k.Dst, b, head&entryDst4 != 0)
	e.k.DPort = binary.BigEndian.Uint16(b)
	e.k.Proto = b[2]
	for s := range e.sessions {
		e.sessions[s] = 0
		if head&(entrySide0<<s) != 0 {
			if e.sessions[s], err = binary.ReadUvarint(cur.r); err != nil {
				return fmt.Errorf("count file: %w", noEOF(err))
			}
		}
	}
	return nil
}

// noEOF turns an end inside an entry into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readAddr reads an address of an entry into a, and returns what follows.
func readAddr(a *[16]byte, b []byte, v4 bool) []byte {
	if v4 {
		copy(a[:12], v4InV6[:])
		copy(a[12:], b[:4])
		return b[4:]
	}
	copy(a[:], b[:16])
	return b[16:]
}

// cursorHeap is a min-heap of cursors by their entries' keys.
type cursorHeap []cursor

func (h cursorHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

// down moves cursor i down to its place.
func (h cursorHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		j := l
		if r := l + 1; r < len(h) && cmpEntry(&h[r].e, &h[l].e) < 0 {
			j = r
		}
		if cmpEntry(&h[j].e, &h[i].e) >= 0 {
			return
		}
		h[i], h[j] = h[j], h[i]
		i = j
	}
}

// pop removes the smallest cursor.
func (h *cursorHeap) pop() {
	old := *h
	n := len(old) - 1
	old[0] = old[n]
	*h = old[:n]
	h.down(0)
}
