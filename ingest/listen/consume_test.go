package listen

import (
	"net/netip"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// TestOneLine checks that every CR and LF inside a message becomes a space
// and is counted, and that nothing else changes.
func TestOneLine(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		n        int
	}{
		{"", "", 0},
		{"plain message", "plain message", 0},
		{"a\nb", "a b", 1},
		{"a\rb", "a b", 1},
		{"a\r\nb\n", "a  b ", 3},
		{"\r\n\r\n", "    ", 4},
		{"tab\tand\x00nul", "tab\tand\x00nul", 0},
	} {
		b := []byte(tc.in)
		if n := oneLine(b); n != tc.n || string(b) != tc.want {
			t.Errorf("oneLine(%q) = %d, %q; want %d, %q", tc.in, n, b, tc.n, tc.want)
		}
	}
}

// BenchmarkConsume measures the consumer's work per message, as the
// listener does it by default: archive (written, never rotated here),
// header (go-syslog) and payload parsing, and the statistics; no handler,
// no compression. Half the messages are RFC 5424 NSX lines, half RFC 3164
// Nutanix lines.
func BenchmarkConsume(b *testing.B) {
	s, err := New(Config{UDP: "127.0.0.1:0", AllowAny: true, Archive: b.TempDir(), SegmentSize: 1 << 40,
		HoldSegments: true}, nil) // nothing commits: close compresses nothing
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c := &consumer{s: s}
	c.renew(time.Now())
	c.out.Events = make([]ingest.Event, 0, maxBatch)
	snd := s.c.sender(netip.MustParseAddr("192.0.2.7"))
	lines := [][]byte{[]byte(nsxLine), []byte(ntxLine)}
	chunks := make([]*chunk, 0, maxBatch/maxChunk)
	for b.Loop() {
		chunks = chunks[:0]
		for range maxBatch / maxChunk {
			ch := getChunk()
			for i := range maxChunk {
				ch.add(lines[i%len(lines)], snd)
			}
			s.queued.Add(ch.cost)
			s.queuedMsgs.Add(int64(ch.len()))
			chunks = append(chunks, ch)
		}
		c.process(chunks)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*maxBatch), "ns/msg")
	if err := s.arch.close(); err != nil {
		b.Fatal(err)
	}
}
