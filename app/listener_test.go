package app

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/flowsleuth/flowsleuth/analysis/live"
	"github.com/flowsleuth/flowsleuth/ingest/listen"
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
	sess := waitSession(t, u)
	waitStatus(t, u, "Listening on ") // not the error of the first attempt
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
	eventually(t, fmt.Sprintf("%d lines accepted", lines), func() bool { return sess.Stats().Accepted >= int64(lines) })
	if got := sess.Stats().Accepted; got != int64(lines) {
		t.Fatalf("accepted %d of %d lines", got, lines)
	}
	// The next stats tick shows them: the counters and the one sender.
	eventually(t, "the counters and the sender of every line", func() bool {
		var counters string
		var senders int
		onUI(func() { counters, senders = v.counters.Text, len(v.rows) })
		return strings.Contains(counters, thousands(lines)) && senders == 1
	})

	onUI(func() { test.Tap(v.button) }) // stop: final flush
	u.Wait()
	settle(t, u)
	if session(v) != nil {
		t.Fatal("listener still running")
	}
	if got := u.Project().Snapshot().Convs.Len(); got != len(rows) {
		t.Errorf("workspace has %d conversations after listening, the demo made %d", got, len(rows))
	}
	if segs, _ := filepath.Glob(filepath.Join(dir, "archive", "*")); len(segs) == 0 {
		t.Error("nothing archived")
	}
}

// TestListenerRemembers: the default port is the CLI's (514 only with the
// privilege to bind it, else 5514), and a successful start is remembered:
// the next run's form has its transports, ports and allowlist.
func TestListenerRemembers(t *testing.T) {
	dir := t.TempDir()
	u, _ := newTestUI(t, filepath.Join(dir, "ws.flowsleuth"))
	v := u.listener
	if want := fmt.Sprintf(":%d", listen.DefaultPort()); v.udp.Text != want || v.tcp.Text != want {
		t.Errorf("default UDP %q, TCP %q; the CLI would use %s", v.udp.Text, v.tcp.Text, want)
	}
	udp, tcp := freeAddr(t, "udp"), freeAddr(t, "tcp")
	onUI(func() {
		v.udp.SetText(udp)
		v.tcp.SetText(tcp)
		v.tlsOn.SetChecked(false)
		v.allow.SetText("127.0.0.1, 10.0.0.0/8")
		v.archive.SetText(filepath.Join(dir, "archive"))
		test.Tap(v.button)
	})
	waitSession(t, u)
	waitStatus(t, u, "Listening on ")
	v.stop()
	u.Wait()

	next := New(u.app, test.NewTempWindow(t, nil), Options{Version: "test"}).listener
	if next.udp.Text != udp || next.tcp.Text != tcp || next.allow.Text != "127.0.0.1, 10.0.0.0/8" ||
		!next.udpOn.Checked || !next.tcpOn.Checked || next.tlsOn.Checked {
		t.Errorf("the next run's form: udp %v %q, tcp %v %q, tls %v, allow %q", next.udpOn.Checked, next.udp.Text,
			next.tcpOn.Checked, next.tcp.Text, next.tlsOn.Checked, next.allow.Text)
	}
}

// freeAddr returns a free loopback address for network ("udp", "tcp").
func freeAddr(t *testing.T, network string) string {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().String()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitStatus waits (10 s at most) for the status bar to start with prefix.
func waitStatus(t *testing.T, u *UI, prefix string) {
	t.Helper()
	var status string
	if !waitUntil(func() bool {
		onUI(func() { status = u.status.Text })
		return strings.HasPrefix(status, prefix)
	}) {
		t.Errorf("the status bar says %q, want %q…", status, prefix)
	}
}

// waitSession waits (10 s at most) for the listener to start.
func waitSession(t *testing.T, u *UI) *live.Session {
	t.Helper()
	if !waitUntil(func() bool { return session(u.listener) != nil }) {
		var status string
		onUI(func() { status = u.status.Text })
		t.Fatalf("listener did not start: %s", status)
	}
	return session(u.listener)
}

// session returns the listener view's running session, or nil.
func session(v *listenerView) *live.Session {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.sess
}
