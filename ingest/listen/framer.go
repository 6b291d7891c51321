package listen

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"time"
)

// Framing errors of a TCP or TLS stream.
var (
	// ErrOversize is a frame longer than Config.MaxMessage. The framer skips
	// it (LF framing: up to the next line feed; octet counting: the counted
	// bytes) and the stream goes on.
	ErrOversize = errors.New("message longer than the maximum")
	// ErrBadCount is an octet-counting frame whose MSG-LEN is not a number
	// followed by a space, or is absurdly large: the stream cannot be
	// resynchronised and the connection is closed.
	ErrBadCount = errors.New("bad octet count")
)

// Framing is the TCP framing of RFC 6587, detected per connection from its
// first bytes (detect).
type Framing uint8

// Framings.
const (
	Undetected     Framing = iota
	OctetCounting          // "MSG-LEN SP SYSLOG-MSG" (RFC 6587 §3.4.1, RFC 5425 §4.3)
	NonTransparent         // messages ended by LF (RFC 6587 §3.4.2)
)

// maxCountDigits bounds MSG-LEN: longer counts are ErrBadCount.
const maxCountDigits = 9

// framer cuts a byte stream into syslog messages. go-syslog v3's
// octetcounting and nontransparent packages are not used here: both parse
// every message as RFC 5424 (RFC 3164 over TCP would be refused), and the
// octet-counting scanner peeks the whole message into an 8 KiB buffer, so
// it cannot take the 64 KiB messages the listener allows. The framer only
// frames; ingest.Parser does the parsing (with go-syslog's machines).
//
// Memory is bounded by the bufio.Reader: at most max+16 bytes per
// connection, whatever the stream holds.
type framer struct {
	r       *bufio.Reader
	max     int
	mode    Framing
	skipped int64  // bytes of oversize frames skipped
	onFrame func() // called after each complete frame (deadline bookkeeping)
}

func newFramer(r io.Reader, max int) *framer {
	return &framer{r: bufio.NewReaderSize(r, max+16), max: max}
}

// next returns the next message, without its trailer; it is valid until the
// next call. It returns ErrOversize for a skipped frame (call next again),
// ErrBadCount when the stream is unusable, and io.EOF at the end of the
// stream (a last LF-framed message without its LF is returned first).
func (f *framer) next() ([]byte, error) {
	if f.mode == Undetected {
		mode, err := f.detect()
		if err != nil {
			return nil, err
		}
		f.mode = mode
	}
	var msg []byte
	var err error
	if f.mode == OctetCounting {
		msg, err = f.octet()
	} else {
		msg, err = f.line()
	}
	if err == nil && f.onFrame != nil {
		f.onFrame()
	}
	return msg, err
}

// detect tells the framing from the stream's first bytes: octet counting
// is a count, a space and a syslog header, "<PRI>" (RFC 6587 §3.4.1); a
// line that merely starts with a digit, as a forwarded file line starts
// with its date ("2025-04-10T…"), is LF framing. It reads no more than it
// must to decide.
func (f *framer) detect() (Framing, error) {
	b, err := f.r.Peek(1)
	if err != nil {
		return Undetected, err
	}
	if b[0] < '1' || b[0] > '9' {
		return NonTransparent, nil
	}
	for n := 2; ; n++ {
		b, _ := f.r.Peek(n)
		if len(b) < n {
			return NonTransparent, nil // the stream ended: a line without its LF
		}
		if mode, ok := octetPrefix(b); ok {
			return mode, nil
		}
	}
}

