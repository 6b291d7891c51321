package ingest

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

// members reads a gzip stream one member at a time (RFC 1952 §2.2), so as
// to know how much of the text the members whose CRC-32 and length checked
// hold. compress/gzip hands over a member's text before it reads the
// member's trailer: when the check fails, or the member ends early, the
// text already read is not to be trusted, and the reader says from where.
type members struct {
	src      *bufio.Reader // the compressed stream: a ByteReader, so gzip reads exactly its members
	zr       *gzip.Reader
	text     int64 // text bytes read
	verified int64 // … of which the members that checked hold
	err      error // the damage found, if any
	trailing int64 // bytes after the last member that are not gzip
	done     bool
}

// Read implements io.Reader.
func (m *members) Read(p []byte) (int, error) {
	for !m.done {
		n, err := m.zr.Read(p)
		m.text += int64(n)
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, io.EOF) { // a CRC or length mismatch, corrupt or cut data
			m.err, m.done = unexpected(err), true
			return n, m.err
		}
		m.verified = m.text // the member's trailer checked
		m.next()
		if n > 0 {
			return n, nil
		}
	}
	if m.err != nil {
		return 0, m.err
	}
	return 0, io.EOF
}

// next starts the following member, if any. Bytes that do not start with
// gzip's magic end the stream: trailing padding, counted in trailing. A
// member whose header is damaged is damage.
func (m *members) next() {
	m.done = true
	magic, err := m.src.Peek(2)
	switch {
	case len(magic) == 0 && errors.Is(err, io.EOF):
		return
	case !IsGzip(magic):
		m.trailing, err = io.Copy(io.Discard, m.src)
		m.err = err
		return
	}
	if err := m.zr.Reset(m.src); err != nil {
		m.err = unexpected(err)
		return
	}
	m.zr.Multistream(false)
	m.done = false
}

// unexpected turns io.EOF inside a gzip member into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// pumpSize is the size of a pump's buffers: a pipe holds 64 KiB, and
// larger reads hand over less often.
const pumpSize = 256 << 10

// pump reads a stream in a goroutine of its own and hands over what it
// read. A read of standard input, of a pipe or of a device waits in the
// operating system until the writer writes: Go cannot interrupt it. Read
// returns the context's error as soon as it ends, leaving the goroutine to
// finish its read (it then stops); the process can exit meanwhile.
type pump struct {
	ctx  context.Context
	data chan []byte // filled buffers, in order; closed after the last
	free chan []byte // emptied buffers
	quit chan struct{}
	once sync.Once
	err  error  // why the stream ended: set before data is closed
	cur  []byte // the unread part of the buffer being read
	held []byte // that buffer, to give back
}

func newPump(ctx context.Context, r io.Reader) *pump {
	p := &pump{ctx: ctx, data: make(chan []byte, 2), free: make(chan []byte, 2), quit: make(chan struct{})}
	p.free <- make([]byte, pumpSize)
	p.free <- make([]byte, pumpSize)
	go p.run(r)
	return p
}

func (p *pump) run(r io.Reader) {
	defer close(p.data)
	for {
		var buf []byte
		select {
		case buf = <-p.free:
		case <-p.quit:
			p.err = io.ErrClosedPipe
			return
		}
		n, err := r.Read(buf[:cap(buf)])
		if n > 0 {
			select {
			case p.data <- buf[:n]:
			case <-p.quit:
				p.err = io.ErrClosedPipe
				return
			}
		} else {
			p.free <- buf
		}
		if err != nil {
			p.err = err
			return
		}
	}
}

// Read implements io.Reader.
func (p *pump) Read(b []byte) (int, error) {
	if len(p.cur) == 0 {
		if p.held != nil {
			p.free <- p.held[:cap(p.held)]
			p.held = nil
		}
		select {
		case buf, ok := <-p.data:
			if !ok {
				return 0, p.err
			}
			p.cur, p.held = buf, buf
		case <-p.ctx.Done():
			return 0, p.ctx.Err()
		}
	}
	n := copy(b, p.cur)
	p.cur = p.cur[n:]
	return n, nil
}

// stop makes the goroutine return once its read does.
func (p *pump) stop() { p.once.Do(func() { close(p.quit) }) }

// GzipDamage is the error of a gzip input found damaged (Input.Damage):
// importers keep only the text of the members before the damage.
type GzipDamage struct {
	Name     string
	Verified int64 // bytes of text the members that checked hold: what was kept
	Lost     bool  // nothing was kept: the input (standard input) cannot be read again
	Err      error // gzip.ErrChecksum, io.ErrUnexpectedEOF, a flate.CorruptInputError, …
}

func (e *GzipDamage) Error() string {
	if e.Lost {
		return fmt.Sprintf("%s: gzip data damaged (%v): it cannot be read again, so nothing of it was imported", e.Name, e.Err)
	}
	return fmt.Sprintf("%s: gzip data damaged (%v): only the first %d bytes of its text, from the members that checked, were imported",
		e.Name, e.Err, e.Verified)
}

// Unwrap returns the gzip error.
func (e *GzipDamage) Unwrap() error { return e.Err }

// IsGzip reports whether b starts with gzip's magic bytes: how Open
// recognises compressed input, by content rather than by name.
func IsGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }
