package ingest

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

const matchLine = "2018-07-03T19:44:09.749Z b6507827 INET match PASS mainrs/1024 IN 52 TCP 192.168.4.3/49627->192.168.4.4/49153 SEW\n"

func discard(*Batch) error { return nil }

// TestReadCountsEveryByte: Stats.Bytes is every byte consumed, a BOM and
// the lines skipped for being longer than a chunk included, so that it is
// the position to resume from and what the summary says was read.
func TestReadCountsEveryByte(t *testing.T) {
	var b bytes.Buffer
	b.Write(utf8BOM)
	b.WriteString(matchLine)
	b.WriteString(strings.Repeat("z", 3*chunkSize+17) + "\n")
	b.WriteString(matchLine)
	for _, hold := range []bool{false, true} {
		var opts []Option
		if hold {
			opts = append(opts, WithHoldPartialLine())
		}
		st, err := Read(context.Background(), bytes.NewReader(b.Bytes()), "c", discard, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if st.Bytes != int64(b.Len()) || st.Lines != 3 || st.Events != 2 || st.Malformed != 1 || st.Pending != 0 {
			t.Errorf("hold %v: bytes %d of %d, lines %d events %d malformed %d pending %d; want all bytes, 3 2 1 0",
				hold, st.Bytes, b.Len(), st.Lines, st.Events, st.Malformed, st.Pending)
		}
	}
}

// TestReadOverlongLastLine: a last line longer than a chunk and without
// newline is, for an input still being written (hold), pending like any
// partial line, so that the next import reads it once, whole; otherwise it
// is one malformed line, and its bytes count as read.
func TestReadOverlongLastLine(t *testing.T) {
	long := strings.Repeat("z", 2*chunkSize+5)
	in := matchLine + matchLine + long
	st, err := Read(context.Background(), strings.NewReader(in), "c", discard, WithHoldPartialLine())
	if err != nil {
		t.Fatal(err)
	}
	if st.Lines != 2 || st.Malformed != 0 || st.Pending != int64(len(long)) || st.Bytes != int64(2*len(matchLine)) {
		t.Errorf("held: lines %d malformed %d pending %d bytes %d; want 2 0 %d %d",
			st.Lines, st.Malformed, st.Pending, st.Bytes, len(long), 2*len(matchLine))
	}
	st, err = Read(context.Background(), strings.NewReader(in), "c", discard)
	if err != nil {
		t.Fatal(err)
	}
	if st.Lines != 3 || st.Malformed != 1 || st.Pending != 0 || st.Bytes != int64(len(in)) {
		t.Errorf("plain: lines %d malformed %d pending %d bytes %d; want 3 1 0 %d", st.Lines, st.Malformed, st.Pending, st.Bytes, len(in))
	}
	if len(st.MalformedSamples) != 1 || st.MalformedSamples[0].Line != 3 || !errors.Is(st.MalformedSamples[0].Err, ErrLineTooLong) {
		t.Errorf("samples %+v, want line 3 too long", st.MalformedSamples)
	}
}

// zeros is an endless input of NUL bytes, as /dev/zero.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestReadStopsOnEndlessLine: reading an endless line (import /dev/zero)
// stops within a second of the context's end, and reports what it read.
func TestReadStopsOnEndlessLine(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	done := make(chan struct{})
	var st Stats
	var err error
	start := time.Now()
	go func() {
		defer close(done)
		st, err = Read(ctx, zeros{}, "/dev/zero", discard)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Read ignores its context inside an over-long line")
	}
	if el := time.Since(start); el > 1200*time.Millisecond {
		t.Errorf("stopped after %v, want within a second of the cancel", el)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
	if st.Bytes < chunkSize {
		t.Errorf("read %d bytes of zeros: the summary would say nothing was read", st.Bytes)
	}
}

// TestReadCROnly: lines ended by CR alone (classic Mac OS) are lines.
func TestReadCROnly(t *testing.T) {
	lf := strings.Repeat(matchLine, 3)
	cr := strings.ReplaceAll(lf, "\n", "\r")
	want, err := Read(context.Background(), strings.NewReader(lf), "lf", discard)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Read(context.Background(), strings.NewReader(cr), "cr", discard)
	if err != nil {
		t.Fatal(err)
	}
	if got.Lines != want.Lines || got.Events != want.Events || got.Malformed != 0 || got.Bytes != int64(len(cr)) {
		t.Errorf("CR-only: lines %d events %d malformed %d bytes %d; want %d %d 0 %d",
			got.Lines, got.Events, got.Malformed, got.Bytes, want.Lines, want.Events, len(cr))
	}
}

// TestReadWorkersCapped: an absurd worker count does not allocate a chunk
// buffer per worker.
func TestReadWorkersCapped(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := Read(context.Background(), strings.NewReader(matchLine), "c", discard, WithWorkers(100_000)); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 600<<20 {
		t.Errorf("allocated %d MiB for one line", alloc>>20)
	}
}
