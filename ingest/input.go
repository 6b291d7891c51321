package ingest

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"
)

// Input is an opened log source: a file, gzip-compressed or not, standard
// input, or another stream (a named pipe, a device).
type Input struct {
	Name    string    // as given; "-" is standard input
	Size    int64     // bytes on disk (compressed size for .gz); -1 when unknown
	ModTime time.Time // zero for stdin
	Gzip    bool
	// Stream is set for input that can be read only once, front to back:
	// standard input, named pipes, devices. Reading it never seeks.
	Stream bool

	r      io.Reader // the text: decompressed when Gzip
	file   *os.File  // nil for stdin
	buf    *bufio.Reader
	closer io.Closer
	pump   *pump    // reads a stream in a goroutine of its own (see pump)
	gz     *members // when Gzip
	ctx    context.Context
	read   atomic.Int64 // bytes consumed from disk, for progress
	pos    int64        // bytes of text read (Skip included)
	limit  int64        // text ends here (Limit); -1: no limit
}

// Open opens name for reading ("-" is standard input). Gzip input is detected
// by its magic bytes, not its name, and decompressed on the fly.
func Open(name string) (*Input, error) { return OpenContext(context.Background(), name) }

// OpenContext is Open, with reads that end soon after ctx does (returning
// its error): every read of a file checks ctx, and a stream (standard
// input, a pipe, a device) is read by a goroutine of its own, so that a read
// waiting for a stalled writer is abandoned when ctx ends.
func OpenContext(ctx context.Context, name string) (*Input, error) {
	in := &Input{Name: name, Size: -1, ctx: ctx, limit: -1}
	var f *os.File
	if name == "-" {
		f, in.Stream = os.Stdin, true
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
		in.closer, in.file = f, f
		in.Stream = !st.Mode().IsRegular()
		if !in.Stream {
			in.Size, in.ModTime = st.Size(), st.ModTime()
		}
	}
	var raw io.Reader = f
	if in.Stream && !isRegular(f) { // a pipe, a terminal, a device: its reads may wait
		in.pump = newPump(ctx, f)
		raw = in.pump
	}
	br := bufio.NewReaderSize(&countingReader{r: raw, n: &in.read, ctx: ctx}, 256<<10)
	in.r, in.buf = br, br
	if magic, _ := br.Peek(2); IsGzip(magic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			in.Close()
			return nil, fmt.Errorf("open %s: %w", name, err)
		}
		zr.Multistream(false)
		in.gz = &members{src: br, zr: zr}
		in.r, in.Gzip = in.gz, true
	}
	return in, nil
}

// isRegular reports whether f is a regular file (standard input may be one).
func isRegular(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode().IsRegular()
}

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
// for plain files, reading and discarding for gzip and streams. Call it
// before the first Read.
func (in *Input) Skip(n int64) error {
	if n <= 0 {
		return nil
	}
	if in.file != nil && !in.Gzip && !in.Stream {
		if _, err := in.file.Seek(n, io.SeekStart); err != nil {
			return fmt.Errorf("skip to %d in %s: %w", n, in.Name, err)
		}
		in.buf.Reset(&countingReader{r: in.file, n: &in.read, ctx: in.ctx})
		in.read.Store(n)
		in.pos = n
		return nil
	}
	if _, err := io.CopyN(io.Discard, in, n); err != nil {
		return fmt.Errorf("skip to %d in %s: %w", n, in.Name, err)
	}
	return nil
}

// Limit ends the text after its first n bytes (Skip included): reads then
// return io.EOF.
func (in *Input) Limit(n int64) { in.limit = n }

// Read reads the (decompressed) content.
func (in *Input) Read(p []byte) (int, error) {
	if in.limit >= 0 {
		left := in.limit - in.pos
		if left <= 0 {
			return 0, io.EOF
		}
		if int64(len(p)) > left {
			p = p[:left]
		}
	}
	n, err := in.r.Read(p)
	in.pos += int64(n)
	return n, err
}

// Consumed returns how many bytes of the file have been read so far; compare
// it with Size for progress. It is safe to call from any goroutine.
func (in *Input) Consumed() int64 { return in.read.Load() }

// Damage reports whether gzip input was found damaged: a member whose CRC
// or length does not check, that ends early, or whose data cannot be
// inflated. The text read before the error includes what the damaged
// member gave, which is not to be trusted: verified is how much of the text
// the members that checked hold. err is nil when no damage was found (so
// far, or for input that is not gzip).
func (in *Input) Damage() (verified int64, err error) {
	if in.gz == nil {
		return 0, nil
	}
	return in.gz.verified, in.gz.err
}

// Trailing returns how many bytes followed the last gzip member without
// being gzip (padding, or a member whose header is damaged): they are not
// read, and nothing before them is affected.
func (in *Input) Trailing() int64 {
	if in.gz == nil {
		return 0
	}
	return in.gz.trailing
}

// Close closes the file (not stdin) and stops reading a stream.
func (in *Input) Close() error {
	if in.pump != nil {
		in.pump.stop()
	}
	if in.closer == nil {
		return nil
	}
	return in.closer.Close()
}

// countingReader counts the bytes read from disk, and fails once ctx ends.
type countingReader struct {
	r   io.Reader
	n   *atomic.Int64
	ctx context.Context
}

func (c *countingReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
