package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"unsafe"
)

// chunkSize is how much input one worker parses at a time. Lines never span
// chunks; a line longer than the chunk is malformed (ErrLineTooLong) anyway.
// (Quarter-MiB chunks took 8 MiB less at the peak but cost the model's
// look-ahead on large tables: fewer lines per shard a batch.)
const chunkSize = 1 << 20

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Batch is a run of consecutive lines of one input, parsed. Events and their
// Raw lines are only valid during the callback that receives the Batch.
type Batch struct {
	Source    string
	FirstLine int64   // number of the batch's first line, 1-based
	Events    []Event // the Parsed lines, in input order (not WithFlows)
	Stats     Stats   // what the batch's lines were; line numbers are final
	// Shards holds, with WithShards, the indices in Events (WithFlows: in
	// Flows) of each shard's events, in order.
	Shards [][]int32
	// Flows holds, with WithFlows, the Parsed lines that have both
	// addresses, in input order; their RawOff index Data, their Names
	// index Names.
	Flows []Flow
	Names []string // with WithFlows: the Flows' names; Names[0] is ""
	Data  []byte   // the batch's text

	kept bool          // Keep was called: Read does not reuse the batch
	free chan<- *chunk // where Keep's release hands the batch's chunk back
	c    *chunk
}

// Keep lets the callback that receives b hand it on: b, its Events and
// their Raw lines stay valid after the callback returns, until release is
// called (once, from any goroutine). Read reuses a kept batch's memory only
// after its release, so a consumer can work on a batch while Read parses
// the next ones; Read parses at most a few batches ahead of the releases.
func (b *Batch) Keep() (release func()) {
	b.kept = true
	c, free := b.c, b.free
	return func() { free <- c } // free has room for every chunk: never blocks
}

type chunk struct {
	seq     int64
	data    []byte
	last    bool  // the input's final chunk
	noEOL   bool  // … and it does not end with a newline
	overlen int   // lines cut out of this chunk for being longer than a chunk
	skipped int64 // bytes consumed but not in data: those lines, a BOM
	pending int64 // bytes of a last line without newline, held back
	batch   Batch
}

// MaxWorkers caps WithWorkers: every worker keeps two chunk buffers (2 MiB
// with their events) in flight, and more goroutines than cores parse no
// faster.
const MaxWorkers = 64

// Read parses every line of r, in parallel, and calls fn with the batches in
// input order from a single goroutine. name is used in error positions. Read
// returns the totals, and the first error of r, of fn, or of ctx; it checks
// ctx between reads, so an endless input stops once ctx ends (a reader
// blocked in Read must honour ctx itself: see OpenContext).
//
// Lines end with LF (CRLF included); an input whose first chunk holds CR
// but no LF has classic Mac OS line ends, and CR ends its lines.
func Read(ctx context.Context, r io.Reader, name string, fn func(*Batch) error, opts ...Option) (Stats, error) {
	o := newOptions(opts)
	workers := o.workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, MaxWorkers)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	free := make(chan *chunk, 2*workers+2)
	for i := 0; i < cap(free); i++ {
		free <- &chunk{} // buffers are made on first use: a short input needs few
	}
	todo := make(chan *chunk, cap(free))
	done := make(chan *chunk, cap(free))

	var readErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(todo)
		sp := splitter{r: r, ctx: ctx, free: free, todo: todo, hold: o.hold, flows: o.flows, first: true}
		readErr = sp.run()
	}()
	var pwg sync.WaitGroup
	for i := 0; i < workers; i++ {
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			p := &Parser{opts: o, strs: make(map[string]string)}
			for c := range todo {
				p.parseChunk(c, name)
				done <- c
			}
		}()
	}
	go func() { pwg.Wait(); close(done) }()

	var total Stats
	var fnErr error
	pending := make(map[int64]*chunk)
	next := int64(0)
	line := int64(1)
	for c := range done {
		pending[c.seq] = c
		for c := pending[next]; c != nil; c = pending[next] {
			delete(pending, next)
			next++
			c.batch.c, c.batch.free, c.batch.kept = c, free, false
			if fnErr == nil {
				fnErr = deliver(c, &line, &total, fn)
				if fnErr != nil {
					cancel()
				}
			}
			if !c.batch.kept {
				free <- c
			}
		}
	}
	wg.Wait()
	switch {
	case fnErr != nil:
		return total, fnErr
	case readErr != nil && !errors.Is(readErr, ctx.Err()):
		return total, fmt.Errorf("read %s: %w", name, readErr)
	}
	return total, ctx.Err()
}

