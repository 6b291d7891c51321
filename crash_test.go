package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestImportSurvivesKill kills a real import with SIGKILL at several moments
// (while reading, inside a commit, between files), then checks the workspace
// is consistent and that running the same import again ends with exactly the
// flows of an uninterrupted import.
func TestImportSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and imports ~40 MB a dozen times")
	}
	t.Parallel() // subprocesses and files of its own: overlaps the other long end-to-end tests
	bin := binary(t)
	dir := t.TempDir()
	var files []string
	for i, vendor := range []string{"nutanix", "nsxv", "nutanix"} {
		f := filepath.Join(dir, fmt.Sprintf("day%d.log", i+1))
		runBin(t, bin, nil, "demo", "--vendor", vendor, "--sessions", "40000", "--seed", fmt.Sprint(i+1), "--out", f)
		files = append(files, f)
	}
	importArgs := func(ws string) []string { return append([]string{"import", "-q", "--workspace", ws}, files...) }

	ref := filepath.Join(dir, "ref.flowsleuth")
	start := time.Now()
	runBin(t, bin, nil, importArgs(ref)...)
	full := time.Since(start)
	want := runBin(t, bin, nil, "flows", "--format", "csv", "--workspace", ref)
	t.Logf("uninterrupted import: %v", full)

	type kill struct {
		name  string
		after time.Duration // SIGKILL after this long; 0: use the failpoint
		fail  string
	}
	var kills []kill
	for _, f := range []float64{0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95} {
		kills = append(kills, kill{name: fmt.Sprintf("at %.0f%%", f*100), after: time.Duration(f * float64(full))})
	}
	for n := 1; n <= 3; n++ {
		kills = append(kills, kill{name: fmt.Sprintf("inside commit %d", n), fail: fmt.Sprintf("commit:%d", n)})
	}
	for i, k := range kills {
		t.Run(k.name, func(t *testing.T) {
			ws := filepath.Join(dir, fmt.Sprintf("k%d.flowsleuth", i))
			cmd := childCommand(bin, importArgs(ws)...)
			if k.fail != "" {
				cmd.Env = append(os.Environ(), "FLOWSLEUTH_FAILPOINT="+k.fail)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if k.after > 0 {
				time.Sleep(k.after)
				cmd.Process.Signal(syscall.SIGKILL)
			}
			err := cmd.Wait()
			if k.fail != "" {
				if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
					t.Fatalf("the failpoint did not kill the import: %v", err)
				}
			}
			// Consistent: the workspace opens, passes SQLite's check, and reads.
			if _, err := os.Stat(ws); err == nil {
				runBin(t, bin, nil, "workspace", "info", "--workspace", ws)
			}
			runBin(t, bin, nil, importArgs(ws)...)
			// The killed import's files of sample lines and drained states are gone.
			if left, _ := filepath.Glob(ws + ".import-*"); len(left) > 0 {
				t.Errorf("after a kill %s and a re-run, left beside the workspace: %v", k.name, left)
			}
			if got := runBin(t, bin, nil, "flows", "--format", "csv", "--workspace", ws); got != want {
				t.Errorf("after a kill %s and a re-run, flows differ:\n%s", k.name, lineDiff(got, want))
			}
		})
	}
}

// runBin runs the binary and returns its standard output; it fails the test on
// a non-zero exit.
func runBin(t *testing.T, bin string, stdin []byte, args ...string) string {
	t.Helper()
	cmd := childCommand(bin, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("flowsleuth %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}
