package listen

import (
	"compress/gzip"
	"github.com/flowsleuth/flowsleuth/ingest"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// writeSegments closes n segments of one line each in a.
func writeSegments(t *testing.T, a *archive, n int) {
	t.Helper()
	now := time.Now()
	for i := range n {
		a.add([]byte("line "+strings.Repeat("x", i)), false)
		if _, _, err := a.flush(now.Add(time.Duration(i) * time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if err := a.rotate(); err != nil {
			t.Fatal(err)
		}
	}
}

func countGz(t *testing.T, dir string) int {
	t.Helper()
	gz, err := filepath.Glob(filepath.Join(dir, "*"+ingest.SegmentExt+".gz"))
	if err != nil {
		t.Fatal(err)
	}
	return len(gz)
}

// TestCompressionWaitsWhileBusy: closed segments are not compressed while
// the receiver is busy, and all are once it calms down.
func TestCompressionWaitsWhileBusy(t *testing.T) {
	dir := t.TempDir()
	a, err := newArchive(dir, 1<<20, time.Hour, false)
	if err != nil {
		t.Fatal(err)
	}
	var busy atomic.Bool
	busy.Store(true)
	a.busy = busy.Load
	writeSegments(t, a, 3)
	time.Sleep(5 * busyPoll)
	if n := countGz(t, dir); n != 0 {
		t.Fatalf("%d segments compressed while busy, want 0", n)
	}
	if _, _, waiting, _, _ := a.counts(); waiting != 3 {
		t.Errorf("%d segments reported waiting, want 3", waiting)
	}
	busy.Store(false)
	waitFor(t, "compression once calm", func() bool { return countGz(t, dir) == 3 })
	waitFor(t, "no segment reported waiting", func() bool { _, _, waiting, _, _ := a.counts(); return waiting == 0 })
	if err := a.close(); err != nil {
		t.Fatal(err)
	}
	// Each is a whole gzip file of its line.
	gz, _ := filepath.Glob(filepath.Join(dir, "*.gz"))
	for _, p := range gz {
		if b := gunzip(t, p); !strings.HasPrefix(string(b), "line ") || !strings.HasSuffix(string(b), "\n") {
			t.Errorf("%s: %q", p, b)
		}
	}
}

// TestCompressionDeferLimit: a busy receiver defers compression only up to
// deferLimit waiting segments (disk space), and closing never waits.
func TestCompressionDeferLimit(t *testing.T) {
	dir := t.TempDir()
	a, err := newArchive(dir, 1<<20, time.Hour, false)
	if err != nil {
		t.Fatal(err)
	}
	a.busy = func() bool { return true }
	a.deferLimit = 3
	writeSegments(t, a, 5)
	// Five queued, three may wait: the compressor takes the oldest while
	// three or more wait, so two are compressed.
	waitFor(t, "the segments over the limit", func() bool { return countGz(t, dir) == 2 })
	time.Sleep(5 * busyPoll)
	if n := countGz(t, dir); n != 2 {
		t.Fatalf("%d compressed while busy under the limit, want 2", n)
	}
	if err := a.close(); err != nil { // still busy: close compresses anyway
		t.Fatal(err)
	}
	if n := countGz(t, dir); n != 5 {
		t.Errorf("after close: %d compressed, want 5", n)
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "*"+ingest.SegmentExt))
	if len(logs) != 0 {
		t.Errorf("after close, %d segments left uncompressed: %v", len(logs), logs)
	}
}

// gunzip returns the content of a gzip file, read with the standard
// library (the archive writes it with klauspost/compress).
func gunzip(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

// TestStaleCompressionRemoved: the temporary file of a compression a crash
// cut short is removed when the archive opens again; segments stay.
func TestStaleCompressionRemoved(t *testing.T) {
	dir := t.TempDir()
	seg := filepath.Join(dir, "syslog-20261123T101010.000Z"+ingest.SegmentExt)
	tmp := seg + ".gz.tmp123456"
	other := filepath.Join(dir, "notes.txt")
	for _, p := range []string{seg, tmp, other} {
		if err := os.WriteFile(p, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := newArchive(dir, 1<<20, time.Hour, true); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{seg: true, tmp: false, other: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", filepath.Base(p), err == nil, want)
		}
	}
}
