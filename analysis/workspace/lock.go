package workspace

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// One process writes to a workspace at a time. Two imports, or an import
// and a listener, each carry the open connections from one commit to the
// next and would overwrite each other's (40,007 sessions for 40,000), and
// two first opens of a new file both created its tables. Every writer —
// import, listener, inventory import, the monitored set, a schema upgrade
// — holds an exclusive lock on PATH.lock while it writes:
// an operating-system lock (flock, LockFileEx) that dies with its process,
// so a killed writer leaves nothing stale. The file says who holds it, for
// the message of a writer refused. Readers take no lock (SQLite's WAL lets
// them read while a writer writes). Nor does an export recording what it
// wrote (exports.go) or a rule edit (edits.go): they are no part of the
// model and wait for a writer's commit instead.
//
// Within a process the lock is shared: a listener in the desktop app may
// be joined by rule edits. An import beside a listener of the same process
// is refused all the same (ErrBusy): both carry the open connections.

// ErrLocked is the error of a writer refused because another process
// writes to the workspace; it comes as a *LockedError naming the holder.
var ErrLocked = errors.New("another process is writing to the workspace")

// ErrBusy is the error of an import or listener refused because this
// process already imports into or listens to the workspace.
var ErrBusy = errors.New("the workspace is being written by this program already")

// ErrReadOnly is the error of a write to a workspace opened read-only.
var ErrReadOnly = errors.New("the workspace is open read-only")

// Holder is who holds a workspace's writer lock.
type Holder struct {
	Command   string    `json:"command"`   // the program and its command: "flowsleuth listen"
	Operation string    `json:"operation"` // what it writes: "import", "listen", "rule edit", …
	PID       int       `json:"pid"`
	Host      string    `json:"host"`
	Since     time.Time `json:"since"`
}

// LockedError is ErrLocked with the holder.
type LockedError struct {
	Path   string
	Holder Holder // zero when the lock file could not be read
}

func (e *LockedError) Error() string {
	h := e.Holder
	if h.PID == 0 {
		return fmt.Sprintf("workspace %s is being written by another process: try again when it has finished", e.Path)
	}
	what := h.Command
	if !strings.HasSuffix(what, " "+h.Operation) {
		what += " (" + h.Operation + ")"
	}
	return fmt.Sprintf("workspace %s is being written by %s, pid %d on %s, since %s: try again when it has finished, "+
		"or stop it; reading commands (flows, rules, export, check, workspace info) work meanwhile",
		e.Path, what, h.PID, h.Host, h.Since.Local().Format("2006-01-02 15:04:05"))
}

// Unwrap returns ErrLocked.
func (e *LockedError) Unwrap() error { return ErrLocked }

// createOperation names, in the lock file, an import building a new
// workspace beside its path (create.go): NotYet looks for it.
const createOperation = "new workspace"

// NotYetError is the error of a workspace that does not exist yet because
// an import is making it: it appears, whole, when that import has committed
// its first file. It is not os.ErrNotExist, whose message for people is
// "file not found, check the name": the name is right.
type NotYetError struct {
	Path   string
	Holder Holder
}

func (e *NotYetError) Error() string {
	h := e.Holder
	return fmt.Sprintf("no workspace at %s yet: %s, pid %d on %s, is making it since %s; it appears when that import "+
		"has committed its first file", e.Path, h.Command, h.PID, h.Host, h.Since.Local().Format("2006-01-02 15:04:05"))
}

// NotYet returns a *NotYetError when no file is at path and a running
// import of this host is making the workspace there; nil otherwise. It
// only reads the lock file: taking its lock, even for a moment, could
// refuse that import.
func NotYet(path string) error {
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		return nil
	}
	b, err := os.ReadFile(lockPath(path))
	if err != nil {
		return nil
	}
	var h Holder
	host, _ := os.Hostname()
	if json.Unmarshal(b, &h) != nil || h.Operation != createOperation || h.Host != host || !running(h.PID) {
		return nil
	}
	return &NotYetError{Path: path, Holder: h}
}

// lockPath is the lock file of the workspace at path.
func lockPath(path string) string { return path + ".lock" }

// lockFile takes the lock of the workspace at path and records the holder,
// or returns a *LockedError naming who holds it.
func lockFile(path, operation string) (*os.File, error) {
	f, err := os.OpenFile(lockPath(path), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock workspace %s: %w", path, err)
	}
	ok, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock workspace %s: %w", path, err)
	}
	if !ok {
		e := &LockedError{Path: path}
		if b, err := io.ReadAll(io.LimitReader(f, 4096)); err == nil {
			json.Unmarshal(b, &e.Holder)
		}
		f.Close()
		return nil, e
	}
	host, _ := os.Hostname()
	h := Holder{Command: command(), Operation: operation, PID: os.Getpid(), Host: host, Since: time.Now()}
	b, _ := json.Marshal(h)
	if err := f.Truncate(0); err == nil {
		f.WriteAt(append(b, '\n'), 0)
	}
	return f, nil
}

// unlockFile empties the lock file (its holder is gone) and releases it.
func unlockFile(f *os.File) {
	f.Truncate(0)
	f.Close() // releases the lock
}

// command names this program and its command: "flowsleuth import".
func command() string {
	if len(os.Args) == 0 {
		return "flowsleuth"
	}
	parts := []string{filepath.Base(os.Args[0])}
	if len(os.Args) > 1 && !strings.HasPrefix(os.Args[1], "-") {
		parts = append(parts, os.Args[1])
	}
	return strings.Join(parts, " ")
}
