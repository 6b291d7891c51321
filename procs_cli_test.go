package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/ingest/demo"
)

// TestReadsWithOneMoreProc: flows and import read their lines with one
// more P than the process's own (analysis.ReadProcs) and give it back; a
// GOMAXPROCS in the environment is the user's, and they leave it alone.
// The lines come on standard input, a pipe written 4 KiB at a time: each
// write returns once the reader has room, so the writer sees GOMAXPROCS
// while the command reads.
func TestReadsWithOneMoreProc(t *testing.T) {
	var log bytes.Buffer
	if _, _, err := demo.Generate(&log, demo.Config{Vendor: "nutanix", Sessions: 2000, Seed: 4}); err != nil {
		t.Fatal(err)
	}
	text := log.String()
	own := runtime.GOMAXPROCS(0)
	ws := filepath.Join(t.TempDir(), "a.flowsleuth")
	for _, env := range []string{"", "1"} {
		for _, tc := range []struct {
			name string
			args []string
			text string
		}{
			{"flows", []string{"flows", "--format", "csv", "-"}, text},
			{"import in memory", []string{"import", "-q", "--no-workspace", "-"}, text},
			{"import into a workspace", []string{"import", "-q", "--workspace", ws, "-"}, text},
			// The same text again would be skipped: it comes shifted by a line.
			{"import the next day", []string{"import", "-q", "--workspace", ws, "-"}, text[strings.IndexByte(text, '\n')+1:]},
		} {
			t.Run(tc.name+" GOMAXPROCS="+env, func(t *testing.T) {
				t.Setenv("GOMAXPROCS", env)
				want := own + 1
				if env != "" {
					want = own
				}
				if env != "" && strings.Contains(tc.name, "workspace") {
					os.Remove(ws)
				}
				most := readWithStdin(t, tc.text, tc.args)
				if most != want {
					t.Errorf("read with GOMAXPROCS %d at most, want %d", most, want)
				}
				if got := runtime.GOMAXPROCS(0); got != own {
					t.Errorf("GOMAXPROCS %d afterwards, want the process's own %d", got, own)
				}
			})
		}
	}
}

// readWithStdin runs args with text on standard input and returns the
// highest GOMAXPROCS seen between its writes.
func readWithStdin(t *testing.T, text string, args []string) int {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	saved := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = saved }()
	most := make(chan int, 1)
	go func() {
		m := 0
		for b := []byte(text); len(b) > 0; {
			n, err := w.Write(b[:min(len(b), 4096)])
			m = max(m, runtime.GOMAXPROCS(0))
			if err != nil {
				break
			}
			b = b[n:]
		}
		w.Close()
		most <- m
	}()
	var out, errs bytes.Buffer
	if code := run(args, strings.NewReader(""), &out, &errs); code != exitOK {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	return <-most
}
