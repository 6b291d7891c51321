package app

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
)

func TestListenerFillsWorkspace(t *testing.T) {
	dir := t.TempDir()
	log, rows := demoLog(t, dir, "nutanix", 300)
	u, _ := newTestUI(t, filepath.Join(dir, "ws.flowsleuth"))
	v := u.listener

	// Refused without an allowlist: injected lines would become rules.
	onUI(func() {
		v.udp.SetText("127.0.0.1:0")
		v.tcp.SetText("127.0.0.1:0")
		test.Tap(v.button)
	})
	u.Wait()
	if v.sess != nil || !strings.Contains(u.status.Text, "senders") {
		t.Fatalf("started without an allowlist; status %q", u.status.Text)
	}

	onUI(func() {
		v.allow.SetText("127.0.0.1")
		v.archive.SetText(filepath.Join(dir, "archive"))
		test.Tap(v.button)
	})
	deadline := time.Now().Add(10 * time.Second)
	for v.session() == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	sess := v.session()
	if sess == nil {
		t.Fatalf("listener did not start: %s", u.status.Text)
	}
	conn, err := net.Dial("tcp", sess.Addrs().TCP.String())
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(log)
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	sc := bufio.NewScanner(f)
	w := bufio.NewWriter(conn)
	for sc.Scan() {
		w.Write(sc.Bytes())
		w.WriteByte('\n')
		lines++
	}
	w.Flush()
	conn.Close()
	f.Close()
	for sess.Stats().Accepted < int64(lines) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := sess.Stats().Accepted; got != int64(lines) {
		t.Fatalf("accepted %d of %d lines", got, lines)
	}
	time.Sleep(1200 * time.Millisecond) // one stats tick
	uiMu.Lock()
	counters, senders := v.counters.Text, len(v.rows)
	uiMu.Unlock()
	if !strings.Contains(counters, thousands(lines)) || senders != 1 {
		t.Errorf("view shows %d senders and counters:\n%s", senders, counters)
	}

	onUI(func() { test.Tap(v.button) }) // stop: final flush
	u.Wait()
	settle(u)
	if v.session() != nil {
		t.Fatal("listener still running")
	}
	if got := len(u.Project().Snapshot().Convs); got != len(rows) {
		t.Errorf("workspace has %d conversations after listening, the demo made %d", got, len(rows))
	}
	if segs, _ := filepath.Glob(filepath.Join(dir, "archive", "*")); len(segs) == 0 {
		t.Error("nothing archived")
	}
}
