package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestImportStopsOnSIGINT: an import reading a stalled pipe, or an endless
// line (/dev/zero), stops within a second of SIGINT or SIGTERM. They ran
// until the input ended, and for /dev/zero ten minutes at full CPU.
func TestImportStopsOnSIGINT(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := binary(t)
	line := "2018-07-03T19:44:09.749Z b6507827 INET match PASS mainrs/1024 IN 52 TCP 192.168.4.3/49627->192.168.4.4/49153 SEW\n"
	for _, tc := range []struct {
		name string
		args []string
		sig  syscall.Signal
	}{
		{"stalled standard input", []string{"import", "-"}, syscall.SIGINT},
		{"stalled standard input, no workspace", []string{"import", "--no-workspace", "-"}, syscall.SIGTERM},
		{"/dev/zero", []string{"import", "/dev/zero"}, syscall.SIGINT},
		{"/dev/zero, no workspace", []string{"import", "--no-workspace", "/dev/zero"}, syscall.SIGINT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := filepath.Join(t.TempDir(), "w.flowsleuth")
			cmd := exec.Command(bin, append(tc.args, "-q", "--workspace", ws)...)
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pw.Close()
			cmd.Stdin = pr
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pr.Close()
			io.WriteString(pw, strings.Repeat(line, 100)) // then nothing: the writer stalls
			time.Sleep(500 * time.Millisecond)
			sent := time.Now()
			cmd.Process.Signal(tc.sig)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
				if el := time.Since(sent); el > time.Second {
					t.Errorf("stopped %v after the signal, want within a second", el)
				}
				if cmd.ProcessState.ExitCode() == exitOK {
					t.Errorf("an interrupted import exited 0")
				}
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("still running 10 s after %v\n%s", tc.sig, stderr.String())
			}
		})
	}
}

// TestSecondWriterRefusedCLI: an import into a workspace a listener writes
// to is refused, naming the listener; reading commands still work.
func TestSecondWriterRefusedCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a listener")
	}
	bin := binary(t)
	dir := t.TempDir()
	ws, archive := filepath.Join(dir, "live.flowsleuth"), filepath.Join(dir, "archive")
	log := filepath.Join(dir, "x.log")
	runBin(t, bin, nil, "demo", "--vendor", "nsxt", "--sessions", "500", "--out", log)
	l := startListener(t, bin, ws, archive)
	defer func() {
		l.cmd.Process.Signal(syscall.SIGTERM)
		l.cmd.Wait()
	}()
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "import", "-q", "--workspace", ws, log)
	cmd.Stderr = &stderr
	err := cmd.Run()
	msg := stderr.String()
	if err == nil || !strings.Contains(msg, "being written by") || !strings.Contains(msg, "listen") ||
		!strings.Contains(msg, "pid "+strconv.Itoa(l.cmd.Process.Pid)) {
		t.Errorf("import beside a listener: %v\n%s", err, msg)
	}
	runBin(t, bin, nil, "flows", "--workspace", ws)
	runBin(t, bin, nil, "workspace", "info", "--workspace", ws)
}
