package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
)

// chunkSize is how much input one worker parses at a time. Lines never span
// chunks; a line longer than the chunk is malformed (ErrLineTooLong) anyway.
const chunkSize = 1 << 20

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Batch is a run of consecutive lines of one input, parsed. Events and their
// Raw lines are only valid during the callback that receives the Batch.
type Batch struct {
	Source    string
	FirstLine int64   // number of the batch's first line, 1-based
	Events    []Event // the Parsed lines, in input order
	Stats     Stats   // what the batch's lines were; line numbers are final
}

type chunk struct {
	seq     int64
	data    []byte
	last    bool // the input's final chunk
	noEOL   bool // … and it does not end with a newline
	overlen int  // lines cut out of this chunk for being longer than a chunk
	pending int  // bytes of a last line without newline, held back
	batch   Batch
}

// Read parses every line of r, in parallel, and calls fn with the batches in
// input order from a single goroutine. name is used in error positions. Read
// returns the totals, and the first error of r, of fn, or of ctx.
func Read(ctx context.Context, r io.Reader, name string, fn func(*Batch) error, opts ...Option) (Stats, error) {
	o := newOptions(opts)
	workers := o.workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	free := make(chan *chunk, 2*workers+2)
	for i := 0; i < cap(free); i++ {
		free <- &chunk{data: make([]byte, 0, chunkSize), batch: Batch{Events: make([]Event, 0, chunkSize/256)}}
	}
	todo := make(chan *chunk, cap(free))
	done := make(chan *chunk, cap(free))

	var readErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(todo)
		readErr = split(ctx, r, free, todo, o.hold)
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
			if fnErr == nil {
				fnErr = deliver(c, &line, &total, fn)
				if fnErr != nil {
					cancel()
				}
			}
			free <- c
		}
	}
	wg.Wait()
	switch {
	case fnErr != nil:
		return total, fnErr
	case readErr != nil:
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
	if len(b.Events) == 0 && b.Stats.Lines == 0 && b.Stats.Pending == 0 {
		return nil
	}
	return fn(b)
}

// split cuts r into chunks that end at a newline and queues them in order.
func split(ctx context.Context, r io.Reader, free <-chan *chunk, todo chan<- *chunk, hold bool) error {
	var (
		carry   []byte // the start of a line that did not fit the previous chunk
		seq     int64
		first   = true
		discard bool // inside a line longer than a chunk: drop bytes until its newline
		overlen int  // such lines not yet reported
	)
	for {
		var c *chunk
		select {
		case c = <-free:
		case <-ctx.Done():
			return nil
		}
		c.data = append(c.data[:0], carry...)
		carry = carry[:0]
		var eof bool
		var rerr error
		for {
			rerr = fill(r, c)
			eof = rerr != nil // a read error ends the input after what was read
			if errors.Is(rerr, io.EOF) {
				rerr = nil
			}
			if first {
				c.data = c.data[:copy(c.data, bytes.TrimPrefix(c.data, utf8BOM))]
				first = false
			}
			if discard {
				i := bytes.IndexByte(c.data, '\n')
				if i < 0 {
					c.data = c.data[:0]
					if eof {
						break
					}
					continue
				}
				discard = false
				c.data = c.data[:copy(c.data, c.data[i+1:])]
			}
			if eof {
				break
			}
			cut := bytes.LastIndexByte(c.data, '\n')
			if cut >= 0 {
				carry = append(carry, c.data[cut+1:]...)
				c.data = c.data[:cut+1]
				break
			}
			if len(c.data) == chunkSize { // one line longer than a whole chunk
				overlen++
				discard = true
				c.data = c.data[:0]
			}
		}
		c.seq, c.last, c.overlen, c.pending = seq, eof, overlen, 0
		c.noEOL = eof && len(c.data) > 0 && c.data[len(c.data)-1] != '\n'
		if c.noEOL && hold {
			cut := bytes.LastIndexByte(c.data, '\n') + 1
			c.pending, c.data, c.noEOL = len(c.data)-cut, c.data[:cut], false
		}
		overlen = 0
		seq++
		todo <- c
		if eof {
			return rerr
		}
	}
}

// fill reads into c until the chunk is full (nil) or the reader fails (io.EOF
// at the end of input).
func fill(r io.Reader, c *chunk) error {
	for len(c.data) < chunkSize {
		n, err := r.Read(c.data[len(c.data):chunkSize])
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
	b.Source = name
	b.Events = b.Events[:0]
	b.Stats = Stats{Bytes: int64(len(c.data)), Pending: int64(c.pending)}
	for i := 0; i < c.overlen; i++ {
		b.Stats.count(Malformed, 0, ErrLineTooLong)
		b.Stats.sample(newParseError(name, b.Stats.Lines, nil, ErrLineTooLong))
	}
	data := c.data
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		b.Stats.noteNUL(line)
		if len(b.Events) == cap(b.Events) {
			b.Events = append(b.Events, Event{})
		} else {
			b.Events = b.Events[:len(b.Events)+1]
		}
		ev := &b.Events[len(b.Events)-1]
		bucket, err := p.Parse(line, ev)
		if bucket != Parsed {
			b.Events = b.Events[:len(b.Events)-1]
		}
		if bucket == Malformed && c.noEOL && len(data) == 0 && !errors.Is(err, ErrLineTooLong) {
			err = fmt.Errorf("%w: %w", ErrTruncated, err)
		}
		b.Stats.count(bucket, ev.Vendor, err)
		if bucket == Malformed {
			b.Stats.sample(newParseError(name, b.Stats.Lines, line, err))
		}
	}
}
