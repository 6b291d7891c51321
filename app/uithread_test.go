package app

import (
	"bytes"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// The real driver runs every function handed to fyne.Do on its one UI
// goroutine, so they never overlap each other or the event handlers. Fyne's
// test driver runs them on the caller's goroutine instead (fyne v2.7.1
// test/driver.go, DoFromGoroutine → async.EnsureNotMain), so the app's
// background work would touch widgets while a test reads them. The tests
// restore the real driver's promise here, in test code: serialApp's driver
// runs those functions one at a time under uiLock, and onUI runs a test's
// own widget work under the same lock.

// uiLock is the tests' stand-in for the UI goroutine: whoever holds it is
// "on the UI goroutine". It is re-entrant for its holder, as code on the
// real UI goroutine may call fyne.Do again.
var uiLock reentrant

// reentrant is a mutex its holding goroutine may take again.
type reentrant struct {
	mu    sync.Mutex // held while a goroutine is on the "UI goroutine"
	state sync.Mutex // guards owner and depth
	owner uint64
	depth int
}

func (r *reentrant) lock() {
	id := goid()
	r.state.Lock()
	if r.depth > 0 && r.owner == id {
		r.depth++
		r.state.Unlock()
		return
	}
	r.state.Unlock()
	r.mu.Lock()
	r.state.Lock()
	r.owner, r.depth = id, 1
	r.state.Unlock()
}

func (r *reentrant) unlock() {
	r.state.Lock()
	r.depth--
	done := r.depth == 0
	r.state.Unlock()
	if done {
		r.mu.Unlock()
	}
}

// goid is the calling goroutine's id, read from its stack header
// ("goroutine 42 [running]:").
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	b = b[:bytes.IndexByte(b, ' ')]
	id, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		panic("goid: " + err.Error())
	}
	return id
}

// onUI runs fn as the UI goroutine would: apart from the functions that
// background work hands to the UI with fyne.Do.
func onUI(fn func()) {
	uiLock.lock()
	defer uiLock.unlock()
	fn()
}

// serialDriver is the test driver whose fyne.Do and fyne.DoAndWait run fn
// under uiLock.
type serialDriver struct{ fyne.Driver }

func (d serialDriver) DoFromGoroutine(fn func(), _ bool) { onUI(fn) }

// serialApp is a test app with serialDriver.
type serialApp struct {
	fyne.App
	drv serialDriver
}

func (a *serialApp) Driver() fyne.Driver { return a.drv }

// newSerialApp is test.NewTempApp whose fyne.Do serialises as the real
// driver's does; it is the current app until the test ends.
func newSerialApp(t testing.TB) fyne.App {
	t.Helper()
	inner := test.NewTempApp(t)
	a := &serialApp{App: inner, drv: serialDriver{inner.Driver()}}
	fyne.SetCurrentApp(a)
	return a
}

// TestSerialDriverKeepsUIWorkApart shows the stand-in holds: a function a
// background goroutine hands to fyne.Do waits while a test is on the UI
// goroutine, and may itself call fyne.Do again.
func TestSerialDriverKeepsUIWorkApart(t *testing.T) {
	newSerialApp(t)
	ran := make(chan struct{})
	onUI(func() {
		go fyne.Do(func() {
			fyne.Do(func() {}) // nested: must not deadlock
			close(ran)
		})
		select {
		case <-ran:
			t.Error("fyne.Do ran while the test held the UI goroutine")
		case <-time.After(50 * time.Millisecond):
		}
	})
	<-ran
}

// TestShutdownCancelsAndWaits: the UI owns its background work: Shutdown
// cancels the context that work takes and returns only once it has ended.
func TestShutdownCancelsAndWaits(t *testing.T) {
	u, _ := newTestUI(t, filepath.Join(t.TempDir(), "ws.flowsleuth"))
	var ended atomic.Bool
	u.background(func() {
		<-u.ctx.Done()
		time.Sleep(20 * time.Millisecond) // still winding down when cancelled
		ended.Store(true)
	})
	u.Shutdown()
	if !ended.Load() {
		t.Error("Shutdown returned before the background work ended")
	}
	u.Shutdown() // again: nothing more
}

// TestAfterLoadWaitsForLoads: a function given to AfterLoad runs once the
// loads started before it have ended, not before; after Shutdown, one not
// yet started never runs.
func TestAfterLoadWaitsForLoads(t *testing.T) {
	u, _ := newTestUI(t, filepath.Join(t.TempDir(), "ws.flowsleuth"))
	release := make(chan struct{})
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(free) // before Shutdown's cleanup: a failing test does not hang on the load
	var loaded atomic.Bool
	u.background(func() { // a load still under way
		<-release
		loaded.Store(true)
	})
	ran := make(chan bool, 1)
	u.AfterLoad(func() { ran <- loaded.Load() })
	select {
	case <-ran:
		t.Fatal("AfterLoad's function ran during the load")
	case <-time.After(50 * time.Millisecond):
	}
	free()
	if afterLoad := <-ran; !afterLoad {
		t.Error("AfterLoad's function ran before the load ended")
	}

	block := make(chan struct{})
	u.background(func() { <-u.ctx.Done(); <-block })
	var late atomic.Bool
	u.AfterLoad(func() { late.Store(true) })
	go func() { time.Sleep(20 * time.Millisecond); close(block) }()
	u.Shutdown()
	if late.Load() {
		t.Error("a function waiting for loads ran after Shutdown")
	}
}
