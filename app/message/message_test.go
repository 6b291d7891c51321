package message_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis/clickhouse"
	"github.com/flowsleuth/flowsleuth/analysis/live"
	"github.com/flowsleuth/flowsleuth/analysis/policy"
	"github.com/flowsleuth/flowsleuth/analysis/workspace"
	"github.com/flowsleuth/flowsleuth/app/message"
	"github.com/flowsleuth/flowsleuth/export"
	"github.com/flowsleuth/flowsleuth/ingest"
	"github.com/flowsleuth/flowsleuth/ingest/inventory"
	"github.com/flowsleuth/flowsleuth/ingest/listen"
)

// wrap wraps err as the layers do, twice.
func wrap(err error) error {
	return fmt.Errorf("import x.log: %w", fmt.Errorf("open /tmp/w.flowsleuth: %w", err))
}

func TestFor(t *testing.T) {
	since := time.Date(2026, 3, 1, 10, 0, 0, 0, time.Local)
	_, _, noAllow := live.Settings{TCP: ":0"}.Config()
	tests := []struct {
		Name       string
		In         error
		Title      string
		Text, Hint string // substrings; "" checks nothing
	}{
		{"canceled", wrap(context.Canceled), "Cancelled", "cancelled", ""},
		{"deadline", wrap(context.DeadlineExceeded), "Timed out", "too long", "try again"},
		{"locked with holder", wrap(&workspace.LockedError{Path: "/w/a.flowsleuth", Holder: workspace.Holder{
			Command: "flowsleuth listen", Operation: "listen", PID: 4242, Host: "lab", Since: since}}),
			"Workspace in use", "flowsleuth listen (listen), pid 4242 on lab", "Reading"},
		{"locked, holder unknown", &workspace.LockedError{Path: "/w/a.flowsleuth"}, "Workspace in use", "/w/a.flowsleuth", "Try again"},
		{"busy", wrap(workspace.ErrBusy), "Workspace busy", "already importing", "stop the listener"},
		{"read-only", wrap(workspace.ErrReadOnly), "Workspace is read-only", "reading only", "may be written"},
		{"not a workspace", wrap(fmt.Errorf("%w: it is not an SQLite database", workspace.ErrNotWorkspace)), "Not a workspace", "not a FlowSleuth workspace", ".flowsleuth"},
		{"damaged", wrap(fmt.Errorf("%w: conversation 3", workspace.ErrCorrupt)), "Workspace damaged", "damaged", "backup"},
		{"too new", wrap(workspace.ErrTooNew), "Workspace from a newer FlowSleuth", "newer", "Update"},
		{"attached", wrap(workspace.ErrAttached), "Workspace attached to another store", "another store", ""},
		{"not empty", wrap(workspace.ErrNotEmpty), "Workspace not empty", "without a store", "new workspace"},
		{"bad store URL", wrap(clickhouse.ErrBadURL), "Bad store address", "not understood", "clickhouse://"},
		{"no schema", wrap(clickhouse.ErrNoSchema), "Store not initialised", "no FlowSleuth tables", "store init"},
		{"old store", wrap(clickhouse.ErrOldStore), "Store needs migrating", "older", "store init"},
		{"store too new", wrap(clickhouse.ErrTooNew), "Store from a newer FlowSleuth", "newer", "Update"},
		{"no allowlist", wrap(listen.ErrNoAllowlist), "No sender allowed", "no sender", "trusted network"},
		{"listener settings", noAllow, "Listener settings", "No sender is allowed", "Allowed senders"},
		{"parse error", wrap(&ingest.ParseError{File: "fw.log", Line: 12, Err: ingest.ErrBadTuple}), "Bad log line", "Line 12 of fw.log", "dfwpktlogs"},
		{"line too long", wrap(ingest.ErrLineTooLong), "Line too long", "longer", "gzip"},
		{"export losses", wrap(&export.LossError{Format: "NSX", Losses: []export.Loss{{RuleID: "r1", Reason: "no port", Dropped: true}}}),
			"Rules changed on export", "NSX: 1 rules left out", "review"},
		{"NSX too large", wrap(export.ErrTooLarge), "Too many objects for NSX", "more objects", "scope"},
		{"not a PC response", wrap(export.ErrNotUnderstood), "Not a Prism Central response", "Prism Central", "GET"},
		{"bad vendor option", fmt.Errorf("%w: tier key %q", export.ErrBadOption, "x y"), "Bad export option", `tier key "x y"`, "vendor options"},
		{"not a policy", wrap(policy.ErrFormat), "Not a policy", "NSX Policy API", "exported"},
		{"inventory columns", wrap(&inventory.ColumnError{Missing: "IP address", Headers: []string{"Foo"}}), "Inventory not understood", "IP address", "VM name"},
		{"inventory format", wrap(inventory.ErrUnsupported), "Inventory format not supported", "CSV", "CSV"},
		{"port in use", wrap(&net.OpError{Op: "listen", Net: "tcp", Addr: &net.TCPAddr{Port: 514}, Err: os.NewSyscallError("bind", syscall.EADDRINUSE)}),
			"Port in use", "tcp :514", "another port"},
		{"privileged port", &net.OpError{Op: "listen", Net: "udp", Addr: &net.UDPAddr{Port: 514}, Err: os.NewSyscallError("bind", syscall.EACCES)},
			"Port needs privileges", "udp :514", "5514"},
		{"dial", wrap(&net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 9000}, Err: syscall.ECONNREFUSED}),
			"Cannot connect", "192.0.2.1:9000", "server runs"},
		{"disk full", wrap(&fs.PathError{Op: "write", Path: "/out/rules.xlsx", Err: syscall.ENOSPC}), "Disk full", "/out/rules.xlsx", "Free space"},
		{"missing file", wrap(&fs.PathError{Op: "open", Path: "/in/fw.log", Err: syscall.ENOENT}), "File not found", "/in/fw.log does not exist", "Check the name"},
		{"permission", wrap(&fs.PathError{Op: "open", Path: "/in/fw.log", Err: syscall.EACCES}), "Permission denied", "may not open /in/fw.log", "permissions"},
		{"own words", wrap(&message.Error{Title: "No workspace open", Text: "Open one.", Hint: "File menu.", Err: os.ErrClosed}), "No workspace open", "Open one.", "File menu."},
		{"unknown", wrap(errors.New("zap: the flux capacitor\nstack trace")), "Unexpected error", "Import x.log: open /tmp/w.flowsleuth: zap: the flux capacitor", "log file"},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			m := message.For(tc.In)
			if m.Title != tc.Title {
				t.Errorf("title %q, want %q (%v)", m.Title, tc.Title, tc.In)
			}
			if !strings.Contains(m.Text, tc.Text) {
				t.Errorf("text %q does not say %q", m.Text, tc.Text)
			}
			if !strings.Contains(m.Hint, tc.Hint) {
				t.Errorf("hint %q does not say %q", m.Hint, tc.Hint)
			}
			if strings.Contains(m.Text, "\n") {
				t.Errorf("text %q has more than one line", m.Text)
			}
			if got, want := m.Unexpected, tc.Title == "Unexpected error"; got != want {
				t.Errorf("Unexpected %v, want %v", got, want)
			}
		})
	}
	if m := message.For(nil); m != (message.Message{}) {
		t.Errorf("For(nil) = %+v, want nothing", m)
	}
}

