package ingest

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"
)

// Input is an opened log source: a file, gzip-compressed or not, or stdin.
type Input struct {
	Name    string    // as given; "-" is standard input
	Size    int64     // bytes on disk (compressed size for .gz); -1 when unknown
	ModTime time.Time // zero for stdin
	Gzip    bool

	r      io.Reader
	file   *os.File // nil for stdin
	buf    *bufio.Reader
	closer io.Closer
	read   atomic.Int64 // bytes consumed from disk, for progress
}

// Open opens name for reading ("-" is standard input). Gzip input is detected
// by its magic bytes, not its name, and decompressed on the fly.
func Open(name string) (*Input, error) {
	in := &Input{Name: name, Size: -1}
	var f *os.File
	if name == "-" {
		f = os.Stdin
	} else {
		var err error
		if f, err = os.Open(name); err != nil {
			return nil, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		if st.IsDir() {
			f.Close()
			return nil, fmt.Errorf("open %s: is a directory", name)
		}
		in.Size, in.ModTime, in.closer, in.file = st.Size(), st.ModTime(), f, f
	}
	br := bufio.NewReaderSize(&countingReader{r: f, n: &in.read}, 256<<10)
	in.r, in.buf = br, br
	if magic, _ := br.Peek(2); IsGzip(magic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			in.Close()
			return nil, fmt.Errorf("open %s: %w", name, err)
		}
		in.r, in.Gzip = zr, true
	}
	return in, nil
}

// IsGzip reports whether b starts with gzip's magic bytes: how Open
// recognises compressed input, by content rather than by name.
func IsGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// ReferenceTime is when the input was last written (its modification time;
// now for standard input): RFC 3164 stamps, which have no year, are placed
// in the year before it (WithReferenceTime).
func (in *Input) ReferenceTime() time.Time {
	if in.ModTime.IsZero() {
		return time.Now()
	}
	return in.ModTime
}

// Skip moves past the first n bytes of the (decompressed) content: a seek
// for plain files, reading and discarding for gzip and standard input. Call
// it before the first Read.
func (in *Input) Skip(n int64) error {
	if n <= 0 {
		return nil
	}
	if in.file != nil && !in.Gzip {
		if _, err := in.file.Seek(n, io.SeekStart); err != nil {
			return fmt.Errorf("skip to %d in %s: %w", n, in.Name, err)
		}
		in.buf.Reset(&countingReader{r: in.file, n: &in.read})
		in.read.Store(n)
		return nil
	}
	if _, err := io.CopyN(io.Discard, in.r, n); err != nil {
		return fmt.Errorf("skip to %d in %s: %w", n, in.Name, err)
	}
	return nil
}

// Read reads the (decompressed) content.
func (in *Input) Read(p []byte) (int, error) { return in.r.Read(p) }

// Consumed returns how many bytes of the file have been read so far; compare
// it with Size for progress. It is safe to call from any goroutine.
func (in *Input) Consumed() int64 { return in.read.Load() }

// Close closes the file (not stdin).
func (in *Input) Close() error {
	if in.closer == nil {
		return nil
	}
	return in.closer.Close()
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
