package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest/listen"
)

func TestListenUsage(t *testing.T) {
	dir := t.TempDir()
	ws := filepath.Join(dir, "w.flowsleuth")
	tests := []struct {
		Name string
		Args []string
		Want string
	}{
		{"no allowlist", []string{"listen", "--tcp", "127.0.0.1:0", "--workspace", ws}, "no sender is allowed"},
		{"bad allowlist", []string{"listen", "--allow", "10.0.0.0/33", "--workspace", ws}, "--allow"},
		{"tls without key", []string{"listen", "--allow-any", "--tls", "127.0.0.1:0", "--cert", "c.pem", "--workspace", ws}, "--tls needs"},
		{"client CA without tls", []string{"listen", "--allow-any", "--tcp", "127.0.0.1:0", "--client-ca", "ca.pem", "--workspace", ws}, "--client-ca needs --tls"},
		{"argument", []string{"listen", "--allow-any", "x.log"}, "unexpected argument"},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(tc.Args, nil, &out, &errb); code != exitUsage {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, exitUsage, errb.String())
			}
			if !strings.Contains(errb.String(), tc.Want) {
				t.Errorf("stderr %q does not say %q", errb.String(), tc.Want)
			}
		})
	}
	if _, err := os.Stat(ws); err == nil {
		t.Error("a refused listen created the workspace")
	}
}

// freePort returns a loopback TCP address free at the time of the call.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// archivedLines counts the lines in the uncompressed archive segments.
func archivedLines(dir string) int {
	segs, _ := filepath.Glob(filepath.Join(dir, "syslog-*.log"))
	n := 0
	for _, s := range segs {
		b, _ := os.ReadFile(s)
		n += bytes.Count(b, []byte("\n"))
	}
	return n
}

// listener is a running `flowsleuth listen`.
type listener struct {
	cmd    *exec.Cmd
	addr   string
	stderr bytes.Buffer
}

func startListener(t *testing.T, bin, ws, archive string, env ...string) *listener {
	t.Helper()
	return launchListener(t, bin, ws, archive, nil, env...)
}

