package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// corpus returns a multi-chunk input mixing every kind of line, with lines
// longer than a whole chunk, and no final newline.
func corpus(seed int64, lines int) []byte {
	r := rand.New(rand.NewSource(seed))
	var b bytes.Buffer
	b.Write(utf8BOM)
	for i := 0; i < lines; i++ {
		if i%7001 == 5000 { // three lines longer than a whole chunk
			b.WriteString("INET match " + strings.Repeat("y", chunkSize+r.Intn(chunkSize)))
			b.WriteByte('\n')
			continue
		}
		switch k := r.Intn(99); {
		case k < 60:
			fmt.Fprintf(&b, "<134>2025-04-10T10:12:51.646697+00:00 ahv-%d Genesis_1: INFO:2025/04/10 10:11:%02d  [ff16a6fb-ff89-4c2d-a9c8-f67030f93d79] Discover-Traffic [Update] SRC=10.0.%d.%d DST=20.10.31.115 PROTO=TCP SPORT=%d DPORT=443 ACTION=MONITOR DIRECTION=OUTBOUND ORIG: PKTS=9 BYTES=900 REPLY: PKTS=5 BYTES=500",
				i%3, i%60, i%7, i%250, 32768+i%20000)
		case k < 80:
			fmt.Fprintf(&b, "2018-07-03T19:44:09.749Z b6507827 INET TERM PASS 1024 IN TCP FIN 192.168.4.%d/%d->192.168.4.4/443 3/2 300/200 SGTSWEB", i%250, 1024+i%60000)
		case k < 88:
			b.WriteString("<30>2025-04-10T10:12:52Z ahv-1 systemd[1]: Started Session.")
		case k < 94:
			fmt.Fprintf(&b, "INFO:2025/04/10 10:11:55  [u] P [Update] SRC=10.0.0.%d DST=1.2.3.4 PROTO=TCP SPORT=1 DPORT=99999", 256+i)
		case k < 97:
			b.WriteString("2016-09-17T10:34:55.004Z 7295 INET bad-offset DROP domain-c46/1005 OUT 78 UDP 10.2.5.10/137->10.2.5.255/137\r")
		default:
			b.WriteString("\x00\x00" + strings.Repeat("x", r.Intn(200)))
		}
		if i < lines-1 {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

type eventSummary struct {
	Src, Dst     string
	SPort, DPort uint16
	Host         string
	Raw          string
}

func summarize(ev *Event) eventSummary {
	return eventSummary{ev.Src.String(), ev.Dst.String(), ev.SPort, ev.DPort, ev.Host, string(ev.Raw)}
}

// TestReadMatchesScanner checks the parallel reader against the sequential
// Scanner: the same events in the same order, the same counts, and malformed
// lines at the same line numbers, whatever the number of workers and
// however the reader delivers bytes. Run with -race.
func TestReadMatchesScanner(t *testing.T) {
	in := corpus(1, 20_000)
	sc := NewScanner(bytes.NewReader(in), "corpus")
	var want []eventSummary
	for sc.Scan() {
		want = append(want, summarize(sc.Event()))
	}
	if sc.Err() != nil {
		t.Fatal(sc.Err())
	}
	wantStats := sc.Stats()
	if wantStats.Lines != 20_000 || wantStats.Events == 0 || wantStats.Malformed == 0 || wantStats.Skipped == 0 {
		t.Fatalf("corpus does not exercise every bucket: %+v", wantStats)
	}

	readers := map[string]func() io.Reader{
		"whole":   func() io.Reader { return bytes.NewReader(in) },
		"onebyte": func() io.Reader { return iotest.HalfReader(iotest.OneByteReader(bytes.NewReader(in[:200_000]))) },
		"half":    func() io.Reader { return iotest.HalfReader(bytes.NewReader(in)) },
	}
	for name, mk := range readers {
		for _, workers := range []int{1, 2, 5} {
			t.Run(fmt.Sprintf("%s/%d", name, workers), func(t *testing.T) {
				if name == "onebyte" && workers != 2 {
					t.Skip("one configuration is enough for the slow reader")
				}
				var got []eventSummary
				st, err := Read(context.Background(), mk(), "corpus", func(b *Batch) error {
					for i := range b.Events {
						got = append(got, summarize(&b.Events[i]))
					}
					return nil
				}, WithWorkers(workers))
				if err != nil {
					t.Fatal(err)
				}
				ws, wevents := wantStats, want
				if name == "onebyte" { // a prefix: compare with a Scanner over the same bytes
					s2 := NewScanner(bytes.NewReader(in[:200_000]), "corpus")
					wevents = nil
					for s2.Scan() {
						wevents = append(wevents, summarize(s2.Event()))
					}
					ws = s2.Stats()
				}
				if !reflect.DeepEqual(got, wevents) {
					t.Errorf("events differ: got %d, want %d", len(got), len(wevents))
				}
				if st.Lines != ws.Lines || st.Events != ws.Events || st.Skipped != ws.Skipped ||
					st.Unsupported != ws.Unsupported || st.Malformed != ws.Malformed || st.NULLines != ws.NULLines {
					t.Errorf("stats differ:\n got lines %d events %d skipped %d unsupported %d malformed %d NUL %d\nwant lines %d events %d skipped %d unsupported %d malformed %d NUL %d",
						st.Lines, st.Events, st.Skipped, st.Unsupported, st.Malformed, st.NULLines,
						ws.Lines, ws.Events, ws.Skipped, ws.Unsupported, ws.Malformed, ws.NULLines)
				}
				for i := range min(len(st.MalformedSamples), len(ws.MalformedSamples)) {
					g, w := st.MalformedSamples[i], ws.MalformedSamples[i]
					if g.Line != w.Line || Reason(g.Err) != Reason(w.Err) {
						t.Errorf("malformed sample %d: got line %d %v, want line %d %v", i, g.Line, g.Err, w.Line, w.Err)
					}
				}
			})
		}
	}
}

// TestReadStops checks that an error from the callback, or a cancelled
// context, stops Read promptly and is returned.
func TestReadStops(t *testing.T) {
	in := corpus(2, 30_000)
	stop := errors.New("stop")
	calls := 0
	_, err := Read(context.Background(), bytes.NewReader(in), "c", func(*Batch) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("callback error: got %v after %d calls, want stop after 1", err, calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Read(ctx, bytes.NewReader(in), "c", func(*Batch) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v", err)
	}
	// A read error ends the input after what was read, and is returned.
	bad := io.MultiReader(bytes.NewReader(in[:5000]), iotest.ErrReader(io.ErrUnexpectedEOF))
	st, err := Read(context.Background(), bad, "c", func(*Batch) error { return nil })
	if !errors.Is(err, io.ErrUnexpectedEOF) || st.Lines == 0 {
		t.Errorf("read error: got %v with %d lines", err, st.Lines)
	}
}

// TestReadHoldPartialLine checks that a last line without newline is held
// back for an input still being written, and read once it is complete.
func TestReadHoldPartialLine(t *testing.T) {
	line := "2018-07-03T19:44:09.749Z b6507827 INET match PASS mainrs/1024 IN 52 TCP 192.168.4.3/49627->192.168.4.4/49153 SEW\n"
	partial := line[:len(line)-30] // cut inside the flow tuple
	in := line + line + partial
	st, err := Read(context.Background(), strings.NewReader(in), "growing", func(*Batch) error { return nil }, WithHoldPartialLine())
	if err != nil || st.Lines != 2 || st.Events != 2 || st.Malformed != 0 || st.Pending != int64(len(partial)) || st.Bytes != int64(2*len(line)) {
		t.Errorf("held read: %+v, %v", st, err)
	}
	st, _ = Read(context.Background(), strings.NewReader(in), "cut", func(*Batch) error { return nil })
	if st.Lines != 3 || st.Malformed != 1 || st.Pending != 0 {
		t.Errorf("plain read: lines %d malformed %d pending %d; want 3 1 0", st.Lines, st.Malformed, st.Pending)
	}
}
