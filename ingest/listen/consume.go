package listen

import (
	"bytes"
	"slices"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// ref is one message of the chunks a consumer round processes.
type ref struct {
	data   []byte
	sender *sender
	udp    bool
}

// maxBatch is the most messages handed over in one Batch.
const maxBatch = 1024

// consumePause is how long the consumer waits after a small batch.
const consumePause = time.Millisecond

// maxParsers bounds the per-sender parsers; further senders share one
// without a default host.
const maxParsers = 1024

// consumer archives, parses and hands over the queued messages. Only the
// consumer goroutine uses it.
type consumer struct {
	s       *Server
	parsers map[*sender]*ingest.Parser
	shared  *ingest.Parser
	born    time.Time        // when the parsers were made (refAhead)
	clock   func() time.Time // time.Now; tests move it
	out     Batch
	refs    []ref // the round's messages
	segment string
	line    int64 // lines in the current segment so far
}

// consume runs until the queue is closed and drained.
func (s *Server) consume() {
	c := &consumer{s: s, clock: time.Now}
	c.renew(c.clock())
	c.out.Events = make([]ingest.Event, 0, maxBatch+maxChunk)
	chunks := make([]*chunk, 0, maxBatch)
	for {
		ch, ok := <-s.queue
		if !ok {
			return
		}
		chunks = append(chunks[:0], ch)
		n := ch.len()
		open := true
	drain:
		for open && n < maxBatch {
			select {
			case ch, ok := <-s.queue:
				if !ok {
					open = false
					break drain
				}
				chunks = append(chunks, ch)
				n += ch.len()
			default:
				break drain
			}
		}
		c.process(chunks)
		if !open {
			return
		}
		if n < maxBatch/8 {
			time.Sleep(consumePause) // a trickle: gather a batch rather than wake per message
		}
	}
}

// process archives the chunks' messages, then parses them and calls the
// handler; then it gives the chunks back. A round that fills the segment is
// handed over in two parts, one per segment.
func (c *consumer) process(chunks []*chunk) {
	s := c.s
	now := time.Now()
	batch := c.refs[:0]
	var cost, n int64
	for _, ch := range chunks {
		for i := range ch.len() {
			batch = append(batch, ref{ch.msg(i), ch.senders[i], ch.udp})
		}
		cost += ch.cost
		n += int64(ch.len())
	}
	c.refs = batch
	for _, m := range batch {
		if n := oneLine(m.data); n > 0 {
			s.c.lineBreaks.Add(int64(n))
		}
	}
	from := 0
	if a := s.arch; a != nil {
		for i, m := range batch {
			if a.due(now) {
				if i > from {
					c.emit(batch[from:i], now)
					from = i
				}
				if err := a.rotate(); err != nil {
					s.setArchErr(err)
				}
			}
			a.add(m.data, m.udp)
		}
	}
	c.emit(batch[from:], now)
	clear(batch) // no pointers into pooled chunks linger
	for _, ch := range chunks {
		putChunk(ch)
	}
	s.queued.Add(-cost)
	s.queuedMsgs.Add(-n)
}

// emit writes the archive's pending lines (those of part), then parses
// part and calls the handler. Nothing reaches the handler unarchived: while
// the archive cannot be written (a full disk), emit tries again every
// archRetry, and the readers hold TCP senders back and drop datagrams
// (archiveDown); a server stopping meanwhile counts part as unarchived.
func (c *consumer) emit(part []ref, now time.Time) {
	s := c.s
	b := &c.out
	b.Segment, b.End = "", 0
	if a := s.arch; a != nil {
		seg, end, err := a.flush(now)
		for err != nil {
			s.archiveFailed(err)
			if !s.retryArchive() {
				a.drop()
				s.c.unarchived.Add(int64(len(part)))
				return
			}
			seg, end, err = a.flush(time.Now())
		}
		s.archiveWorks()
		if seg != c.segment {
			c.segment, c.line = seg, 0
		}
		b.Segment, b.End = seg, end
	}
	c.parse(part)
	if s.handler != nil {
		s.handler(b)
	}
	s.c.accepted.Add(int64(len(part)))
}

// oneLine replaces the CR and LF inside msg by spaces, so that the
// message is one archive line and parses live as it will from the archive.
// It returns how many it replaced.
func oneLine(msg []byte) int {
	// Almost no message holds a line break: two vectorised scans rule it
	// out far faster than bytes.IndexAny, which builds a set per call.
	if bytes.IndexByte(msg, '\n') < 0 && bytes.IndexByte(msg, '\r') < 0 {
		return 0
	}
	n := 0
	for i, c := range msg {
		if c == '\r' || c == '\n' {
			msg[i] = ' '
			n++
		}
	}
	return n
}

// parse fills c.out from batch.
func (c *consumer) parse(batch []ref) {
	if now := c.clock(); now.Sub(c.born) > parserLife {
		c.renew(now)
	}
	b := &c.out
	b.Source = c.segment
	b.FirstLine = c.line + 1
	b.Events = b.Events[:0]
	b.Stats = ingest.Stats{}
	st := &b.Stats
	for _, m := range batch {
		c.line++
		st.Bytes += int64(len(m.data)) + 1
		if bytes.IndexByte(m.data, 0) >= 0 {
			st.NULLines++
		}
		if len(b.Events) == cap(b.Events) {
			b.Events = slices.Grow(b.Events, 1)
		}
		b.Events = b.Events[:len(b.Events)+1]
		ev := &b.Events[len(b.Events)-1]
		bucket, err := c.parser(m.sender).Parse(m.data, ev)
		if bucket == ingest.Parsed {
			ev.Unauthenticated = m.udp
		} else {
			b.Events = b.Events[:len(b.Events)-1]
		}
		count(st, bucket, ev.Vendor, err)
		c.s.c.countBucket(bucket)
		if bucket == ingest.Malformed {
			c.s.c.noteMalformed(m.sender, m.data)
			if len(st.MalformedSamples) < ingest.MaxMalformedSamples {
				st.MalformedSamples = append(st.MalformedSamples, ingest.ParseError{File: c.segment,
					Line: c.line, Text: string(m.data[:min(len(m.data), 200)]), Err: err})
			}
		}
	}
}

// parserLife is how long parsers are kept. RFC 3164 stamps have no year: a
// parser places them by its reference time, so a server running over New
// Year must make new ones.
const parserLife = time.Hour

// refAhead puts the parsers' reference time a day after they are made: a
// stamp is placed in the latest year that puts it less than a month after
// the reference time, so a message stamped "Jan  1 00:00:05" by a sender
// whose clock runs a little ahead, or read by a parser made before
// midnight, falls in the new year, while "Dec 31 23:59:59" stays in the
// old one whichever side of midnight it is read.
const refAhead = 24 * time.Hour

// renew drops the parsers; new ones are made as senders appear.
func (c *consumer) renew(now time.Time) {
	c.born = now
	c.parsers = make(map[*sender]*ingest.Parser)
	c.shared = ingest.NewParser(c.options()...)
}

// options are the parsers' options: the configured ones after ours.
func (c *consumer) options(extra ...ingest.Option) []ingest.Option {
	opts := []ingest.Option{ingest.WithMaxLineLength(c.s.cfg.MaxMessage), ingest.WithReferenceTime(c.born.Add(refAhead))}
	return append(append(opts, c.s.cfg.Parse...), extra...)
}

// parser returns the parser of a sender: its address is the default host
// of messages whose header names none.
func (c *consumer) parser(snd *sender) *ingest.Parser {
	if p := c.parsers[snd]; p != nil {
		return p
	}
	if len(c.parsers) >= maxParsers || !snd.addr.IsValid() {
		return c.shared
	}
	p := ingest.NewParser(c.options(ingest.WithDefaultHost(snd.addr.String()))...)
	c.parsers[snd] = p
	return p
}

// count records one line's outcome in st, as ingest.Read does.
func count(st *ingest.Stats, b ingest.Bucket, v ingest.Vendor, err error) {
	st.Lines++
	add := func(m *map[string]int64) {
		if *m == nil {
			*m = make(map[string]int64)
		}
		(*m)[ingest.Reason(err).Error()]++
	}
	switch b {
	case ingest.Parsed:
		st.Events++
		if int(v) < len(st.Vendors) {
			st.Vendors[v]++
		}
	case ingest.Unsupported:
		st.Unsupported++
		add(&st.UnsupportedReasons)
	case ingest.Skipped:
		st.Skipped++
	case ingest.Malformed:
		st.Malformed++
		add(&st.MalformedReasons)
	}
}

func (c *counters) countBucket(b ingest.Bucket) {
	switch b {
	case ingest.Parsed:
		c.parsed.Add(1)
	case ingest.Unsupported:
		c.unsupported.Add(1)
	case ingest.Skipped:
		c.skipped.Add(1)
	case ingest.Malformed:
		c.malformed.Add(1)
	}
}

// setArchErr records an archive error: the first is Run's, the last is
// shown (Stats.ArchiveErr).
func (s *Server) setArchErr(err error) {
	s.archMu.Lock()
	if s.archErr == nil {
		s.archErr = err
	}
	s.archLast = err
	s.archMu.Unlock()
}

// archiveFailed records that the archive could not take messages: the
// readers stop accepting until archiveWorks.
func (s *Server) archiveFailed(err error) {
	s.setArchErr(err)
	if s.archDown.CompareAndSwap(false, true) {
		s.archSince.Store(time.Now().UnixNano())
		s.c.archiveFailures.Add(1)
	}
}

// archiveWorks records that the archive took what was pending.
func (s *Server) archiveWorks() {
	if s.archDown.Load() {
		s.archDown.Store(false)
	}
}

// retryArchive waits before trying the archive again; false when the
// server is stopping.
func (s *Server) retryArchive() bool {
	t := time.NewTimer(s.archRetry)
	defer t.Stop()
	select {
	case <-s.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// archiveWait holds a TCP reader while the archive cannot be written: the
// kernel's buffers fill and the sender is slowed down, as when the parser
// lags. It reports whether it waited.
func (s *Server) archiveWait() bool {
	waited := false
	for s.archDown.Load() && s.ctx.Err() == nil {
		waited = true
		time.Sleep(archivePoll)
	}
	return waited
}

// archivePoll is how often a held TCP reader looks at the archive again.
const archivePoll = 20 * time.Millisecond
