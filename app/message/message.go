// Package message is the one place that turns errors into words for people:
// For maps an error (a sentinel or a typed error of any FlowSleuth layer,
// or of the operating system) to a Message, a title, a sentence and a hint
// of what to do. The desktop app shows it in a dialog and the CLI prints
// it; both write the whole wrapped chain to a log file the user can find
// (log.go), so the words can stay short without losing the details.
//
// It is pure Go and imports no Fyne: the CLI (package main) and the app
// both use it, and nothing imports package app itself. Lower layers keep
// writing lowercase wrapped errors ("read %s: %w"); they never write text
// for the user.
package message

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strings"
	"syscall"

	"github.com/flowsleuth/flowsleuth/analysis/clickhouse"
	"github.com/flowsleuth/flowsleuth/analysis/live"
	"github.com/flowsleuth/flowsleuth/analysis/policy"
	"github.com/flowsleuth/flowsleuth/analysis/workspace"
	"github.com/flowsleuth/flowsleuth/export"
	"github.com/flowsleuth/flowsleuth/ingest"
	"github.com/flowsleuth/flowsleuth/ingest/inventory"
	"github.com/flowsleuth/flowsleuth/ingest/listen"
)

// Message is an error as people read it.
type Message struct {
	Title string // a few words: "Workspace in use"
	Text  string // what happened, one or two sentences, with the names involved
	Hint  string // what to do about it; "" when there is nothing to say
	// Unexpected is true when no rule knew the error: Text is then its
	// first line, and the log holds the rest.
	Unexpected bool
}

// Error is an error that carries its own words for people: the app and the
// CLI use it for what they refuse themselves ("open a workspace first").
// It matches Err with errors.Is, when set.
type Error struct {
	Title, Text, Hint string
	Err               error // the cause, or nil
}

// New returns an *Error with the given words and no cause.
func New(title, text, hint string) *Error { return &Error{Title: title, Text: text, Hint: hint} }

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Text + ": " + e.Err.Error()
	}
	return e.Text
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// rule recognises one kind of error and says it.
type rule func(err error) (Message, bool)

// rules are tried in order: the most specific first (a *LockedError is
// also a permission-free workspace error; a bind error is also a
// permission error).
var rules = []rule{
	own, canceled, locked, workspaceErrors, storeErrors, listenerErrors, parseErrors,
	exportErrors, policyErrors, inventoryErrors, netErrors, osErrors,
}

// For returns the message for err. An error no rule knows becomes
// "Unexpected error" with the first line of its text.
func For(err error) Message {
	if err == nil {
		return Message{}
	}
	for _, r := range rules {
		if m, ok := r(err); ok {
			return m
		}
	}
	return Message{Title: "Unexpected error", Text: firstLine(capitalise(err.Error())),
		Hint: "The details are in the log file.", Unexpected: true}
}

// sentinel is a message for errors matching err (errors.Is).
type sentinel struct {
	err               error
	title, text, hint string
}

// match returns the message of the first sentinel err matches.
func match(err error, list []sentinel) (Message, bool) {
	for _, s := range list {
		if errors.Is(err, s.err) {
			return Message{Title: s.title, Text: s.text, Hint: s.hint}, true
		}
	}
	return Message{}, false
}

func own(err error) (Message, bool) {
	var e *Error
	if !errors.As(err, &e) {
		return Message{}, false
	}
	return Message{Title: e.Title, Text: e.Text, Hint: e.Hint}, true
}

func canceled(err error) (Message, bool) {
	return match(err, []sentinel{
		{context.Canceled, "Cancelled", "The operation was cancelled; nothing was changed by its unfinished part.", ""},
		{context.DeadlineExceeded, "Timed out", "The operation took too long and was stopped.",
			"Check that the server or disk it waits for responds, then try again."},
	})
}

func locked(err error) (Message, bool) {
	var le *workspace.LockedError
	if !errors.As(err, &le) {
		return Message{}, false
	}
	h := le.Holder
	text := fmt.Sprintf("Another process is writing to the workspace %s.", le.Path)
	if h.PID != 0 {
		text = fmt.Sprintf("The workspace %s is being written by %s (%s), pid %d on %s, since %s.", le.Path,
			h.Command, h.Operation, h.PID, h.Host, h.Since.Local().Format("2006-01-02 15:04"))
	}
	return Message{Title: "Workspace in use", Text: text,
		Hint: "Try again when it has finished, or stop it. Reading (flows, rules, export, check) works meanwhile."}, true
}

