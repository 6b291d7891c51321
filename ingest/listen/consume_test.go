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
	c := &consumer{s: s, clock: time.Now}
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

// TestYearOverNewYear: RFC 3164 stamps carry no year. Around midnight on
// New Year's Eve, messages stamped either side of it get the right year,
// whether the parsers were made before midnight or after, and however the
// sender's clock leads ours by a few seconds.
func TestYearOverNewYear(t *testing.T) {
	s, err := New(Config{UDP: "127.0.0.1:0", AllowAny: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	line := func(stamp string) []byte {
		return []byte("<134>" + stamp + " esx05 dfwpktlogs: 8b4a1980 INET match PASS 3041 IN 52 TCP 10.0.0.1/40000->10.0.0.2/443 S")
	}
	snd := s.c.sender(netip.MustParseAddr("192.0.2.7"))
	for _, tc := range []struct {
		now   string // the receiver's clock when the message is parsed
		stamp string
		want  string
	}{
		{"2026-12-31T23:30:00Z", "Dec 31 23:29:58", "2026-12-31T23:29:58Z"},
		{"2026-12-31T23:59:58Z", "Jan  1 00:00:05", "2027-01-01T00:00:05Z"}, // the sender's clock leads
		{"2027-01-01T00:20:00Z", "Jan  1 00:19:59", "2027-01-01T00:19:59Z"}, // parsers made last year
		{"2027-01-01T00:20:00Z", "Dec 31 23:59:59", "2026-12-31T23:59:59Z"}, // a late arrival
		{"2027-01-01T02:00:00Z", "Jan  1 01:59:59", "2027-01-01T01:59:59Z"}, // parsers renewed
		{"2027-01-01T02:00:00Z", "Dec 31 23:59:59", "2026-12-31T23:59:59Z"},
		{"2027-06-15T12:00:00Z", "Jul  1 00:00:00", "2027-07-01T00:00:00Z"}, // a clock weeks ahead
		{"2027-06-15T12:00:00Z", "Aug  1 00:00:00", "2026-08-01T00:00:00Z"}, // … or a stamp from last year
	} {
		now, _ := time.Parse(time.RFC3339, tc.now)
		c := &consumer{s: s, clock: func() time.Time { return now }}
		c.renew(now.Add(-30 * time.Minute)) // made half an hour earlier: before midnight for the first rows
		c.out.Events = make([]ingest.Event, 0, maxBatch)
		ch := getChunk()
		ch.add(line(tc.stamp), snd)
		s.queued.Add(ch.cost)
		s.queuedMsgs.Add(1)
		c.process([]*chunk{ch})
		if len(c.out.Events) != 1 {
			t.Fatalf("%s at %s: %d events (stats %+v)", tc.stamp, tc.now, len(c.out.Events), c.out.Stats)
		}
		if got := c.out.Events[0].Time.Format(time.RFC3339); got != tc.want {
			t.Errorf("%q read at %s: %s, want %s", tc.stamp, tc.now, got, tc.want)
		}
	}
}
