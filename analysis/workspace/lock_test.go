package workspace

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
)

// TestSecondWriterRefused: while one writer imports (here, a second handle
// on the same file, as another process would have), every other writer is
// refused with a message naming the holder; readers go on; the lock is
// free again once the first writer is done.
func TestSecondWriterRefused(t *testing.T) {
	path, _ := demoLog(t, "nsxt", 300)
	file := filepath.Join(t.TempDir(), "w.flowsleuth")
	a, err := Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	release, err := a.Hold("listen")
	if err != nil {
		t.Fatal(err)
	}
	// Rule edits and the export history are written beside a writer
	// (exports_test.go); these are not.
	writes := map[string]func() error{
		"import":    func() error { _, err := b.Import(ctx, []string{path}, ImportOptions{}); return err },
		"monitored": func() error { return b.SetMonitored(ctx, nil) },
		"inventory": func() error { return b.ReplaceInventory(ctx, nil, "inv.csv", "") },
	}
	for name, write := range writes {
		err := write()
		var le *LockedError
		if !errors.Is(err, ErrLocked) || !errors.As(err, &le) {
			t.Errorf("%s while another writer holds the lock: %v, want ErrLocked", name, err)
			continue
		}
		if le.Holder.PID != os.Getpid() || le.Holder.Operation != "listen" || le.Holder.Host == "" || le.Holder.Since.IsZero() ||
			!strings.Contains(err.Error(), "listen") {
			t.Errorf("%s: holder %+v, message %q", name, le.Holder, err)
		}
	}
	if _, err := b.Info(ctx); err != nil {
		t.Errorf("a reader was refused: %v", err)
	}
	// The holder itself may write (a listener's rule edits, in the app).
	if _, err := a.AddEdit(ctx, rules.Edit{Op: rules.EditRename, Rule: "r-1", Arg: "x"}); err != nil {
		t.Errorf("the holder's own edit: %v", err)
	}
	// … but not import while it listens: both carry the open connections.
	if _, err := a.Import(ctx, []string{path}, ImportOptions{}); !errors.Is(err, ErrBusy) {
		t.Errorf("import beside the holder's own listener: %v, want ErrBusy", err)
	}
	release()
	if _, err := b.Import(ctx, []string{path}, ImportOptions{}); err != nil {
		t.Errorf("import once the lock is released: %v", err)
	}
}

// TestStaleLockTakenOver: a writer killed while holding the lock (here a
// child process that takes it and is killed) leaves the lock file, not the
// lock: the next writer takes it.
func TestStaleLockTakenOver(t *testing.T) {
	if os.Getenv("FLOWSLEUTH_HOLD_LOCK") != "" {
		ws, err := Open(os.Getenv("FLOWSLEUTH_HOLD_LOCK"))
		if err != nil {
			os.Exit(3)
		}
		if _, err := ws.Hold("import"); err != nil {
			os.Exit(4)
		}
		os.Stdout.WriteString("held\n")
		select {}
	}
	file := filepath.Join(t.TempDir(), "w.flowsleuth")
	cmd := exec.Command(os.Args[0], "-test.run=^TestStaleLockTakenOver$")
	cmd.Env = append(os.Environ(), "FLOWSLEUTH_HOLD_LOCK="+file)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := out.Read(buf); err != nil || string(buf) != "held\n" {
		t.Fatalf("child: %q %v", buf, err)
	}
	ws, err := Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	var le *LockedError
	if _, err := ws.Hold("import"); !errors.As(err, &le) || le.Holder.PID != cmd.Process.Pid {
		t.Fatalf("while the child holds it: %v, want the child (pid %d) named", err, cmd.Process.Pid)
	}
	cmd.Process.Kill()
	cmd.Wait()
	release, err := ws.Hold("import")
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	release()
}

// TestConcurrentFirstImports: two first imports into a new workspace at once
// both succeed (they failed with "table settings already exists"), and the
// workspace holds the log once.
func TestConcurrentFirstImports(t *testing.T) {
	path, _ := demoLog(t, "nutanix", 300)
	want := inMemory(t, path)
	type opener func(string) (*Workspace, error)
	// OpenNew builds the workspace beside its path (create.go).
	pairs := [][2]opener{{Open, Open}, {OpenNew, OpenNew}, {OpenNew, Open}, {Open, OpenNew}}
	for round := 0; round < 8; round++ {
		file := filepath.Join(t.TempDir(), "new.flowsleuth")
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Go(func() {
				ws, err := pairs[round%len(pairs)][i](file)
				if err != nil {
					errs[i] = err
					return
				}
				defer ws.Close()
				_, errs[i] = ws.Import(ctx, []string{path}, ImportOptions{})
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil && !errors.Is(err, ErrLocked) {
				t.Fatalf("round %d, import %d: %v", round, i, err)
			}
		}
		ws, err := Open(file)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := analysistest.RowsOf(ws.Conversations(ctx, Query{}))
		ws.Close()
		analysistest.SameConversations(t, got, want)
	}
}

// TestReadOnlyWorkspace: a workspace on a read-only file system opens for
// reading (SQLite said "unable to open database file (14)"), and refuses
// writes with ErrReadOnly. It needs to mount a file system (root).
func TestReadOnlyWorkspace(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mnt")
	os.Mkdir(dir, 0o755)
	if err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "none", dir).Run(); err != nil {
		t.Skip("cannot mount a file system here (needs root):", err)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	path, _ := demoLog(t, "nsxv", 300)
	file := filepath.Join(dir, "w.flowsleuth")
	ws, err := Open(file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ws.Import(ctx, []string{path}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	ws.Close()
	if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
		t.Fatalf("remount read-only: %v %s", err, out)
	}
	if w, err := Open(file); err == nil {
		w.Close()
		t.Log("a writer opened the read-only workspace") // SQLite may open it; writing fails
	}
	ro, err := OpenReadOnly(file)
	if err != nil {
		t.Fatalf("read-only open: %v", err)
	}
	defer ro.Close()
	got, err := analysistest.RowsOf(ro.Conversations(ctx, Query{}))
	if err != nil {
		t.Fatal(err)
	}
	analysistest.SameConversations(t, got, inMemory(t, path))
	if _, err := ro.Info(ctx); err != nil {
		t.Error(err)
	}
	if _, err := ro.Import(ctx, []string{path}, ImportOptions{}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("import into a read-only workspace: %v, want ErrReadOnly", err)
	}
	if err := ro.RecordExport(ctx, "nsx", "Books", []string{"fs-r-a"}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("an export's history in a read-only workspace: %v, want ErrReadOnly", err)
	}
}

// TestReadOnlyOpenOfNewFile: a workspace a first import left without its
// tables (killed at once) opens for reading, empty, as it did when reading
// commands opened it as writers.
func TestReadOnlyOpenOfNewFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "w.flowsleuth")
	os.WriteFile(file, nil, 0o644)
	ro, err := OpenReadOnly(file)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if info, err := ro.Info(ctx); err != nil || info.Sources != 0 {
		t.Errorf("info %+v, %v", info, err)
	}
}
