package listen

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// frames reads every frame of in with a framer of the given maximum, and
// returns them with the errors met, as "ERR:reason".
func frames(in io.Reader, max int) []string {
	f := newFramer(in, max)
	var out []string
	for {
		msg, err := f.next()
		switch {
		case err == nil:
			out = append(out, string(msg))
		case errors.Is(err, ErrOversize):
			out = append(out, "ERR:oversize")
		case errors.Is(err, io.EOF):
			return out
		default:
			return append(out, "ERR:"+err.Error())
		}
	}
}

func octet(msgs ...string) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(strconv.Itoa(len(m)) + " " + m)
	}
	return b.String()
}

const (
	rsys  = "2025-04-10T10:12:51.646697+00:00 ahv-host-1 ahv INFO:2025/04/10 10:12:51  [u] p [New] SRC=1.1.1.1 DST=2.2.2.2 PROTO=TCP SPORT=1 DPORT=2 ACTION=ALLOW"
	m5424 = "<13>1 2024-05-15T19:41:25.001Z esx05 FIREWALL-PKTLOG - - - INET match PASS 3041 IN 52 TCP 10.0.0.1/1->10.0.0.2/443 S"
	m3164 = "<134>Apr 10 10:12:51 ahv-1 flow-hitCount4: INFO:2025/04/10 10:12:51  [u] p [New] SRC=1.1.1.1 DST=2.2.2.2 PROTO=TCP SPORT=1 DPORT=2 ACTION=ALLOW"
)

func TestFramer(t *testing.T) {
	long := strings.Repeat("x", 100)
	tests := []struct {
		Name string
		In   string
		Max  int
		Want []string
	}{
		{"LF", m5424 + "\n" + m3164 + "\n", 0, []string{m5424, m3164}},
		{"CRLF and blank lines", "a\r\n\r\n\nb\n", 0, []string{"a", "b"}},
		{"last line without LF", "a\nb", 0, []string{"a", "b"}},
		{"octet counting", octet(m5424, m3164), 0, []string{m5424, m3164}},
		{"octet counting with LF after each", octet(m5424) + "\n" + octet(m3164) + "\n", 0, []string{m5424, m3164}},
		{"octet counting with embedded LF", octet("<1>a\nb", "<1>c"), 0, []string{"<1>a\nb", "<1>c"}},
		{"LF frame too long, then a good one", long + "\nok\n", 50, []string{"ERR:oversize", "ok"}},
		{"LF frame longer than the buffer", strings.Repeat("y", 300) + "\nok\n", 50, []string{"ERR:oversize", "ok"}},
		{"octet frame too long is skipped", octet("<1>"+long, "ok"), 50, []string{"ERR:oversize", "ok"}},
		{"octet count not followed by a space", octet("<1>ok") + "12xhello", 0, []string{"<1>ok", "ERR:" + ErrBadCount.Error()}},
		{"octet count absurd", octet("<1>ok") + "9999999999 x", 0, []string{"<1>ok", "ERR:" + ErrBadCount.Error()}},
		{"octet then garbage", octet("<1>ok") + "<13>no count", 0, []string{"<1>ok", "ERR:" + ErrBadCount.Error()}},
		{"octet frame cut short", "10 <1>abc", 0, []string{"ERR:" + io.ErrUnexpectedEOF.Error()}},
		{"octet count cut short", octet("<1>ok") + "12", 0, []string{"<1>ok", "ERR:" + io.ErrUnexpectedEOF.Error()}},
		{"a leading 0 is no octet count: LF framing", "0 x", 0, []string{"0 x"}},
		// A count is octet counting only before a syslog header: forwarded
		// file lines start with their date.
		{"LF lines starting with a date", rsys + "\n" + rsys + "\n", 0, []string{rsys, rsys}},
		{"LF lines starting with a number and a space", "12 apples\n3 <pears\n", 0, []string{"12 apples", "3 <pears"}},
		{"a number alone", "12345", 0, []string{"12345"}},
		{"a count before a header with no closing bracket", "12 <134 x\n", 0, []string{"12 <134 x"}},
		{"a count before a long PRI", "12 <1345>x\n", 0, []string{"12 <1345>x"}},
		{"ten digits", "1234567890 <1>x\n", 0, []string{"1234567890 <1>x"}},
		{"empty stream", "", 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			max := tc.Max
			if max == 0 {
				max = DefaultMaxMessage
			}
			for name, r := range map[string]io.Reader{
				"whole":         strings.NewReader(tc.In),
				"byte by byte":  iotest.OneByteReader(strings.NewReader(tc.In)),
				"half at once":  iotest.HalfReader(strings.NewReader(tc.In)),
				"data with EOF": iotest.DataErrReader(strings.NewReader(tc.In)),
			} {
				got := frames(r, max)
				if strings.Join(got, "|") != strings.Join(tc.Want, "|") {
					t.Errorf("%s: got %q, want %q", name, got, tc.Want)
				}
			}
		})
	}
}

