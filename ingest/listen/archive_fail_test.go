package listen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// fullDisk is a file system that fills up on demand: while full, a write
// stores part of what it is given (as write(2) does when the last blocks
// run out) and fails with ENOSPC.
type fullDisk struct{ full atomic.Bool }

type diskFile struct {
	*os.File
	d *fullDisk
}

func (f diskFile) Write(b []byte) (int, error) {
	if f.d.full.Load() {
		n, _ := f.File.Write(b[:len(b)/3])
		return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return f.File.Write(b)
}

func (d *fullDisk) create(path string) (segmentFile, error) {
	f, err := createSegment(path)
	if err != nil {
		return nil, err
	}
	return diskFile{f.(*os.File), d}, nil
}

// startOn runs a server whose archive writes to d (nil: the real disk).
func startOn(t *testing.T, cfg Config, r *recorder, d *fullDisk) (*Server, chan error) {
	t.Helper()
	cfg.UDP, cfg.TCP = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	cfg.Parse = []ingest.Option{ingest.WithSyslogLibrary(true)}
	cfg.HoldSegments = true // segments stay plain, for archived to read
	s, err := New(cfg, r.handle)
	if err != nil {
		t.Fatal(err)
	}
	if d != nil {
		s.arch.create = d.create
	}
	s.archRetry = 20 * time.Millisecond
	errc := make(chan error, 1)
	go func() { errc <- s.Run(context.Background()) }()
	return s, errc
}

// archived returns the lines of the archive's segments, and whether the
// last one ends in the middle of a line.
func archived(t *testing.T, dir string) (lines []string, cut bool) {
	t.Helper()
	segs, _ := filepath.Glob(filepath.Join(dir, "syslog-*"+ingest.SegmentExt))
	for _, s := range segs {
		b, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		cut = cut || len(b) > 0 && b[len(b)-1] != '\n'
		lines = append(lines, strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")...)
	}
	return lines, cut
}

func numbered(i int) string { return strings.Replace(nsxLine, "40000", fmt.Sprint(40000+i), 1) }

// TestArchiveFullStopsAccepting: when the archive cannot be written (a full
// disk), the failure shows at once in Stats, no message reaches the handler
// (the model) without being archived, TCP senders are held back and UDP
// datagrams dropped and counted; once the disk has room again, the held
// messages are archived and handed over, and the cut line is completed.
func TestArchiveFullStopsAccepting(t *testing.T) {
	dir := t.TempDir()
	d := &fullDisk{}
	r := &recorder{}
	s, errc := startOn(t, Config{Archive: dir}, r, d)
	a := s.Addrs()
	tcp := dial(t, "tcp", a.TCP)
	for i := range 10 {
		fmt.Fprintf(tcp, "%s\n", numbered(i))
	}
	waitFor(t, "the first messages", func() bool { return s.Stats().Accepted == 10 })

	d.full.Store(true)
	for i := 10; i < 30; i++ {
		fmt.Fprintf(tcp, "%s\n", numbered(i))
	}
	waitFor(t, "the failure to show", func() bool { return s.Stats().ArchiveDown })
	st := s.Stats()
	if !strings.Contains(st.ArchiveErr, "no space") {
		t.Errorf("archive error %q", st.ArchiveErr)
	}
	udp := dial(t, "udp", a.UDP)
	for i := 30; i < 40; i++ {
		udp.Write([]byte(numbered(i)))
	}
	waitFor(t, "the datagrams dropped", func() bool { return s.Stats().ArchiveDropped == 10 })
	time.Sleep(100 * time.Millisecond) // retries fail meanwhile
	lines, _ := r.snapshot()
	if st := s.Stats(); len(lines) != 10 || st.Accepted != 10 {
		t.Errorf("while the archive fails, %d messages reached the handler (accepted %d), want the 10 archived", len(lines), st.Accepted)
	}

	d.full.Store(false)
	waitFor(t, "the held messages", func() bool { return s.Stats().Accepted == 30 })
	if s.Stats().ArchiveDown {
		t.Error("still down after the disk has room")
	}
	udp.Write([]byte(numbered(40)))
	waitFor(t, "a datagram after the recovery", func() bool { return s.Stats().Accepted == 31 })
	s.Close()
	<-errc
	lines, _ = r.snapshot()
	arch, cut := archived(t, dir)
	if cut || strings.Join(arch, "\n") != strings.Join(lines, "\n") {
		t.Errorf("the handler got %d messages, the archive holds %d lines (cut %v): they must be the same", len(lines), len(arch), cut)
	}
	for i, want := range append(seq(0, 30), 40) {
		if i < len(lines) && lines[i] != numbered(want) {
			t.Fatalf("message %d is %q, want number %d", i, lines[i], want)
		}
	}
}

func seq(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// TestStopWhileArchiveFull: stopping while the archive cannot be written
// hands nothing unarchived to the handler, counts those messages as lost,
// and Run returns the archive's error.
func TestStopWhileArchiveFull(t *testing.T) {
	dir := t.TempDir()
	d := &fullDisk{}
	r := &recorder{}
	s, errc := startOn(t, Config{Archive: dir}, r, d)
	d.full.Store(true)
	tcp := dial(t, "tcp", s.Addrs().TCP)
	var lines5 strings.Builder
	for i := range 5 {
		fmt.Fprintf(&lines5, "%s\n", numbered(i))
	}
	io.WriteString(tcp, lines5.String())
	waitFor(t, "the failure", func() bool { return s.Stats().ArchiveDown })
	s.Close()
	err := <-errc
	st := s.Stats()
	lines, _ := r.snapshot()
	// While the archive is down the readers hold TCP senders back, so the
	// server may have read fewer than the five (under load the first one
	// can come alone); what it read is counted unarchived, none handled.
	if err == nil || len(lines) != 0 || st.Accepted != 0 || st.Received < 1 || st.Unarchived != st.Received {
		t.Errorf("Run: %v; handler got %d, accepted %d, unarchived %d of %d received", err, len(lines), st.Accepted, st.Unarchived, st.Received)
	}
}

// TestArchiveFullTmpfs fills a real file system (a 1 MiB tmpfs; needs root
// to mount it): the archive stops, then goes on once room is made.
func TestArchiveFullTmpfs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "small")
	os.Mkdir(dir, 0o755)
	if err := mountTmpfs(dir, "1m"); err != nil {
		t.Skip("cannot mount a tmpfs here (needs root):", err)
	}
	t.Cleanup(func() { unmount(dir) })
	ballast := filepath.Join(dir, "ballast")
	fill(t, ballast)
	r := &recorder{}
	s, errc := startOn(t, Config{Archive: dir}, r, nil)
	defer func() { s.Close(); <-errc }()
	tcp := dial(t, "tcp", s.Addrs().TCP)
	for i := range 200 {
		fmt.Fprintf(tcp, "%s\n", numbered(i))
	}
	waitFor(t, "the failure", func() bool { return s.Stats().ArchiveDown })
	if lines, _ := r.snapshot(); len(lines) > 0 {
		arch, _ := archived(t, dir)
		if len(arch) < len(lines) {
			t.Errorf("%d messages handed over, %d archived", len(lines), len(arch))
		}
	}
	os.Remove(ballast)
	waitFor(t, "every message", func() bool { return s.Stats().Accepted == 200 })
	lines, _ := r.snapshot()
	arch, cut := archived(t, dir)
	if cut || strings.Join(arch, "\n") != strings.Join(lines, "\n") {
		t.Errorf("handler %d messages, archive %d lines (cut %v)", len(lines), len(arch), cut)
	}
}

// fill writes to path until the file system is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := bytes.Repeat([]byte("x"), 4096)
	for {
		if _, err := f.Write(block); err != nil {
			return
		}
	}
}

func mountTmpfs(dir, size string) error {
	return exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "none", dir).Run()
}

func unmount(dir string) { exec.Command("umount", dir).Run() }
