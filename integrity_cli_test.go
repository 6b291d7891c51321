package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
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
			cmd := childCommand(bin, append(tc.args, "-q", "--workspace", ws)...)
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
	cmd := childCommand(bin, "import", "-q", "--workspace", ws, log)
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

// syncBuffer is a bytes.Buffer safe for a process to write while the test
// reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestListenArchiveFullCLI: a listener whose archive is on a full file
// system (a 1 MiB tmpfs; needs root to mount it) says so within a second or
// two, accepts nothing meanwhile, and goes on once room is made; the
// workspace then holds exactly what the archive holds.
func TestListenArchiveFullCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a listener")
	}
	dir := t.TempDir()
	archive := filepath.Join(dir, "archive")
	os.Mkdir(archive, 0o755)
	if err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "none", archive).Run(); err != nil {
		t.Skip("cannot mount a tmpfs here (needs root):", err)
	}
	defer exec.Command("umount", archive).Run()
	bin := binary(t)
	ballast := filepath.Join(archive, "ballast")
	f, _ := os.Create(ballast)
	for _, err := f.Write(make([]byte, 4096)); err == nil; _, err = f.Write(make([]byte, 4096)) {
	}
	f.Close()
	ws := filepath.Join(dir, "live.flowsleuth")
	addr := freePort(t)
	cmd := childCommand(bin, "listen", "--tcp", addr, "--allow", "127.0.0.1", "--workspace", ws,
		"--archive", archive, "--flush", "100ms", "--status", "0")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var c net.Conn
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var err error
		if c, err = net.Dial("tcp", addr); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the listener did not start: %v\n%s", err, stderr.String())
		}
	}
	defer c.Close()
	line := "<13>1 2018-07-03T19:44:09.749Z esx05 FIREWALL-PKTLOG - - - b6507827 INET match PASS mainrs/1024 IN 52 TCP 192.168.4.3/%d->192.168.4.4/443 SEW\n"
	go func() {
		for i := range 2000 {
			fmt.Fprintf(c, line, 1024+i)
		}
	}()
	waitText := func(what string) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !strings.Contains(stderr.String(), what); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("stderr does not say %q:\n%s", what, stderr.String())
			}
		}
	}
	waitText("ARCHIVE FAILING")
	os.Remove(ballast)
	waitText("can be written again")
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	ref := filepath.Join(dir, "ref.flowsleuth")
	segs, _ := filepath.Glob(filepath.Join(archive, "syslog-*"))
	runBin(t, bin, nil, append([]string{"import", "-q", "--workspace", ref}, segs...)...)
	want := runBin(t, bin, nil, "flows", "--format", "csv", "--workspace", ref)
	if got := runBin(t, bin, nil, "flows", "--format", "csv", "--workspace", ws); got != want || !strings.Contains(got, "192.168.4.3") {
		t.Errorf("the workspace holds other flows than the archive:\n%s", lineDiff(got, want))
	}
	if n := strings.Count(want, "\n"); n != 2 { // header and the one conversation
		t.Errorf("archive flows:\n%s", want)
	}
}

// hostile is log text that a terminal would obey: clear the screen, set
// the window title, write the clipboard (OSC 52), an 8-bit CSI, and a
// right-to-left override.
const hostile = "Evil\x1b[2J\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07\u009b2J\u202eop"

// leaks returns the first character of out a terminal would act on.
func leaks(out string) string {
	for _, r := range out {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || r >= 0x80 && r <= 0x9f || r == 0x202e {
			return fmt.Sprintf("%U", r)
		}
	}
	return ""
}