// octetPrefix decides from the stream's first bytes b whether it is
// octet-counted: "MSG-LEN SP <PRI>", MSG-LEN of at most maxCountDigits
// digits, PRI of one to three. ok is false while b is too short to say.
func octetPrefix(b []byte) (mode Framing, ok bool) {
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		if i++; i > maxCountDigits {
			return NonTransparent, true
		}
	}
	steps := []func(byte) bool{
		func(c byte) bool { return c == ' ' },
		func(c byte) bool { return c == '<' },
		isDigit,
	}
	for _, step := range steps {
		if i == len(b) {
			return Undetected, false
		}
		if !step(b[i]) {
			return NonTransparent, true
		}
		i++
	}
	for pri := 1; ; pri++ { // one PRI digit is read
		if i == len(b) {
			return Undetected, false
		}
		switch {
		case b[i] == '>':
			return OctetCounting, true
		case !isDigit(b[i]) || pri == 3:
			return NonTransparent, true
		}
		i++
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// pending returns up to n bytes of what the framer holds unread: a sample
// of a stream it cannot frame.
func (f *framer) pending(n int) []byte {
	b, _ := f.r.Peek(min(n, f.r.Buffered()))
	return b
}

// ready reports whether a whole frame is buffered: next would return it
// without reading from the stream. A bad octet count is not ready.
func (f *framer) ready() bool {
	b, _ := f.r.Peek(f.r.Buffered())
	i := 0
	for i < len(b) && (b[i] == '\n' || b[i] == '\r') {
		i++ // next skips line ends between frames
	}
	b = b[i:]
	if len(b) == 0 {
		return false
	}
	if f.mode != OctetCounting {
		return bytes.IndexByte(b, '\n') >= 0
	}
	n, digits := 0, 0
	for ; digits < len(b) && digits < maxCountDigits && b[digits] >= '0' && b[digits] <= '9'; digits++ {
		n = n*10 + int(b[digits]-'0')
	}
	return digits > 0 && digits < len(b) && b[digits] == ' ' && len(b)-digits-1 >= n
}

// line reads an LF-terminated frame. Empty lines are skipped.
func (f *framer) line() ([]byte, error) {
	for {
		b, err := f.r.ReadSlice('\n')
		switch {
		case err == nil:
			b = b[:len(b)-1]
			if len(b) > 0 && b[len(b)-1] == '\r' {
				b = b[:len(b)-1]
			}
			if len(b) == 0 {
				continue
			}
			if len(b) > f.max {
				f.skipped += int64(len(b))
				return nil, ErrOversize
			}
			return b, nil
		case errors.Is(err, bufio.ErrBufferFull):
			f.skipped += int64(len(b))
			return nil, f.skipLine()
		case errors.Is(err, io.EOF) && len(b) > 0:
			if len(b) > f.max {
				return nil, ErrOversize
			}
			return b, nil // the next call returns io.EOF
		default:
			return nil, err
		}
	}
}

// skipLine discards the rest of an oversize line, up to its LF.
func (f *framer) skipLine() error {
	for {
		b, err := f.r.ReadSlice('\n')
		f.skipped += int64(len(b))
		switch {
		case err == nil:
			return ErrOversize
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			return ErrOversize // the next call returns io.EOF
		default:
			return err
		}
	}
}

// octet reads "MSG-LEN SP MSG".
func (f *framer) octet() ([]byte, error) {
	n, err := f.count()
	if err != nil {
		return nil, err
	}
	if n > f.max {
		d, err := f.r.Discard(n)
		f.skipped += int64(d)
		if err != nil {
			return nil, unexpected(err)
		}
		return nil, ErrOversize
	}
	b, err := f.r.Peek(n)
	if err != nil {
		return nil, unexpected(err)
	}
	f.r.Discard(n) // b stays valid: Discard of buffered bytes does not read
	return trimTrailer(b), nil
}

// count reads MSG-LEN and its space. io.EOF before the first digit is the
// clean end of the stream. A bad count is left unread, for pending to show.
func (f *framer) count() (int, error) {
	for { // some senders end each counted message with a line end
		b, err := f.r.Peek(1)
		if err != nil {
			return 0, err
		}
		if b[0] != '\n' && b[0] != '\r' {
			break
		}
		f.r.Discard(1)
	}
	n := 0
	for digits := 0; ; digits++ {
		b, err := f.r.Peek(digits + 1)
		if len(b) <= digits {
			return 0, unexpected(err)
		}
		switch c := b[digits]; {
		case isDigit(c) && !(digits == 0 && c == '0'):
			if digits == maxCountDigits {
				return 0, ErrBadCount
			}
			n = n*10 + int(c-'0')
		case c == ' ' && digits > 0:
			f.r.Discard(digits + 1)
			return n, nil
		default:
			return 0, ErrBadCount
		}
	}
}

// unexpected turns io.EOF inside a frame into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// trimTrailer removes the line ends some senders include in a counted
// message.
func trimTrailer(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r' || b[len(b)-1] == 0) {
		b = b[:len(b)-1]
	}
	return b
}

// deadlineConn sets read deadlines on a connection so that no sender holds
// a connection slot for long without delivering messages: waiting for a
// frame may last Idle, and a frame, once started, must be complete within
// Frame (a sender trickling bytes is cut off). Deadlines are set once per
// read system call, not per message.
//
// After a short read it naps (tcpNap) before reading again, so that the
// stream is read in large pieces. Read as soon as it arrived, a stream of
// 100,000 messages a second came a few messages per system call, and each
// call cost a wake-up of the reader and of the consumer: the listener took
// 75% of a core, 41% with the nap, and on one core of its own it went from
// 170-180 k to 210 k msg/s. TCP loses nothing meanwhile (the kernel holds
// the stream and slows the sender down); a message waits half a
// millisecond more. UDP readers do not nap: a late timer there is a full
// socket buffer.
type deadlineConn struct {
	net.Conn
	idle, frame time.Duration
	buffered    func() int // bytes of a partial frame held by the reader
	started     time.Time  // when the current partial frame was first seen
	short       bool       // the last read returned less than shortRead
}

// A read shorter than shortRead is followed by a nap of tcpNap.
const (
	shortRead = 8 << 10
	tcpNap    = 500 * time.Microsecond
)

func (c *deadlineConn) Read(p []byte) (int, error) {
	if c.short {
		time.Sleep(tcpNap)
	}
	now := time.Now()
	if c.buffered() == 0 {
		c.started = time.Time{}
		c.Conn.SetReadDeadline(now.Add(c.idle))
	} else {
		if c.started.IsZero() {
			c.started = now
		}
		c.Conn.SetReadDeadline(c.started.Add(c.frame))
	}
	n, err := c.Conn.Read(p)
	c.short = n < shortRead
	return n, err
}

// frameDone marks the end of a frame: the next partial one starts its clock.
func (c *deadlineConn) frameDone() { c.started = time.Time{} }
