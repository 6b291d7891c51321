package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestGUIProfiles: the gui command's profiles are written: the CPU
// profile when they stop, the heap profile once the heap has grown, the
// memory classes at the peak of resident memory.
func TestGUIProfiles(t *testing.T) {
	dir := t.TempDir()
	g := guiProfiles{cpu: filepath.Join(dir, "cpu.prof"), mem: filepath.Join(dir, "mem.prof"), stats: filepath.Join(dir, "mem.txt")}
	stop, err := g.start()
	if err != nil {
		t.Fatal(err)
	}
	held := make([][]byte, 0, 64)
	for range 64 {
		held = append(held, make([]byte, 1<<20))
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(3 * heapSampleEvery)
	stop()
	for _, p := range []string{g.cpu, g.mem, g.stats} {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", p, err)
		}
	}
	_ = held[len(held)-1]
}
