package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestImportNoWorkspaceCounts: the in-memory import of more conversations
// than its model holds at once (it forgets them past 50,000, remembering
// their keys and sessions in a temporary file) counts them exactly, also
// when no temporary file can be made, and leaves no file behind. Half the
// conversations come back on their other side after they were forgotten:
// a connection logged at both ends counts once.
func TestImportNoWorkspaceCounts(t *testing.T) {
	const convs = 60_000
	log := filepath.Join(t.TempDir(), "many.log")
	writeConversations(t, log, convs)
	tmp := t.TempDir()
	for _, tc := range []struct{ name, tmpdir string }{
		{"temporary file", tmp},
		{"no temporary directory", filepath.Join(tmp, "missing")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("TMPDIR", tc.tmpdir)
			code, out, errs := flowsleuth(t, "", "import", "-q", "--no-workspace", log)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errs)
			}
			// Each conversation: one session, then either a second on the
			// same side (2 connections) or one on the other (the same 1).
			for _, want := range []string{
				"sessions " + group(convs/2*2+convs/2),
				"conversations " + group(convs),
			} {
				if !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
					t.Errorf("no %q in\n%s", want, out)
				}
			}
			if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

// writeConversations writes a Nutanix log of n conversations, each
// logged outbound, then each again: outbound for the even ones, inbound
// for the odd ones.
func writeConversations(t *testing.T, name string, n int) {
	t.Helper()
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := range 2 * n {
		j, dir := i%n, "OUTBOUND"
		if i >= n && j%2 == 1 {
			dir = "INBOUND"
		}
		at := time.Date(2025, 4, 10, 0, 0, i, 0, time.UTC)
		fmt.Fprintf(w, "<134>%s ahv-0 Genesis_1: INFO:%s  "+
			"[ff16a6fb-ff89-4c2d-a9c8-f67030f93d79] Discover-Traffic [Destroy] SRC=10.%d.%d.%d DST=172.16.0.1 "+
			"PROTO=TCP SPORT=%d DPORT=443 ACTION=MONITOR DIRECTION=%s ORIG: PKTS=1 BYTES=60 REPLY: PKTS=1 BYTES=60\n",
			at.Format("2006-01-02T15:04:05.000000Z07:00"), at.Format("2006/01/02 15:04:05"), j>>16, j>>8&255, j&255, 30000+i/n, dir)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestImportNoWorkspaceKilledLeavesNothing: the in-memory import's
// temporary file is unlinked as soon as it is made, so not even a killed
// import leaves it in the temporary directory.
func TestImportNoWorkspaceKilledLeavesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := binary(t)
	tmp := t.TempDir()
	cmd := childCommand(bin, "import", "-q", "--no-workspace", "-")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line := "2018-07-03T19:44:09.749Z b6507827 INET match PASS mainrs/1024 IN 52 TCP 192.168.4.3/49627->192.168.4.4/49153 SEW\n"
	io.WriteString(stdin, strings.Repeat(line, 100)) // then nothing: the import waits for more
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Kill()
	cmd.Wait()
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) > 0 {
		t.Errorf("a killed import left %v", left)
	}
}
