package analysis

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestRaiseProcs: overlapping requests hold the highest one, never lower
// the process's own, and the last one done restores it; a restore runs
// once however often it is called.
func TestRaiseProcs(t *testing.T) {
	own := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(own) })
	steps := []struct {
		name string
		do   func() func()
		want int
	}{
		{"nothing asked", func() func() { return RaiseProcs(0) }, own},
		{"one more", func() func() { return RaiseProcs(own + 1) }, own + 1},
		{"three more, at once", func() func() { return RaiseProcs(own + 3) }, own + 3},
		{"fewer than the process's own", func() func() { return RaiseProcs(max(1, own-1)) }, own + 3},
	}
	var restores []func()
	for _, s := range steps {
		restores = append(restores, s.do())
		if got := runtime.GOMAXPROCS(0); got != s.want {
			t.Fatalf("%s: GOMAXPROCS %d, want %d", s.name, got, s.want)
		}
	}
	restores[2]() // three more done: one more holds
	restores[2]()
	if got := runtime.GOMAXPROCS(0); got != own+1 {
		t.Fatalf("the highest done (restored twice): GOMAXPROCS %d, want %d", got, own+1)
	}
	restores[1]()
	restores[3]()
	restores[0]()
	if got := runtime.GOMAXPROCS(0); got != own {
		t.Fatalf("all done: GOMAXPROCS %d, want the process's own %d", got, own)
	}
}

// TestReadProcs: one more than the process's own, unless the environment
// sets GOMAXPROCS.
func TestReadProcs(t *testing.T) {
	t.Setenv("GOMAXPROCS", "")
	os.Unsetenv("GOMAXPROCS")
	if got, want := ReadProcs(), runtime.GOMAXPROCS(0)+1; got != want {
		t.Errorf("ReadProcs() = %d, want %d", got, want)
	}
	t.Setenv("GOMAXPROCS", "2")
	if got := ReadProcs(); got != 0 {
		t.Errorf("with GOMAXPROCS set: ReadProcs() = %d, want 0 (nothing asked)", got)
	}
}

// TestImportProcs: Import reads with the GOMAXPROCS asked for, and gives
// the process its own back.
func TestImportProcs(t *testing.T) {
	own := runtime.GOMAXPROCS(0)
	name := filepath.Join(t.TempDir(), "a.log")
	if err := os.WriteFile(name, []byte(procsLine+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var during []int
	testHookRead = func() { during = append(during, runtime.GOMAXPROCS(0)) }
	t.Cleanup(func() { testHookRead = nil })
	for _, procs := range []int{0, own + 1} {
		during = nil
		if _, err := Import(t.Context(), NewModel(Options{}), []string{name}, ImportOptions{Procs: procs}); err != nil {
			t.Fatal(err)
		}
		if want := max(own, procs); len(during) != 1 || during[0] != want {
			t.Errorf("Procs %d: GOMAXPROCS while reading %v, want [%d]", procs, during, want)
		}
		if got := runtime.GOMAXPROCS(0); got != own {
			t.Errorf("Procs %d: GOMAXPROCS after the import %d, want %d", procs, got, own)
		}
	}
}

const procsLine = "<134>2025-04-10T10:00:00.000000+00:00 ahv-1 Genesis_1: INFO:2025/04/10 10:00:00  [ff16a6fb-ff89-4c2d-a9c8-f67030f93d79] Web [New] SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPORT=40000 DPORT=443 ACTION=ALLOW DIRECTION=INBOUND"
