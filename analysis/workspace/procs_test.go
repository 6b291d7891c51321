package workspace

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
)

// TestImportProcs: an import reads a file's lines with the GOMAXPROCS it
// asks for (ImportOptions.Procs) and commits them with the process's own,
// which it has back afterwards.
func TestImportProcs(t *testing.T) {
	own := runtime.GOMAXPROCS(0)
	path, _ := demoLog(t, "nutanix", 200)
	var seen []string
	testHookProcs = func(phase string) { seen = append(seen, fmt.Sprintf("%s %d", phase, runtime.GOMAXPROCS(0))) }
	t.Cleanup(func() { testHookProcs = nil })
	for _, procs := range []int{0, own + 1} {
		seen = nil
		ws := openTemp(t)
		if _, err := ws.Import(ctx, []string{path}, ImportOptions{Procs: procs}); err != nil {
			t.Fatal(err)
		}
		want := []string{fmt.Sprintf("read %d", max(own, procs)), fmt.Sprintf("commit %d", own)}
		if !slices.Equal(seen, want) {
			t.Errorf("Procs %d: %q, want %q", procs, seen, want)
		}
		if got := runtime.GOMAXPROCS(0); got != own {
			t.Errorf("Procs %d: GOMAXPROCS after the import %d, want %d", procs, got, own)
		}
	}
}