// deliver numbers a chunk's lines and hands its batch to fn.
func deliver(c *chunk, line *int64, total *Stats, fn func(*Batch) error) error {
	b := &c.batch
	b.FirstLine = *line
	for i := range b.Stats.MalformedSamples {
		b.Stats.MalformedSamples[i].Line += *line - 1
	}
	*line += b.Stats.Lines
	total.Add(&b.Stats)
	if len(b.Events) == 0 && len(b.Flows) == 0 && b.Stats.Lines == 0 && b.Stats.Pending == 0 {
		return nil
	}
	return fn(b)
}

// splitter cuts r into chunks that end at a line end and queues them in
// order. Every byte read is accounted for: in a chunk's data, in its
// skipped bytes (a BOM, lines longer than a chunk) or in its pending bytes.
type splitter struct {
	r     io.Reader
	ctx   context.Context
	free  <-chan *chunk
	todo  chan<- *chunk
	hold  bool
	flows bool // the batches hold Flows, not Events
	first bool // nothing read yet: strip a BOM, detect CR line ends
	cr    bool // CR ends lines (no LF in the first chunk)

	carry   []byte // the start of a line that did not fit the previous chunk
	seq     int64
	discard int64 // inside a line longer than a chunk: its bytes dropped so far
	overlen int   // such lines ended and not yet reported
	skipped int64 // … and their bytes
}

func (s *splitter) run() error {
	for {
		var c *chunk
		select {
		case c = <-s.free:
		case <-s.ctx.Done():
			return s.ctx.Err()
		}
		if c.data == nil {
			c.data = make([]byte, 0, chunkSize)
			if s.flows { // lines of 128 bytes or more, most of them
				c.batch.Flows = touched(make([]Flow, 0, chunkSize/128))
			} else {
				c.batch.Events = make([]Event, 0, chunkSize/256)
			}
		}
		eof, rerr := s.fillChunk(c) // the context's end is an end of input too
		c.seq, c.last, c.overlen, c.skipped, c.pending = s.seq, eof, s.overlen, s.skipped, 0
		s.overlen, s.skipped = 0, 0
		c.noEOL = eof && len(c.data) > 0 && c.data[len(c.data)-1] != '\n'
		if eof && s.discard > 0 { // the input ends inside a line longer than a chunk
			if s.hold {
				c.pending = s.discard
			} else {
				c.overlen++
				c.skipped += s.discard
			}
			s.discard = 0
		} else if c.noEOL && s.hold {
			cut := bytes.LastIndexByte(c.data, '\n') + 1
			c.pending, c.data, c.noEOL = int64(len(c.data)-cut), c.data[:cut], false
		}
		s.seq++
		s.todo <- c
		if eof {
			return rerr
		}
	}
}

// touched writes a byte of each page of s's array and returns s. The
// garbage collector scans the whole array of a batch's Flows, whose pages
// a short batch leaves untouched: a page read first maps the kernel's zero
// page, and the parser's first write to it then faults again to copy it,
// interrupting the other processors to flush it from their TLBs (1.5% of
// the CPU of flows on an NSX corpus, in a VM). Events are left as they
// were: touching their larger array up front made Read start late enough,
// under -race on a loaded machine, to fail TestReadStopsOnEndlessLine 7
// times in 15 (main: 1 in 15).
func touched[T any](s []T) []T {
	all := s[:cap(s)]
	size := int(unsafe.Sizeof(*new(T)))
	for i := 0; i < len(all); i += max(1, 4096/size) {
		*(*byte)(unsafe.Pointer(&all[i])) = 0
	}
	return s
}

