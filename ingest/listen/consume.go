package listen

import (
	"bytes"
	"sync"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// message is one received syslog message, in a pooled buffer.
type message struct {
	data   []byte
	sender *sender
}

var messagePool = sync.Pool{New: func() any { return &message{data: make([]byte, 0, 512)} }}

// newMessage copies b into a pooled message.
func newMessage(b []byte, snd *sender) *message {
	m := messagePool.Get().(*message)
	m.data = append(m.data[:0], b...)
	m.sender = snd
	return m
}

// msgCost is the memory a queued message of n bytes takes: its pooled
// buffer (512 bytes at least) and the message itself. QueueBytes bounds
// the sum.
func msgCost(n int) int64 { return int64(max(n, 512) + 64) }

func freeMessage(m *message) {
	if cap(m.data) > 8<<10 {
		m.data = make([]byte, 0, 512) // let a rare large buffer go
	}
	m.sender = nil
	messagePool.Put(m)
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
	born    time.Time // when the parsers were made: their reference time
	out     Batch
	segment string
	line    int64 // lines in the current segment so far
}

// consume runs until the queue is closed and drained.
func (s *Server) consume() {
	c := &consumer{s: s}
	c.renew(time.Now())
	c.out.Events = make([]ingest.Event, 0, maxBatch)
	batch := make([]*message, 0, maxBatch)
	for {
		m, ok := <-s.queue
		if !ok {
			return
		}
		batch = append(batch[:0], m)
		open := true
	drain:
		for open && len(batch) < maxBatch {
			select {
			case m, ok := <-s.queue:
				if !ok {
					open = false
					break drain
				}
				batch = append(batch, m)
			default:
				break drain
			}
		}
		c.process(batch)
		if !open {
			return
		}
		if len(batch) < maxBatch/8 {
			time.Sleep(consumePause) // a trickle: gather a batch rather than wake per message
		}
	}
}

// process archives batch, then parses it and calls the handler. A batch
// that fills the segment is handed over in two parts, one per segment.
func (c *consumer) process(batch []*message) {
	s := c.s
	now := time.Now()
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
			a.add(m.data)
		}
	}
	c.emit(batch[from:], now)
	var n int64
	for _, m := range batch {
		n += msgCost(len(m.data))
		freeMessage(m)
	}
	s.queued.Add(-n)
}

// emit writes the archive's pending lines (those of part), then parses
// part and calls the handler.
func (c *consumer) emit(part []*message, now time.Time) {
	s := c.s
	b := &c.out
	b.Segment, b.End = "", 0
	if a := s.arch; a != nil {
		seg, end, err := a.flush(now)
		if err != nil {
			s.setArchErr(err)
		}
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
func (c *consumer) parse(batch []*message) {
	if now := time.Now(); now.Sub(c.born) > parserLife {
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
		b.Events = b.Events[:len(b.Events)+1]
		ev := &b.Events[len(b.Events)-1]
		bucket, err := c.parser(m.sender).Parse(m.data, ev)
		if bucket != ingest.Parsed {
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
// parser places them by its reference time, the time it was made, so a
// server running over New Year must make new ones.
const parserLife = time.Hour

// renew drops the parsers; new ones are made as senders appear.
func (c *consumer) renew(now time.Time) {
	c.parsers = make(map[*sender]*ingest.Parser)
	c.shared = ingest.NewParser(append([]ingest.Option{ingest.WithMaxLineLength(c.s.cfg.MaxMessage)}, c.s.cfg.Parse...)...)
	c.born = now
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
	opts := append([]ingest.Option{ingest.WithMaxLineLength(c.s.cfg.MaxMessage)}, c.s.cfg.Parse...)
	p := ingest.NewParser(append(opts, ingest.WithDefaultHost(snd.addr.String()))...)
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

func (s *Server) setArchErr(err error) {
	s.archMu.Lock()
	if s.archErr == nil {
		s.archErr = err
	}
	s.archMu.Unlock()
}
