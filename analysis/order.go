package analysis

import (
	"bufio"
	"bytes"
	"cmp"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// peekLines and peekBytes bound how far InTimeOrder reads into a file for
// its first event.
const (
	peekLines = 2000
	peekBytes = 4 << 20
)

// InTimeOrder returns files in the order of their first event's time, so
// that a connection whose lines straddle two files is seen starting before
// it is seen going on: read newest first (a glob of logrotate's flow.log,
// flow.log.1, flow.log.2.gz), such a connection counted twice. The sort is
// stable; files whose first lines hold no event, or that cannot be read,
// keep their order after the others (reading them reports why). A
// listener's archive segments keep the order of their names among
// themselves: it is their lines' arrival order. With standard input ("-")
// among them, files keep the order given.
func InTimeOrder(files []string, opts ...ingest.Option) []string {
	if len(files) < 2 || slices.ContainsFunc(files, isStream) {
		return files
	}
	type keyed struct {
		name  string
		first time.Time
	}
	ks := make([]keyed, len(files))
	for i, name := range files {
		ks[i] = keyed{name, firstEvent(name, opts)}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		if c := cmp.Compare(btoi(a.first.IsZero()), btoi(b.first.IsZero())); c != 0 || a.first.IsZero() {
			return c // files without an event go last, in their order
		}
		return a.first.Compare(b.first)
	})
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.name
	}
	segmentsInArrivalOrder(out)
	return out
}

// segmentsInArrivalOrder puts a listener's archive segments among files,
// where the sort by first event left them, back in the order of their
// names. A segment holds lines in the order they arrived and is named
// after when it was opened (ingest.IsSegment); its first line may carry an
// earlier time than the segment before (a host whose clock lags), and read
// in that order a connection straddling the two counted twice.
func segmentsInArrivalOrder(files []string) {
	var at []int
	var segs []string
	for i, f := range files {
		if ingest.IsSegment(f) {
			at = append(at, i)
			segs = append(segs, f)
		}
	}
	slices.SortStableFunc(segs, func(a, b string) int { return cmp.Compare(filepath.Base(a), filepath.Base(b)) })
	for i, f := range segs {
		files[at[i]] = f
	}
}

// isStream reports whether name is read once, front to back: standard
// input, a named pipe, a device.
func isStream(name string) bool {
	if name == "-" {
		return true
	}
	st, err := os.Stat(name)
	return err == nil && !st.Mode().IsRegular() && !st.IsDir()
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// firstEvent returns the time of the first event in name's first lines
// (zero if none).
func firstEvent(name string, opts []ingest.Option) time.Time {
	in, err := ingest.Open(name)
	if err != nil {
		return time.Time{}
	}
	defer in.Close()
	p := ingest.NewParser(append([]ingest.Option{ingest.WithReferenceTime(in.ReferenceTime())}, opts...)...)
	sc := bufio.NewScanner(io.LimitReader(in, peekBytes))
	sc.Buffer(make([]byte, 0, 64<<10), ingest.DefaultMaxLineLength+1)
	var ev ingest.Event
	for n := 0; n < peekLines && sc.Scan(); n++ {
		line := bytes.TrimRight(sc.Bytes(), "\r")
		if b, _ := p.Parse(line, &ev); b == ingest.Parsed && !ev.Time.IsZero() {
			return ev.Time
		}
	}
	return time.Time{}
}