// fillChunk fills c with whole lines: the carried start of a line, then
// reads up to the last line end. It reports the end of the input (eof) and
// the read error that ended it, if any.
func (s *splitter) fillChunk(c *chunk) (eof bool, rerr error) {
	c.data = append(c.data[:0], s.carry...)
	s.carry = s.carry[:0]
	for {
		from := len(c.data)
		rerr = s.fill(c)
		eof = rerr != nil // a read error ends the input after what was read
		if errors.Is(rerr, io.EOF) {
			rerr = nil
		}
		if s.first {
			s.first = false
			s.noteStart(c)
			from = 0
		}
		if s.cr {
			crToLF(c.data[from:])
		}
		if s.discard > 0 {
			i := bytes.IndexByte(c.data, '\n')
			if i < 0 {
				s.discard += int64(len(c.data))
				c.data = c.data[:0]
				if eof {
					return eof, rerr
				}
				continue
			}
			s.overlen++
			s.skipped += s.discard + int64(i+1)
			s.discard = 0
			c.data = c.data[:copy(c.data, c.data[i+1:])]
		}
		if eof {
			return eof, rerr
		}
		if cut := bytes.LastIndexByte(c.data, '\n'); cut >= 0 {
			s.carry = append(s.carry, c.data[cut+1:]...)
			c.data = c.data[:cut+1]
			return false, nil
		}
		if len(c.data) == chunkSize { // one line longer than a whole chunk
			s.discard = chunkSize
			c.data = c.data[:0]
		}
	}
}

// noteStart looks at the input's first bytes: a UTF-8 BOM is dropped (and
// counted as read), and CR without LF means CR line ends.
func (s *splitter) noteStart(c *chunk) {
	if bytes.HasPrefix(c.data, utf8BOM) {
		c.data = c.data[:copy(c.data, c.data[len(utf8BOM):])]
		s.skipped += int64(len(utf8BOM))
	}
	s.cr = bytes.IndexByte(c.data, '\n') < 0 && bytes.IndexByte(c.data, '\r') >= 0
}

// crToLF turns CR line ends into LF.
func crToLF(b []byte) {
	for i := bytes.IndexByte(b, '\r'); i >= 0; i = bytes.IndexByte(b, '\r') {
		b[i] = '\n'
		b = b[i+1:]
	}
}

// fill reads into c until the chunk is full (nil), the reader fails (io.EOF
// at the end of input), or the context ends (its error).
func (s *splitter) fill(c *chunk) error {
	for len(c.data) < chunkSize {
		if err := s.ctx.Err(); err != nil {
			return err
		}
		n, err := s.r.Read(c.data[len(c.data):chunkSize])
		c.data = c.data[:len(c.data)+n]
		if err != nil {
			return err
		}
	}
	return nil
}

// parseChunk parses every line of c into c.batch.
func (p *Parser) parseChunk(c *chunk, name string) {
	b := &c.batch
	b.Source, b.Data = name, c.data
	b.Events, b.Flows = b.Events[:0], b.Flows[:0]
	b.Stats = Stats{Counts: Counts{Bytes: int64(len(c.data)) + c.skipped}, Pending: c.pending}
	for i := 0; i < c.overlen; i++ {
		b.Stats.count(Malformed, 0, ErrLineTooLong)
		b.Stats.sample(newParseError(name, b.Stats.Lines, nil, ErrLineTooLong))
	}
	if p.opts.flows {
		p.clearShards(b)
		p.names.reset(&b.Names)
	}
	// One look for NUL bytes in the whole chunk rather than one per line:
	// almost no input has any, and a line's look costs a call and a
	// vector loop's set-up for a line of 150–300 bytes.
	nuls := bytes.IndexByte(c.data, 0) >= 0
	data := c.data
	for len(data) > 0 {
		off := len(c.data) - len(data)
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		p.parseLine(b, line, off, c.noEOL && len(data) == 0, nuls && bytes.IndexByte(line, 0) >= 0)
	}
	if !p.opts.flows {
		p.split(b)
	}
}