func workspaceErrors(err error) (Message, bool) {
	return match(err, []sentinel{
		{workspace.ErrBusy, "Workspace busy", "This program is already importing into or listening to the workspace.",
			"Wait for the import to finish, or stop the listener, then try again."},
		{workspace.ErrReadOnly, "Workspace is read-only", "The workspace was opened for reading only, and this needs to write to it.",
			"Check that the workspace file and its folder may be written, then open it again."},
		{workspace.ErrNotWorkspace, "Not a workspace", "The file is not a FlowSleuth workspace; FlowSleuth leaves it as it is.",
			"Choose a .flowsleuth file, or a new name to create a workspace."},
		{workspace.ErrCorrupt, "Workspace damaged", "The workspace file is damaged and cannot be read.",
			"Restore it from a backup, or import the logs into a new workspace; a listener's archive folder still holds what it received."},
		{workspace.ErrTooNew, "Workspace from a newer FlowSleuth", "The workspace was written by a newer version of FlowSleuth.",
			"Update FlowSleuth to open it."},
		{workspace.ErrAttached, "Workspace attached to another store", "The workspace sends its conversations to another store already.",
			"Use that store, or a new workspace for this one."},
		{workspace.ErrNotEmpty, "Workspace not empty", "The workspace holds conversations imported without a store, which the store would never see.",
			"Use a new workspace for a collector."},
	})
}

func storeErrors(err error) (Message, bool) {
	return match(err, []sentinel{
		{clickhouse.ErrBadURL, "Bad store address", "The store address is not understood.",
			"Write it as clickhouse://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE."},
		{clickhouse.ErrNoSchema, "Store not initialised", "The ClickHouse database has no FlowSleuth tables.",
			"Run 'flowsleuth store init URL' once to create them."},
		{clickhouse.ErrOldStore, "Store needs migrating", "The store's tables are older than this FlowSleuth.",
			"Run 'flowsleuth store init URL' to migrate them."},
		{clickhouse.ErrTooNew, "Store from a newer FlowSleuth", "The store was made by a newer version of FlowSleuth.",
			"Update FlowSleuth to read it."},
	})
}

func listenerErrors(err error) (Message, bool) {
	var se *live.SettingsError
	if errors.As(err, &se) {
		return Message{Title: "Listener settings", Text: capitalise(se.Error()) + ".", Hint: se.Hint(live.Setting.Label)}, true
	}
	return match(err, []sentinel{
		{listen.ErrNoAllowlist, "No sender allowed", "The listener accepts no sender: lines from anyone else would become firewall rules.",
			"List the ESXi and AHV hosts as allowed senders, or accept every sender on a trusted network only."},
	})
}

func parseErrors(err error) (Message, bool) {
	var pe *ingest.ParseError
	if errors.As(err, &pe) {
		return Message{Title: "Bad log line", Text: fmt.Sprintf("Line %d of %s cannot be read: %v.", pe.Line, pe.File, pe.Err),
			Hint: "FlowSleuth reads Nutanix Flow policy hit logs and NSX dfwpktlogs; check that the file is one of them."}, true
	}
	return match(err, []sentinel{
		{ingest.ErrLineTooLong, "Line too long", "A line is longer than any firewall log line; the file may not be a log.",
			"Check that the file is a Nutanix Flow or NSX log, uncompressed or gzip."},
	})
}

func exportErrors(err error) (Message, bool) {
	var le *export.LossError
	if errors.As(err, &le) {
		return Message{Title: "Rules changed on export", Text: capitalise(le.Error()) + ".",
			Hint: "The file was written; review the rules listed before importing it."}, true
	}
	return match(err, []sentinel{
		{export.ErrTooLarge, "Too many objects for NSX", "The rules need more objects than one NSX hierarchical request carries.",
			"Export fewer rules (a scope), or split the policy."},
		{export.ErrNotUnderstood, "Not a Prism Central response", "The file is not a saved Prism Central response FlowSleuth reads.",
			"Save the GET response of the policy from Prism Central's API, unchanged."},
		{export.ErrBadOption, "Bad export option", capitalise(firstLine(err.Error())) + ".", // the error names the option
			"Check the vendor options (policy name, categories)."},
	})
}