// TestLog checks that the log holds every layer of the chain, and that it
// rotates instead of growing past MaxLogSize.
func TestLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "flowsleuth.log")
	l := message.NewLog(path)
	err := fmt.Errorf("export: %w", &fs.PathError{Op: "write", Path: "/out/r.xlsx", Err: syscall.ENOSPC})
	if err := l.Record("flowsleuth export", err); err != nil {
		t.Fatal(err)
	}
	b, rerr := os.ReadFile(path)
	if rerr != nil {
		t.Fatal(rerr)
	}
	for _, want := range []string{"flowsleuth export: Disk full: export: write /out/r.xlsx: no space left on device",
		"*fs.PathError: write /out/r.xlsx", "syscall.Errno: no space left on device"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("log does not hold %q:\n%s", want, b)
		}
	}
	big := errors.New(strings.Repeat("x", 64<<10))
	for range message.MaxLogSize/(64<<10) + 2 {
		if err := l.Record("t", big); err != nil {
			t.Fatal(err)
		}
	}
	fi, serr := os.Stat(path)
	if serr != nil {
		t.Fatal(serr)
	}
	if fi.Size() > message.MaxLogSize {
		t.Errorf("log is %d bytes, past MaxLogSize %d", fi.Size(), message.MaxLogSize)
	}
	if _, err := os.Stat(path + ".1"); err != nil {
		t.Errorf("no rotated log: %v", err)
	}
}

func TestDefaultLogPath(t *testing.T) {
	t.Setenv(message.LogEnv, "")
	t.Setenv("XDG_CACHE_HOME", "/cache")
	t.Setenv("HOME", "/home/u")
	if got, want := message.DefaultLogPath(), "/cache/flowsleuth/flowsleuth.log"; runtime.GOOS == "linux" && got != want {
		t.Errorf("DefaultLogPath() = %q, want %q", got, want)
	}
	t.Setenv(message.LogEnv, "/x/y.log")
	if got := message.DefaultLogPath(); got != "/x/y.log" {
		t.Errorf("DefaultLogPath() = %q with %s set", got, message.LogEnv)
	}
}