// parseLine parses line, at off in b.Data, into b; cut says it is the
// input's last line and had no line end, nul that it holds a NUL byte.
func (p *Parser) parseLine(b *Batch, line []byte, off int, cut, nul bool) {
	if nul {
		b.Stats.NULLines++
	}
	if p.opts.flows && !nul && p.straightFlow(b, line, off) {
		return
	}
	ev := &p.ev // WithFlows: a Flow is kept, not the Event
	if !p.opts.flows {
		ev = p.nextEvent(b)
	}
	bucket, err := p.parse(line, ev, nul)
	switch {
	case bucket == Parsed && p.opts.flows:
		p.addFlow(b, ev, off)
	case bucket != Parsed && !p.opts.flows:
		b.Events = b.Events[:len(b.Events)-1]
	}
	if bucket == Malformed && cut && !errors.Is(err, ErrLineTooLong) {
		err = fmt.Errorf("%w: %w", ErrTruncated, err)
	}
	b.Stats.count(bucket, ev.Vendor, err)
	if bucket == Malformed {
		b.Stats.sample(newParseError(b.Source, b.Stats.Lines, line, err))
	}
}

// nextEvent returns a new last Event of b.
func (p *Parser) nextEvent(b *Batch) *Event {
	if len(b.Events) == cap(b.Events) {
		b.Events = append(b.Events, Event{})
	} else {
		b.Events = b.Events[:len(b.Events)+1]
	}
	return &b.Events[len(b.Events)-1]
}

// straightFlow reads line, at off in b.Data, straight into a Flow of b
// when it is of the vendor of the line before and one that vendor's fast
// path reads (nsxFlow, ntxFlow), counts it, and reports whether it did.
func (p *Parser) straightFlow(b *Batch, line []byte, off int) bool {
	if !p.nsxLast && !p.ntxLast {
		return false
	}
	// Lines parse reads another way, or refuses: too long, blank, JSON
	// (its text is the line).
	line = trimEOL(line)
	if len(line) == 0 || len(line) > p.opts.maxLine || line[0] == '{' {
		return false
	}
	var v Vendor
	var ok bool
	switch {
	case p.nsxLast:
		v, ok = p.nsxFlow(b, line, off)
	case p.ntxLast:
		v, ok = Nutanix, p.ntxFlow(b, line, off)
	}
	if ok {
		b.Stats.count(Parsed, v, nil)
	}
	return ok
}

// nsxFlow reads line, an NSX line after an NSX line (without its line end,
// not JSON, not too long: straightFlow), straight into a Flow of b, as
// parseLine does through an Event, and returns its vendor; when the line
// is not one nsxFirst reads, with a header the memo holds and a time in
// range, it leaves b alone and reports false. An Event (344 bytes, cleared
// for every line) and its copy into a Flow were a tenth of the parsing of
// NSX lines.
func (p *Parser) nsxFlow(b *Batch, line []byte, off int) (Vendor, bool) {
	var nf nsxFast
	s, _, ok := fastNSXLine(line, &nf)
	if !ok {
		// payload's nsxFirst would test the same text again: the line is
		// looked through as after any other (the payload's vendor sets
		// nsxLast again).
		p.nsxLast = false
		return 0, false
	}
	sec, nsec, head := p.head.reuseUnix(line[:s], &p.minute)
	if head == nil || !inTimeRange(sec) {
		return 0, false
	}
	ruleSet := p.intern(nf.ruleSet)
	vendor := nsxVersion(ruleSet, head.tag)
	bits := FlowTime | FlowSrc4
	if nf.counted {
		bits |= FlowCounters
	}
	f := p.newFlow(b)
	*f = Flow{
		Vendor: vendor, Kind: nf.kind, Proto: nf.proto, Action: nf.action, Direction: nf.dir, Bits: bits,
		SPort: nf.sport, DPort: nf.dport, Nsec: uint32(nsec), Sec: sec, RawOff: uint32(off), RawLen: uint32(len(line)),
		Src: nf.src.As16(), Dst: nf.dst.As16(),
		Counts: [4]uint64{nf.counts[0], nf.counts[2], nf.counts[1], nf.counts[3]},
		Host:   p.names.id(head.host), Set: p.names.id(ruleSet), Rule: p.names.id(p.intern(nf.rule)),
	}
	if len(nf.tag) > 0 {
		f.Tag = p.names.id(p.intern(nf.tag))
	}
	p.shardFlow(b, f)
	return vendor, true
}

