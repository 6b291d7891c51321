package analysis

import (
	"os"
	"runtime"
	"slices"
	"sync"
)

// ReadProcs is the GOMAXPROCS a reader that has the machine to itself (a
// command-line import, flows) asks for while it reads a file's lines
// (ImportOptions.Procs): one more than the process's own, or 0 (nothing
// asked) when the environment sets GOMAXPROCS, the user's choice.
//
// A read's goroutines (ingest.Read's splitter, parsers and delivery, a
// Pipeline's) hand every chunk on several times. When the goroutine handed
// to finds no running P, the runtime gives it an idle P and wakes a
// sleeping thread to run it; the P counts as busy until that thread runs,
// which on a virtual machine likely waits for a halted core to start (not
// measured apart). On 2 cores, 10-15% of the machine sat idle during reads
// (/proc/stat) while the runtime counted its Ps idle 0.5% of the time.
// With one P more, the kernel runs a thread that is ready meanwhile.
// Against the process's own (pairs in turn; CPU the same): `flows` on NSX
// lines took 0.93 of the wall time (30 pairs), a workspace import 0.94
// (12); the count-only import in memory, whose Parallel waits for every
// batch, 1.01 (12), and an import draining a million conversations 1.02
// (10). A commit runs with the process's own: its writer, the critical
// path, would share the cores with more goroutines (BenchmarkCommit took
// longer with 3 Ps on 2 cores). The app asks for none: it keeps a core for
// its window.
func ReadProcs() int {
	if os.Getenv("GOMAXPROCS") != "" {
		return 0
	}
	return runtime.GOMAXPROCS(0) + 1
}

// testHookRead, when set, is called as a file's read starts (Model.read).
var testHookRead func()

// The process's GOMAXPROCS while reads that asked for more run: the highest
// asked for holds, and the last read done restores the process's own.
var (
	procsMu    sync.Mutex
	procsAsked []int
	procsSaved int
)

// RaiseProcs sets GOMAXPROCS to n, unless it is higher already, until the
// function it returns is called. n <= 0 changes nothing.
func RaiseProcs(n int) (restore func()) {
	if n <= 0 {
		return func() {}
	}
	procsMu.Lock()
	defer procsMu.Unlock()
	if len(procsAsked) == 0 {
		procsSaved = runtime.GOMAXPROCS(0)
	}
	procsAsked = append(procsAsked, n)
	setProcs()
	return sync.OnceFunc(func() {
		procsMu.Lock()
		defer procsMu.Unlock()
		i := slices.Index(procsAsked, n)
		procsAsked = slices.Delete(procsAsked, i, i+1)
		setProcs()
	})
}

// setProcs sets GOMAXPROCS to the highest asked for, or the process's own;
// the caller holds procsMu.
func setProcs() {
	n := procsSaved
	if len(procsAsked) > 0 {
		n = max(n, slices.Max(procsAsked))
	}
	if runtime.GOMAXPROCS(0) != n {
		runtime.GOMAXPROCS(n)
	}
}
