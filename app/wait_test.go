package app

import (
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// waitLimit bounds every wait of the app's tests: far over what the awaited
// event takes on a loaded machine, so reaching it means the event never came.
// Every wait returns as soon as its event comes, so the bound costs time only
// on a failure; 10 s was reached by TestImportCancel's start of a 140 MB
// import at a load average of 40 on two cores.
const waitLimit = 30 * time.Second

// waitUntil returns true as soon as cond holds, polling it every few
// milliseconds, or false when it still does not after waitLimit. cond reads
// widgets through onUI. This is the one place the app's tests poll: a test
// waits for the event it needs, never for a guessed time.
func waitUntil(cond func() bool) bool {
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// eventually waits until cond holds and fails the test if it does not.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	if !waitUntil(cond) {
		t.Fatalf("waited %v for %s", waitLimit, what)
	}
}

// Wait blocks until the background work started so far has finished.
func (u *UI) Wait() { u.loads.Wait() }

// settle waits for debounced input to fire (the flows filter's and the
// rule knobs' timers, shell.debounced) and for the background work it
// starts. A fired timer's function runs on the UI goroutine and starts
// its work before it is counted off, so the count reaching zero and then
// Wait returning means that work is done.
func settle(t testing.TB, u *UI) {
	t.Helper()
	for {
		eventually(t, "the debounce timers to fire", func() bool { return u.debounced.Load() == 0 })
		u.Wait()
		if u.debounced.Load() == 0 {
			return
		}
	}
}

// TestSettleWaitsForDebounce: settle returns once a debounced function
// has run and the background work it started has ended, whatever the
// delay, and a timer stopped by re-arming is counted off (settle would
// wait for it forever otherwise).
func TestSettleWaitsForDebounce(t *testing.T) {
	u, _ := newTestUI(t, filepath.Join(t.TempDir(), "ws.flowsleuth"))
	var ran, worked atomic.Int32
	db := debounce{sh: u.shell}
	onUI(func() {
		db.arm(time.Hour, func() { t.Error("a re-armed timer's function ran") })
		db.arm(300*time.Millisecond, func() {
			ran.Add(1)
			u.background(func() { worked.Add(1) })
		})
	})
	settle(t, u)
	if ran.Load() != 1 || worked.Load() != 1 {
		t.Errorf("settle returned with the debounced function run %d times, its work done %d times; want 1 and 1",
			ran.Load(), worked.Load())
	}
	if n := u.debounced.Load(); n != 0 {
		t.Errorf("%d debounce timers still counted", n)
	}
}
