package listen

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// SegmentExt ends the name of an archive segment being written or not yet
// compressed; compressed segments end in SegmentExt + ".gz".
const SegmentExt = ".log"

// archive appends every accepted message, one per line, to segment files
// in a directory. Segments rotate by size and age; a closed segment is
// compressed once its bytes are committed (Commit), or at once when
// nothing commits (hold false). Only the consumer goroutine writes; Commit
// and the getters may be called from any goroutine.
type archive struct {
	dir     string
	maxSize int64
	maxAge  time.Duration
	hold    bool // compress closed segments only once committed

	f       *os.File
	path    string
	size    int64
	opened  time.Time
	buf     []byte
	written atomic.Int64 // bytes archived since start, all segments

	mu        sync.Mutex
	closed    map[string]int64 // closed, not yet compressed segments: their size
	committed map[string]int64 // bytes of a segment the workspace holds
	segments  int
	done      bool // closed: Commit compresses before returning
	gzErr     error
	gzWG      sync.WaitGroup
}

func newArchive(dir string, maxSize int64, maxAge time.Duration, hold bool) (*archive, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	return &archive{dir: dir, maxSize: maxSize, maxAge: maxAge, hold: hold,
		closed: make(map[string]int64), committed: make(map[string]int64)}, nil
}

// add appends msg, which holds no line end (oneLine), to the pending
// buffer as one line.
func (a *archive) add(msg []byte) {
	a.buf = append(a.buf, msg...)
	a.buf = append(a.buf, '\n')
}

// flush writes the pending lines to the current segment, opening one if
// needed (rotation is the caller's: due, rotate). It returns the segment and its size after
// the write. The lines are in the operating system's hands when it
// returns: a killed process loses none of them.
func (a *archive) flush(now time.Time) (string, int64, error) {
	if len(a.buf) == 0 && a.f != nil {
		return a.path, a.size, nil
	}
	if a.f == nil {
		if err := a.open(now); err != nil {
			return "", 0, err
		}
	}
	n, err := a.f.Write(a.buf)
	a.size += int64(n)
	a.written.Add(int64(n))
	a.buf = a.buf[:0]
	if err != nil {
		return a.path, a.size, fmt.Errorf("archive %s: %w", a.path, err)
	}
	return a.path, a.size, nil
}

// due reports whether the segment, with the lines pending, is full or old:
// it should rotate before more lines.
func (a *archive) due(now time.Time) bool {
	if a.f == nil {
		return int64(len(a.buf)) >= a.maxSize
	}
	return a.size+int64(len(a.buf)) >= a.maxSize || now.Sub(a.opened) >= a.maxAge
}

func (a *archive) open(now time.Time) error {
	base := "syslog-" + now.UTC().Format("20060102T150405.000Z")
	for i := 0; ; i++ {
		name := base
		if i > 0 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		p := filepath.Join(a.dir, name+SegmentExt)
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("archive: %w", err)
		}
		a.mu.Lock()
		a.f, a.path, a.size, a.opened = f, p, 0, now
		a.segments++
		a.mu.Unlock()
		return nil
	}
}

// sync makes the current segment durable (fsync): called before the
// workspace records its size, so that a power loss never leaves the
// workspace counting bytes the archive lost.
func (a *archive) sync() error {
	if a.f == nil {
		return nil
	}
	return a.f.Sync()
}

// rotate closes the current segment; it is compressed when committed.
func (a *archive) rotate() error {
	if a.f == nil {
		return nil
	}
	err := a.f.Sync()
	if cerr := a.f.Close(); err == nil {
		err = cerr
	}
	a.mu.Lock()
	a.closed[a.path] = a.size
	a.f, a.path, a.size = nil, "", 0
	a.mu.Unlock()
	a.compressReady()
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	return nil
}

// Commit records that the workspace holds the first size bytes of segment.
func (a *archive) Commit(segment string, size int64) {
	a.mu.Lock()
	if size > a.committed[segment] {
		a.committed[segment] = size
	}
	done := a.done
	a.mu.Unlock()
	a.compressReady()
	if done {
		a.gzWG.Wait() // nobody else will wait for it
	}
}

// compressReady compresses, in the background, the closed segments whose
// bytes are all committed (or all of them when not holding).
func (a *archive) compressReady() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for p, size := range a.closed {
		if a.hold && a.committed[p] < size {
			continue
		}
		delete(a.closed, p)
		delete(a.committed, p)
		a.gzWG.Add(1)
		go func() {
			defer a.gzWG.Done()
			if err := CompressSegment(p); err != nil {
				a.mu.Lock()
				a.gzErr = err
				a.mu.Unlock()
			}
		}()
	}
}

// close closes the current segment and waits for compressions under way.
// Segments not committed stay uncompressed, for the next start to import.
func (a *archive) close() error {
	err := a.rotate()
	a.gzWG.Wait()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.done = true
	if err == nil {
		err = a.gzErr
	}
	return err
}

func (a *archive) counts() (written int64, segments int, current string, gzErr error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.written.Load(), a.segments, a.path, a.gzErr
}

// CompressSegment gzips an archive segment: it writes path.gz under a
// temporary name, syncs it, renames it into place and only then removes
// path, so a crash at any point leaves at least one complete copy.
func CompressSegment(path string) error {
	in, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("compress %s: %w", path, err)
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".gz.tmp*")
	if err != nil {
		return fmt.Errorf("compress %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())                       // a no-op after the rename
	zw, _ := gzip.NewWriterLevel(tmp, gzip.BestSpeed) // logs compress well anyway; CPU is for receiving
	err = tmp.Chmod(0o644)                            // CreateTemp makes it 0600
	if err == nil {
		_, err = io.Copy(zw, in)
	}
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path+".gz")
	}
	if err == nil {
		err = os.Remove(path)
	}
	if err != nil {
		return fmt.Errorf("compress %s: %w", path, err)
	}
	return nil
}

// Segments lists the uncompressed archive segments in dir, oldest first
// (their names sort by time): the ones a restart must check are committed.
func Segments(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if e.Type().IsRegular() && strings.HasPrefix(n, "syslog-") && strings.HasSuffix(n, SegmentExt) {
			out = append(out, filepath.Join(dir, n))
		}
	}
	sort.Strings(out)
	return out, nil
}
