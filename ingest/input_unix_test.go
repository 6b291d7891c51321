//go:build unix

package ingest

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestStreamStops: reading a pipe whose writer has stalled ends soon after
// the context, whether the read is waiting for the first bytes or for more.
func TestStreamStops(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no named pipes here:", err)
	}
	w, err := os.OpenFile(fifo, os.O_RDWR, 0) // does not wait for a reader
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.WriteString(matchLine)
	ctx, cancel := context.WithCancel(context.Background())
	in, err := OpenContext(ctx, fifo)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if !in.Stream || in.Size != -1 {
		t.Errorf("a named pipe: stream %v, size %d", in.Stream, in.Size)
	}
	line := make([]byte, len(matchLine))
	if _, err := io.ReadFull(in, line); err != nil || string(line) != matchLine {
		t.Fatalf("read %q, %v", line, err)
	}
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := Read(ctx, in, "fifo", discard)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err %v, want context.Canceled", err)
		}
		if el := time.Since(start); el > time.Second {
			t.Errorf("stopped after %v", el)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a read of a stalled pipe ignores the context")
	}
}
