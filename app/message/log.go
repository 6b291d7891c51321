package message

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// LogEnv names the environment variable that, when set, is the log file's
// path instead of DefaultLogPath's (tests point it at a scratch directory).
const LogEnv = "FLOWSLEUTH_LOG"

// MaxLogSize is the size past which the log is rotated: the current file
// becomes NAME.1 (replacing the previous one), so the log never takes more
// than about twice this.
const MaxLogSize = 1 << 20

// DefaultLogPath is where errors are logged: $FLOWSLEUTH_LOG, else
// flowsleuth/flowsleuth.log under the user's cache directory
// (~/.cache on Linux, ~/Library/Caches on macOS, %LocalAppData% on
// Windows), else under the temporary directory.
func DefaultLogPath() string {
	if p := os.Getenv(LogEnv); p != "" {
		return p
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "flowsleuth", "flowsleuth.log")
}

// Log appends errors, with their whole wrapped chain, to a file bounded in
// size. Its methods are safe for concurrent use (within one process).
type Log struct {
	path string
	max  int64
	mu   sync.Mutex
}

// NewLog returns a log writing to path, rotated past MaxLogSize. Nothing
// is created until the first Record.
func NewLog(path string) *Log { return &Log{path: path, max: MaxLogSize} }

// Path returns the log file's path.
func (l *Log) Path() string { return l.path }

// Record appends err to the log: the time, where it happened (the command
// or view), the message shown and each layer of the chain. It returns an
// error only when the log cannot be written; callers show the message all
// the same.
func (l *Log) Record(where string, err error) error {
	if err == nil {
		return nil
	}
	m := For(err)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s: %s\n", time.Now().Format(time.RFC3339), where, m.Title, err)
	for i, e := 0, err; e != nil && i < 32; i, e = i+1, errors.Unwrap(e) {
		fmt.Fprintf(&b, "\t%T: %v\n", e, e)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(l.path), 0o700); err != nil {
		return fmt.Errorf("log: %w", err)
	}
	if fi, err := os.Stat(l.path); err == nil && fi.Size()+int64(b.Len()) > l.max {
		if err := os.Rename(l.path, l.path+".1"); err != nil {
			return fmt.Errorf("log: %w", err)
		}
	}
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("log: %w", err)
	}
	_, err = f.WriteString(b.String())
	return errors.Join(err, f.Close())
}