func policyErrors(err error) (Message, bool) {
	return match(err, []sentinel{
		{policy.ErrFormat, "Not a policy", "The file is not an NSX Policy API or Nutanix Flow policy body.",
			"Give a body FlowSleuth exported, or one saved from the NSX or Prism Central API."},
		{policy.ErrTooLarge, "Policy too large", "The policy file is larger than FlowSleuth reads.", ""},
		{policy.ErrEmpty, "Empty policy", "The file holds no policy.", ""},
	})
}

func inventoryErrors(err error) (Message, bool) {
	var ce *inventory.ColumnError
	if errors.As(err, &ce) {
		return Message{Title: "Inventory not understood", Text: capitalise(ce.Error()) + ".",
			Hint: "Export the VM list from Prism Central or vCenter with the VM name and IP address columns."}, true
	}
	return match(err, []sentinel{
		{inventory.ErrNoRows, "Empty inventory", "The inventory has no rows.", ""},
		{inventory.ErrTooManyRows, "Inventory too large", "The inventory has more rows than FlowSleuth reads.", ""},
		{inventory.ErrTooLarge, "Inventory too large", "The inventory file is larger than FlowSleuth reads.", ""},
		{inventory.ErrUnsupported, "Inventory format not supported", "The inventory is not a CSV, XLSX or RVTools file FlowSleuth reads.",
			"Export it as CSV or XLSX."},
	})
}

// netErrors says why a socket could not be bound or reached.
func netErrors(err error) (Message, bool) {
	var oe *net.OpError
	if !errors.As(err, &oe) {
		return Message{}, false
	}
	addr := ""
	if oe.Addr != nil {
		addr = " " + oe.Addr.String()
	}
	switch {
	case oe.Op == "listen" && errors.Is(err, syscall.EADDRINUSE):
		return Message{Title: "Port in use", Text: fmt.Sprintf("Another program already listens on %s%s.", oe.Net, addr),
			Hint: "Stop it (another listener, rsyslog?), or choose another port."}, true
	case oe.Op == "listen" && errors.Is(err, fs.ErrPermission):
		return Message{Title: "Port needs privileges", Text: fmt.Sprintf("This program may not listen on %s%s.", oe.Net, addr),
			Hint: "Ports below 1024 need root or CAP_NET_BIND_SERVICE; choose a port such as 5514."}, true
	case oe.Op == "dial":
		return Message{Title: "Cannot connect", Text: fmt.Sprintf("No connection to %s: %v.", strings.TrimSpace(addr), oe.Err),
			Hint: "Check the address, that the server runs, and that a firewall lets this machine through."}, true
	}
	return Message{}, false
}

// osErrors covers files: missing, forbidden, or a full disk.
func osErrors(err error) (Message, bool) {
	var pe *fs.PathError
	name := "A file"
	if errors.As(err, &pe) {
		name = pe.Path
	}
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return Message{Title: "Disk full", Text: fmt.Sprintf("There is no space left to write %s.", name),
			Hint: "Free space on that disk, or choose another location, then try again."}, true
	case errors.Is(err, fs.ErrNotExist):
		return Message{Title: "File not found", Text: fmt.Sprintf("%s does not exist.", cmp.Or(quoteName(pe), "A file or folder")),
			Hint: "Check the name and the folder."}, true
	case errors.Is(err, fs.ErrPermission):
		return Message{Title: "Permission denied", Text: fmt.Sprintf("FlowSleuth may not %s %s.", verb(pe), cmp.Or(quoteName(pe), "a file")),
			Hint: "Check the file's and its folder's permissions, or choose another location."}, true
	}
	return Message{}, false
}

// quoteName names pe's file, "" without one.
func quoteName(pe *fs.PathError) string {
	if pe == nil {
		return ""
	}
	return pe.Path
}

// verb says what was tried on pe's file: "open", "write", …
func verb(pe *fs.PathError) string {
	if pe == nil || pe.Op == "" {
		return "use"
	}
	return pe.Op
}

// firstLine cuts s at its first line break.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// capitalise upper-cases the first letter of s (errors are lowercase).
func capitalise(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