// TestEscapesNeutralised: escape sequences in log text (a policy name, a
// malformed line, a file name) reach no human-facing output raw: import's
// malformed samples, the flows and rules tables, error messages. Machine
// outputs (CSV) keep the text exactly.
func TestEscapesNeutralised(t *testing.T) {
	dir := t.TempDir()
	policy := "INFO:2025/04/10 10:12:51  [181fa82b-64c6-4eb7-844e-3329128cdff7] " + hostile +
		" [Destroy] SRC=10.1.1.%d DST=10.20.10.12 PROTO=TCP SPORT=%d DPORT=22 ACTION=ALLOW DIRECTION=INBOUND ORIG: PKTS=9 BYTES=900 REPLY: PKTS=5 BYTES=500\n"
	var b strings.Builder
	for i := range 5 {
		fmt.Fprintf(&b, policy, i+1, 40000+i)
	}
	b.WriteString("INFO:2025/04/10 10:12:51  [181fa82b-64c6-4eb7-844e-3329128cdff7] p [New] SRC=10.0.0.999 " + hostile + "\n")
	log := filepath.Join(dir, "evil.log")
	os.WriteFile(log, []byte(b.String()), 0o644)
	ws := filepath.Join(dir, "w.flowsleuth")
	for _, args := range [][]string{
		{"import", "--no-workspace", log},
		{"import", "--workspace", ws, log},
		{"flows", "--workspace", ws},
		{"flows", log},
		{"rules", "--workspace", ws},
		{"rules", "--include-suspect", log},
		{"workspace", "info", "--workspace", ws},
		{"import", "--workspace", ws, filepath.Join(dir, "no such "+hostile+".log")},
	} {
		_, out, errs := flowsleuth(t, "", args...)
		if l := leaks(out + errs); l != "" {
			t.Errorf("flowsleuth %s: %s reaches the terminal:\n%s%s", args[0], l, out, errs)
		}
	}
	_, csv, _ := flowsleuth(t, "", "flows", "--format", "csv", "--workspace", ws)
	if !strings.Contains(csv, hostile) {
		t.Errorf("CSV does not keep the policy name exactly:\n%q", csv)
	}
}

// TestListenSummaryEscapes: the listener's status and summary ("malformed
// from …") quote what senders sent: nothing a terminal obeys gets through.
func TestListenSummaryEscapes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a listener")
	}
	bin := binary(t)
	dir := t.TempDir()
	l := startListener(t, bin, filepath.Join(dir, "w.flowsleuth"), filepath.Join(dir, "archive"))
	bad := "<134>Apr 10 10:12:51 ahv-1 flow-hitCount4: INFO:2025/04/10 10:12:51  [u] p [New] SRC=10.0.0.999 " + hostile
	l.send(t, []string{bad, bad})
	time.Sleep(300 * time.Millisecond)
	l.cmd.Process.Signal(syscall.SIGTERM)
	l.cmd.Wait()
	out := l.stderr.String()
	if !strings.Contains(out, "malformed from") {
		t.Fatalf("no malformed sample in the summary:\n%s", out)
	}
	if lk := leaks(out); lk != "" {
		t.Errorf("%s reaches the terminal:\n%s", lk, out)
	}
}

// TestExportXLSXFromFileAccounts: a workbook written straight from a file
// (no workspace) accounts for every line as import does, in the Summary
// and the Sources sheet (it said "Lines read 0" and a row of zeros).
func TestExportXLSXFromFileAccounts(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "x.log")
	if code, _, errs := flowsleuth(t, "", "demo", "--vendor", "nsxv", "--sessions", "2000", "--out", log); code != exitOK {
		t.Fatal(errs)
	}
	f, _ := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("not a firewall line\nINFO:2025/04/10 10:12:51  [u] p [New] SRC=10.0.0.999 DST=1.2.3.4\n")
	f.Close()
	book := filepath.Join(dir, "out.xlsx")
	if code, _, errs := flowsleuth(t, "", "export", "--xlsx", book, log); code != exitOK {
		t.Fatal(errs)
	}
	_, out, _ := flowsleuth(t, "", "import", "--no-workspace", log)
	want := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if fs := strings.Fields(l); len(fs) >= 2 {
			want[fs[0]] = strings.ReplaceAll(fs[1], ",", "")
		}
	}
	x, err := excelize.OpenFile(book)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rows, _ := x.GetRows("Sources")
	if len(rows) != 2 {
		t.Fatalf("Sources: %q", rows)
	}
	head, row := rows[0], rows[1]
	cell := func(name string) string {
		for i, h := range head {
			if strings.EqualFold(h, name) && i < len(row) {
				return row[i]
			}
		}
		return "?"
	}
	for col, key := range map[string]string{"Lines": "lines", "Events": "events", "Skipped": "skipped", "Malformed": "malformed"} {
		if got := strings.ReplaceAll(cell(col), ",", ""); got != want[key] {
			t.Errorf("Sources %s = %s, import says %s", col, got, want[key])
		}
	}
	summary, _ := x.GetRows("Summary")
	for _, r := range summary {
		if len(r) >= 2 && r[0] == "Lines read" && strings.ReplaceAll(r[1], ",", "") != want["lines"] {
			t.Errorf("Summary: lines read %s, import says %s", r[1], want["lines"])
		}
	}
}