// ntxFlow reads line, a Nutanix line after a Nutanix line (as nsxFlow's),
// straight into a Flow of b, as parseLine does through an Event; when the
// line is not one parseNutanix reads with its fast path
// (fastNutanixFields), with a time in range, it leaves b alone and reports
// false. A Flow holds neither the level nor the description: they are
// skipped, not interned.
func (p *Parser) ntxFlow(b *Batch, line []byte, off int) bool {
	s, anchor := levelFrom(line, p.ntxAt), -1 // -1: policyEvent looks for it
	if s < 0 {
		if s, anchor = findNutanix(line); s < 0 {
			p.ntxLast = false // parse looks for it again
			return false
		}
		p.ntxAt, anchor = s, anchor-s
	}
	var h ntxHead
	var nf ntxFast
	payload := line[s:]
	if p.nutanixHead(payload, s, anchor, &h) != nil || !inTimeRange(h.sec) {
		return false
	}
	if _, ok := nf.read(payload[h.fields:]); !ok {
		return false
	}
	hd := header{skipTime: true}
	p.parseHeader(line[:s], &hd)
	bits := FlowTime | FlowSrc4
	if nf.counted {
		bits |= FlowCounters
	}
	f := p.newFlow(b)
	*f = Flow{
		Vendor: Nutanix, Kind: h.kind, Proto: nf.proto, Action: nf.action, Direction: nf.dir, Bits: bits,
		SPort: nf.sport, DPort: nf.dport, Sec: h.sec, RawOff: uint32(off), RawLen: uint32(len(line)),
		Src: nf.src.As16(), Dst: nf.dst.As16(), Counts: nf.counts,
		Host: p.names.id(p.hostOf(&hd)), Set: p.names.id(h.policyID), Rule: p.names.id(h.policy),
	}
	p.shardFlow(b, f)
	return true
}

// newFlow returns a new last Flow of b.
func (p *Parser) newFlow(b *Batch) *Flow {
	if len(b.Flows) == cap(b.Flows) {
		b.Flows = append(b.Flows, Flow{})
	} else {
		b.Flows = b.Flows[:len(b.Flows)+1]
	}
	return &b.Flows[len(b.Flows)-1]
}

// shardFlow notes f, b's last Flow, in its shard's list when WithShards
// asks for them.
func (p *Parser) shardFlow(b *Batch, f *Flow) {
	if p.opts.shards > 0 {
		s := p.opts.shardOf(f)
		b.Shards[s] = append(b.Shards[s], int32(len(b.Flows)-1))
	}
}

// addFlow appends ev, read from b.Data[off:], to b.Flows (and its index to
// its shard's) when it has both addresses.
func (p *Parser) addFlow(b *Batch, ev *Event, off int) {
	f := p.newFlow(b)
	if !ev.setFlow(f, uint32(off)) {
		b.Flows = b.Flows[:len(b.Flows)-1]
		return
	}
	set, rule := ev.flowNames()
	f.Host, f.Set, f.Rule, f.Tag = p.names.id(ev.Host), p.names.id(set), p.names.id(rule), p.names.id(ev.Tag)
	p.shardFlow(b, f)
}

// clearShards empties b.Shards, made with WithShards.
func (p *Parser) clearShards(b *Batch) {
	n := p.opts.shards
	if n <= 0 {
		return
	}
	if len(b.Shards) != n {
		b.Shards = make([][]int32, n)
	}
	for i := range b.Shards {
		b.Shards[i] = b.Shards[i][:0]
	}
}

// split fills b.Shards when WithShards asks for it.
func (p *Parser) split(b *Batch) {
	if p.opts.shards <= 0 {
		return
	}
	p.clearShards(b)
	var f Flow
	for i := range b.Events {
		f = Flow{} // an event without addresses: shard(zero Flow)
		b.Events[i].setFlow(&f, 0)
		s := p.opts.shardOf(&f)
		b.Shards[s] = append(b.Shards[s], int32(i))
	}
}
