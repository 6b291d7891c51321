package analysis

import (
	"os"
	"runtime"
	"runtime/debug"
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

// RaiseProcs sets GOMAXPROCS to n, unless it is higher already, until the
// function it returns is called. n <= 0 changes nothing.
func RaiseProcs(n int) (restore func()) {
	if n <= 0 {
		return func() {}
	}
	return procs.ask(n)
}

// LowerGC lowers the collector's target percentage (debug.SetGCPercent)
// to percent, unless it is lower already, until the function it returns
// is called: a workspace's import while it reads and while it commits.
func LowerGC(percent int) (restore func()) { return gc.ask(percent) }

// The process's GOMAXPROCS and collector target while imports that asked
// for others run (two workspaces at once, a commit inside its import): the
// most of those asked for holds (or the process's own, when it is more),
// and the last one done gives the process its own back.
var (
	procs = processSetting{
		get: func() int { return runtime.GOMAXPROCS(0) },
		set: func(n int) {
			if runtime.GOMAXPROCS(0) != n {
				runtime.GOMAXPROCS(n)
			}
		},
		most: func(a, b int) int { return max(a, b) },
	}
	gc = processSetting{
		get:  func() int { return debug.SetGCPercent(-1) }, // set again at once
		set:  func(p int) { debug.SetGCPercent(p) },
		most: func(a, b int) int { return min(a, b) },
	}
)

// processSetting is a setting of the whole process that overlapping
// callers each ask a value of (ask). most picks the more of two values:
// the larger GOMAXPROCS, the lower collector target.
type processSetting struct {
	mu    sync.Mutex
	asked []int
	own   int // the process's, before the first ask
	get   func() int
	set   func(int)
	most  func(a, b int) int
}

// ask sets the setting to the most of n, the other values asked for and
// the process's own, until the function it returns is called (once; later
// calls do nothing).
func (s *processSetting) ask(n int) (done func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.asked) == 0 {
		s.own = s.get()
	}
	s.asked = append(s.asked, n)
	s.apply()
	return sync.OnceFunc(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		i := slices.Index(s.asked, n)
		s.asked = slices.Delete(s.asked, i, i+1)
		s.apply()
	})
}

// apply sets the most of the values asked for and the process's own (its
// own alone when none is); the caller holds s.mu.
func (s *processSetting) apply() {
	v := s.own
	for _, n := range s.asked {
		v = s.most(v, n)
	}
	s.set(v)
}
