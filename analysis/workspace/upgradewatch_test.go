package workspace

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestWatchUpgrade follows an upgrade by what it writes: the WAL's growth
// beyond what it held, then the file's, up to the end, when stop reports
// done == total. A file that is not behind is not watched.
func TestWatchUpgrade(t *testing.T) {
	path := schema4Copy(t, t.TempDir())
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+"-wal", make([]byte, 1000), 0o644); err != nil { // not the upgrade's
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got [][2]int64
	seen := func() [][2]int64 {
		mu.Lock()
		defer mu.Unlock()
		return append([][2]int64(nil), got...)
	}
	stop := WatchUpgrade(path, time.Millisecond, func(done, total int64) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, [2]int64{done, total})
	})
	waitFor := func(done int64) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if g := seen(); len(g) > 0 && g[len(g)-1][0] == done {
				return
			}
		}
		t.Fatalf("progress %v, want it to reach %d", seen(), done)
	}
	if err := os.WriteFile(path+"-wal", make([]byte, 5000), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(4000)
	if err := os.Truncate(path, st.Size()+3000); err != nil { // the checkpoint writes the file
		t.Fatal(err)
	}
	waitFor(7000)
	stop()
	stop()
	g := seen()
	total := g[0][1]
	if want := 2 * int64(rewrittenShare(4)*float64(st.Size())); total != want {
		t.Errorf("total %d, want %d for a %d-byte file", total, want, st.Size())
	}
	if last := g[len(g)-1]; last != [2]int64{total, total} {
		t.Errorf("the last report %v, want done == total", last)
	}
	for i := 1; i < len(g); i++ {
		if g[i][0] < g[i-1][0] {
			t.Errorf("progress went back: %v", g)
		}
	}

	current := filepath.Join(t.TempDir(), "new.flowsleuth")
	ws, err := Open(current)
	if err != nil {
		t.Fatal(err)
	}
	ws.Close()
	called := false
	WatchUpgrade(current, time.Millisecond, func(int64, int64) { called = true })()
	if called {
		t.Error("a workspace that is not behind was watched")
	}
}