// TestFramerSplitEverywhere cuts a stream of real frames at every byte
// offset into two writes through a pipe.
func TestFramerSplitEverywhere(t *testing.T) {
	for _, in := range []string{octet(m5424, m3164, m5424), m5424 + "\n" + m3164 + "\n"} {
		for cut := 0; cut <= len(in); cut++ {
			pr, pw := io.Pipe()
			go func() {
				pw.Write([]byte(in[:cut]))
				pw.Write([]byte(in[cut:]))
				pw.Close()
			}()
			got := frames(pr, DefaultMaxMessage)
			if len(got) != 3 && len(got) != 2 || got[0] != m5424 || got[1] != m3164 {
				t.Fatalf("cut at %d: got %q", cut, got)
			}
		}
	}
}

// TestFramerHuge sends a 64 KiB message (the maximum) and a larger one.
func TestFramerHuge(t *testing.T) {
	big := "<1>" + strings.Repeat("z", DefaultMaxMessage-3)
	bigger := big + "z"
	got := frames(strings.NewReader(octet(big, bigger, "ok")), DefaultMaxMessage)
	if len(got) != 3 || got[0] != big || got[1] != "ERR:oversize" || got[2] != "ok" {
		t.Errorf("octet: got %d frames, first %d bytes", len(got), len(got[0]))
	}
	got = frames(strings.NewReader(big+"\n"+bigger+"\nok\n"), DefaultMaxMessage)
	if len(got) != 3 || got[0] != big || got[1] != "ERR:oversize" || got[2] != "ok" {
		t.Errorf("LF: got %d frames", len(got))
	}
}

// FuzzFramer checks the framer never panics, never returns a frame over
// the maximum, and that octet counting round-trips any message.
func FuzzFramer(f *testing.F) {
	files, _ := filepath.Glob("../testdata/samples/*.log")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		lines := bytes.Split(b, []byte("\n"))
		f.Add(b[:min(len(b), 2000)])
		if len(lines) > 1 {
			f.Add([]byte(octet(string(lines[0]), string(lines[1]))))
		}
	}
	f.Add([]byte("12xhello"))
	f.Add([]byte("999999999 "))
	f.Fuzz(func(t *testing.T, in []byte) {
		const max = 512
		checkFrameSizes(t, in, max)
		checkReady(t, in, max)
		// Octet counting round-trips any message with a syslog header.
		msg := "<13>" + string(in)
		if len(msg) > max || strings.ContainsAny(msg[len(msg)-1:], "\r\n\x00") {
			return
		}
		got := frames(strings.NewReader(octet(msg)), max)
		if len(got) != 1 || got[0] != msg {
			t.Fatalf("octet round trip of %q: got %q", msg, got)
		}
	})
}

// checkFrameSizes frames in and fails on a frame over max.
func checkFrameSizes(t *testing.T, in []byte, max int) {
	fr := newFramer(bytes.NewReader(in), max)
	for range len(in) + 2 {
		msg, err := fr.next()
		if len(msg) > max {
			t.Fatalf("frame of %d bytes over the maximum %d", len(msg), max)
		}
		if err != nil && !errors.Is(err, ErrOversize) {
			return
		}
	}
}

