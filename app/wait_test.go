package app

import (
	"testing"
	"time"
)

// waitLimit bounds every wait of the app's tests: far over what the awaited
// event takes on a loaded machine, so reaching it means the event never came.
const waitLimit = 10 * time.Second

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