// launchListener starts a listener on a free port, with more arguments.
func launchListener(t *testing.T, bin, ws, archive string, args []string, env ...string) *listener {
	t.Helper()
	l := &listener{addr: freePort(t)}
	l.cmd = childCommand(bin, append([]string{"listen", "--tcp", l.addr, "--allow", "127.0.0.1", "--workspace", ws,
		"--archive", archive, "--flush", "100ms", "--status", "0"}, args...)...)
	l.cmd.Env = append(os.Environ(), env...)
	l.cmd.Stderr = &l.stderr
	if err := l.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", l.addr)
		if err == nil {
			c.Close()
			return l
		}
		if time.Now().After(deadline) {
			l.cmd.Process.Kill()
			t.Fatalf("the listener did not start: %v\n%s", err, l.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (l *listener) send(t *testing.T, lines []string) {
	t.Helper()
	c, err := net.Dial("tcp", l.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := bufio.NewWriter(c)
	for _, line := range lines {
		fmt.Fprintf(w, "%d %s", len(line), line)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

func waitArchived(t *testing.T, dir string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for archivedLines(dir) < n {
		if time.Now().After(deadline) {
			t.Fatalf("archive holds %d lines, want %d", archivedLines(dir), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestListenSurvivesKill streams a demo corpus to a real `flowsleuth
// listen` over TCP and kills it with SIGKILL mid-stream, or inside a commit
// with the failpoint. The lines it had archived are the acknowledged ones:
// a restarted listener is sent the rest, then stopped with SIGTERM. The
// workspace must hold exactly the flows `flowsleuth import` finds in the
// whole file: nothing archived lost, nothing counted twice.
func TestListenSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs listeners")
	}
	bin := binary(t)
	dir := t.TempDir()
	corpus := filepath.Join(dir, "corpus.log")
	var all []byte
	for i, spec := range [][]string{{"nutanix", "rfc3164"}, {"nsxt", "rfc5424"}} {
		f := filepath.Join(dir, spec[0]+".log")
		runBin(t, bin, nil, "demo", "--vendor", spec[0], "--wrap", spec[1], "--sessions", "3000", "--seed", fmt.Sprint(i+1), "--out", f)
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	os.WriteFile(corpus, all, 0o644)
	lines := strings.Split(strings.TrimSuffix(string(all), "\n"), "\n")
	ref := filepath.Join(dir, "ref.flowsleuth")
	runBin(t, bin, nil, "import", "-q", "--workspace", ref, corpus)
	want := runBin(t, bin, nil, "flows", "--format", "csv", "--workspace", ref)

	for _, tc := range []struct {
		name string
		kill int // SIGKILL once this many lines are archived; 0: the failpoint kills
		env  []string
	}{
		{"SIGKILL mid-stream", len(lines) / 3, nil},
		{"killed inside the first commit", 0, []string{"FLOWSLEUTH_FAILPOINT=commit:1"}},
		{"killed inside the third commit", 0, []string{"FLOWSLEUTH_FAILPOINT=commit:3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub := t.TempDir()
			ws, archive := filepath.Join(sub, "live.flowsleuth"), filepath.Join(sub, "archive")
			l := startListener(t, bin, ws, archive, tc.env...)
			go l.trickle(lines)
			if tc.kill > 0 {
				waitArchived(t, archive, tc.kill)
				l.cmd.Process.Signal(syscall.SIGKILL)
			}
			l.cmd.Wait()
			if st, ok := l.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || st.Signal() != syscall.SIGKILL {
				t.Fatalf("the listener was not killed: %v\n%s", l.cmd.ProcessState, l.stderr.String())
			}
			acked := archivedLines(archive)
			if acked == 0 || acked == len(lines) {
				t.Fatalf("killed with %d of %d lines archived: not mid-stream", acked, len(lines))
			}

			l = startListener(t, bin, ws, archive)
			l.send(t, lines[acked:])
			waitArchived(t, archive, len(lines)-acked) // the old segments are compressed by now
			l.cmd.Process.Signal(syscall.SIGTERM)
			if err := l.cmd.Wait(); err != nil {
				t.Fatalf("listen after SIGTERM: %v\n%s", err, l.stderr.String())
			}
			t.Logf("killed with %d of %d lines archived; restart: %s", acked, len(lines),
				firstLine(l.stderr.String(), "recovered"))
			if got := runBin(t, bin, nil, "flows", "--format", "csv", "--workspace", ws); got != want {
				t.Errorf("flows differ from the file import:\n%s", lineDiff(got, want))
			}
			if segs, _ := filepath.Glob(filepath.Join(archive, "*.log")); len(segs) != 0 {
				t.Errorf("segments left uncompressed: %v", segs)
			}
		})
	}
}

// trickle sends lines in small bursts until the listener goes away.
func (l *listener) trickle(lines []string) {
	c, err := net.Dial("tcp", l.addr)
	if err != nil {
		return
	}
	defer c.Close()
	for i := 0; i < len(lines); i += 100 {
		var b bytes.Buffer
		for _, line := range lines[i:min(i+100, len(lines))] {
			fmt.Fprintf(&b, "%d %s", len(line), line)
		}
		if _, err := c.Write(b.Bytes()); err != nil {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func firstLine(text, word string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, word) {
			return l
		}
	}
	return "(no line with " + word + ")"
}

// TestArchiveSize: the status line says how many segments wait for gzip.
func TestArchiveSize(t *testing.T) {
	for _, tc := range []struct {
		st   listen.Stats
		want string
	}{
		{listen.Stats{ArchiveBytes: 3 << 20}, "3.0 MiB"},
		{listen.Stats{ArchiveBytes: 3 << 20, Uncompressed: 2}, "3.0 MiB (2 to gzip)"},
	} {
		if got := archiveSize(tc.st); got != tc.want {
			t.Errorf("archiveSize(%+v) = %q, want %q", tc.st, got, tc.want)
		}
	}
}