// checkReady checks that ready promises a frame without a read: on a
// connection, that read would wait while the frames before were held back.
func checkReady(t *testing.T, in []byte, max int) {
	cr := &callReader{b: in}
	fr := newFramer(cr, max)
	for range len(in) + 2 {
		ready := fr.ready()
		calls := cr.calls
		_, err := fr.next()
		if ready && cr.calls != calls {
			t.Fatalf("ready, but the next frame read the stream (%v)", err)
		}
		if err != nil && !errors.Is(err, ErrOversize) {
			return
		}
	}
}

// callReader counts its Read calls; it returns at most 100 bytes a call,
// as a connection delivers a stream in pieces.
type callReader struct {
	b     []byte
	calls int
}

func (r *callReader) Read(p []byte) (int, error) {
	r.calls++
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 100)], r.b)
	r.b = r.b[n:]
	return n, nil
}

// stingyReader returns its bytes in one read, then counts the reads a
// framer makes beyond them (on a connection, they would wait).
type stingyReader struct {
	b     []byte
	extra int
}

func (r *stingyReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		r.extra++
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// TestFramerReady cuts two-frame streams at every byte: once the first
// frame is read, ready must say whether the second one is wholly buffered,
// and when it does, next must return it without reading.
func TestFramerReady(t *testing.T) {
	for _, tc := range []struct {
		name, first, second string
	}{
		{"LF", m5424 + "\n", m3164 + "\n"},
		{"CRLF and a blank line", "a\r\n", "\r\n\nb\n"},
		{"octet counting", octet(m5424), octet(m3164)},
		{"octet counting with LF", octet(m5424) + "\n", octet(m3164) + "\n"},
	} {
		stream := tc.first + tc.second
		// The second frame is complete at its last byte that is not a line
		// end after it (octet counting), or at its LF.
		complete := len(strings.TrimRight(stream, "\r\n"))
		if !strings.HasPrefix(tc.second, "1") && !strings.HasPrefix(tc.second, "9") {
			complete = len(stream) // LF framing: its LF
		}
		for k := len(tc.first); k <= len(stream); k++ {
			r := &stingyReader{b: []byte(stream[:k])}
			f := newFramer(r, 1000)
			if _, err := f.next(); err != nil {
				t.Fatalf("%s/%d: first frame: %v", tc.name, k, err)
			}
			want := k >= complete
			if got := f.ready(); got != want {
				t.Errorf("%s/%d of %d bytes: ready = %v, want %v", tc.name, k, len(stream), got, want)
			}
			if want {
				before := r.extra
				if msg, err := f.next(); err != nil || r.extra != before {
					t.Errorf("%s/%d: ready, but next = %q, %v after %d reads", tc.name, k, msg, err, r.extra-before)
				}
			}
		}
	}
}

// fakeConn is a net.Conn whose reads return the sizes given, and that
// records when each read came.
type fakeConn struct {
	net.Conn
	sizes []int
	at    []time.Time
}

func (c *fakeConn) Read(p []byte) (int, error) {
	c.at = append(c.at, time.Now())
	if len(c.sizes) == 0 {
		return 0, io.EOF
	}
	n := min(c.sizes[0], len(p))
	c.sizes = c.sizes[1:]
	return n, nil
}

func (c *fakeConn) SetReadDeadline(time.Time) error { return nil }

// TestNapAfterShortRead: after a short read the connection waits tcpNap
// before reading again, so that the next read takes more at once; after a
// long one it reads again at once.
func TestNapAfterShortRead(t *testing.T) {
	fc := &fakeConn{sizes: []int{100, shortRead, 10}}
	c := &deadlineConn{Conn: fc, idle: time.Minute, frame: time.Minute, buffered: func() int { return 0 }}
	buf := make([]byte, 64<<10)
	for range 3 {
		c.Read(buf)
	}
	if gap := fc.at[1].Sub(fc.at[0]); gap < tcpNap {
		t.Errorf("read after a short read came %v after it, want %v at least", gap, tcpNap)
	}
	if !c.short {
		t.Error("the last read (10 bytes) was not counted short")
	}
}
