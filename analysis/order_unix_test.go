//go:build unix

package analysis

import (
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// TestInTimeOrderLeavesStreams: a named pipe among the files is not read
// to find its first event (what was read would be lost): the order given
// is kept.
func TestInTimeOrderLeavesStreams(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no named pipes:", err)
	}
	a := filepath.Join(dir, "a.log")
	os.WriteFile(a, []byte("x\n"), 0o644)
	done := make(chan []string, 1)
	go func() { done <- InTimeOrder([]string{fifo, a}) }()
	select {
	case got := <-done:
		if !slices.Equal(got, []string{fifo, a}) {
			t.Errorf("order %v", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("InTimeOrder waits on the named pipe")
	}
}
