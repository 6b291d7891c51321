package live

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/analysis/workspace"
	"github.com/flowsleuth/flowsleuth/ingest"
	"github.com/flowsleuth/flowsleuth/ingest/demo"
	"github.com/flowsleuth/flowsleuth/ingest/listen"
)

var ctx = context.Background()

// corpus returns demo lines of several vendors and wrappers, and the file
// holding them all.
func corpus(t *testing.T) (string, []string) {
	t.Helper()
	var all bytes.Buffer
	for i, c := range []demo.Config{
		{Vendor: "nutanix", Wrap: "rfc3164", Sessions: 150, Seed: 1},
		{Vendor: "nsxt", Wrap: "rfc5424", Sessions: 150, Seed: 2},
		{Vendor: "nutanix", Wrap: "rfc5424", Sessions: 100, Seed: 3},
	} {
		if _, _, err := demo.Generate(&all, c); err != nil {
			t.Fatal(i, err)
		}
	}
	path := filepath.Join(t.TempDir(), "corpus.log")
	if err := os.WriteFile(path, all.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, strings.Split(strings.TrimSuffix(all.String(), "\n"), "\n")
}

// fileFlows imports path into a fresh workspace, as `flowsleuth import` does.
func fileFlows(t *testing.T, path string) []analysistest.Conversation {
	t.Helper()
	ws, err := workspace.Open(filepath.Join(t.TempDir(), "file.flowsleuth"))
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if _, err := ws.Import(ctx, []string{path}, workspace.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := analysistest.RowsOf(ws.Conversations(ctx, workspace.Query{}))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func config(dir string, ws *workspace.Workspace) Config {
	return Config{
		Listen: listen.Config{TCP: "127.0.0.1:0", UDP: "127.0.0.1:0", Archive: filepath.Join(dir, "archive"),
			Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, Parse: []ingest.Option{ingest.WithSyslogLibrary(true)}},
		Workspace:  ws,
		FlushEvery: 50 * time.Millisecond,
	}
}

// send writes lines over TCP, octet-counted or LF-framed.
func send(t *testing.T, addr net.Addr, lines []string, octet bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := bufio.NewWriter(c)
	for _, l := range lines {
		if octet {
			fmt.Fprintf(w, "%d %s", len(l), l)
		} else {
			fmt.Fprintf(w, "%s\n", l)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestParityWithImport sends a demo corpus (RFC 3164 and RFC 5424, Nutanix
// and NSX) over two TCP connections with both framings, across segment
// rotations and many flushes, restarting the session halfway: the workspace
// ends with exactly the flows `flowsleuth import` finds in the same file.
func TestParityWithImport(t *testing.T) {
	path, lines := corpus(t)
	want := fileFlows(t, path)
	dir := t.TempDir()
	ws, err := workspace.Open(filepath.Join(dir, "live.flowsleuth"))
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	flushed := make(chan struct{}, 1000)
	half := len(lines) / 2
	for i, part := range [][]string{lines[:half], lines[half:]} {
		cfg := config(dir, ws)
		cfg.Listen.SegmentSize = 50 << 10
		s, err := Start(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		s.OnFlush(func() {
			select {
			case flushed <- struct{}{}:
			default:
			}
		})
		// One connection, so that the order of lines is the file's.
		send(t, s.Addrs().TCP, part, i == 0)
		waitFor(t, "every line", func() bool { return s.Stats().Accepted == int64(len(part)) })
		if err := s.Stop(); err != nil {
			t.Fatal(err)
		}
		st := s.Stats()
		if st.Parsed != int64(len(part)) || st.Segments < 2 {
			t.Errorf("session %d: %d parsed of %d, %d segments", i, st.Parsed, len(part), st.Segments)
		}
	}
	if len(flushed) == 0 {
		t.Error("OnFlush never called")
	}
	got, err := analysistest.RowsOf(ws.Conversations(ctx, workspace.Query{}))
	if err != nil {
		t.Fatal(err)
	}
	analysistest.SameConversations(t, got, want)
	var sessions int64
	for _, c := range want {
		sessions += int64(c.Sessions)
	}
	if st := s2stats(t, ws); st.Conversations != int64(len(want)) || st.Sessions != sessions {
		t.Errorf("stats: %d conversations, %d sessions; want %d, %d", st.Conversations, st.Sessions, len(want), sessions)
	}
	// Every segment was committed whole, then compressed.
	left, _ := listen.Segments(filepath.Join(dir, "archive"))
	if len(left) != 0 {
		t.Errorf("uncompressed segments left: %v", left)
	}
	// Importing the compressed archive into the same workspace counts
	// nothing twice: each segment is recognised by its content.
	gz, _ := filepath.Glob(filepath.Join(dir, "archive", "*.gz"))
	if len(gz) < 2 {
		t.Fatalf("%d compressed segments, want several", len(gz))
	}
	res, err := ws.Import(ctx, gz, workspace.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Outcome != workspace.Already {
			t.Errorf("%s: %s, want %s", r.Name, r.Outcome, workspace.Already)
		}
	}
	got, _ = analysistest.RowsOf(ws.Conversations(ctx, workspace.Query{}))
	analysistest.SameConversations(t, got, want)
}

// startUncommitted starts a session on a new workspace that commits only
// when told to (Flush), so that what it receives stays uncommitted.
func startUncommitted(t *testing.T) (string, *workspace.Workspace, *Session) {
	t.Helper()
	dir := t.TempDir()
	ws, err := workspace.Open(filepath.Join(dir, "live.flowsleuth"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	cfg := config(dir, ws)
	cfg.FlushEvery = time.Hour
	s, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return dir, ws, s
}

// crash stops s as a kill would: listening stops, nothing more is
// committed, and the writer lock goes (with the process, for a real kill).
func (s *Session) crash() {
	s.srv.Close()
	<-s.runErr
	s.release()
}

// TestRecoverUncommitted leaves archived lines uncommitted (as a kill
// between two flushes does) and checks the next start imports exactly them.
func TestRecoverUncommitted(t *testing.T) {
	path, lines := corpus(t)
	want := fileFlows(t, path)
	dir, ws, s := startUncommitted(t)
	third := len(lines) / 3
	send(t, s.Addrs().TCP, lines[:third], false)
	waitFor(t, "the first third", func() bool { return s.Stats().Accepted == int64(third) })
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	send(t, s.Addrs().TCP, lines[third:], false)
	waitFor(t, "the rest", func() bool { return s.Stats().Accepted == int64(len(lines)) })
	// Simulate a kill: stop listening without the final flush. The segment
	// holds every line; the workspace a third.
	s.crash()

	s2, err := Start(ctx, config(dir, ws))
	if err != nil {
		t.Fatal(err)
	}
	rec := s2.Stats().Recovered
	if len(rec) != 1 || rec[0].Outcome != workspace.Tail || rec[0].Stats.Lines != int64(len(lines)-third) {
		t.Errorf("recovered: %+v; want one tail of %d lines", rec, len(lines)-third)
	}
	if err := s2.Stop(); err != nil {
		t.Fatal(err)
	}
	got, err := analysistest.RowsOf(ws.Conversations(ctx, workspace.Query{}))
	if err != nil {
		t.Fatal(err)
	}
	analysistest.SameConversations(t, got, want)
}

// TestMemoryOnly runs without a workspace: the session's figures count
// what was sent, as a model fed the same lines does.
func TestMemoryOnly(t *testing.T) {
	_, lines := corpus(t)
	dir := t.TempDir()
	s, err := Start(ctx, config(dir, nil))
	if err != nil {
		t.Fatal(err)
	}
	send(t, s.Addrs().TCP, lines, true)
	waitFor(t, "every line", func() bool { return s.Stats().Accepted == int64(len(lines)) })
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	m := analysis.NewModel(analysis.Options{})
	p := ingest.NewParser()
	for _, l := range lines {
		var ev ingest.Event
		if b, _ := p.Parse([]byte(l), &ev); b == ingest.Parsed {
			m.Add(&ev)
		}
	}
	got, want := s.Stats(), m.Stats()
	if got.Events != want.Events || got.Conversations != int64(want.Conversations) {
		t.Errorf("session holds %d events in %d conversations, want %d in %d", got.Events, got.Conversations,
			want.Events, want.Conversations)
	}
	if _, err := Start(ctx, Config{Workspace: &workspace.Workspace{}}); err == nil {
		t.Error("a workspace without an archive was accepted")
	}
}

// s2stats starts and stops a session on ws, and returns its last figures.
func s2stats(t *testing.T, ws *workspace.Workspace) Stats {
	t.Helper()
	s, err := Start(ctx, config(t.TempDir(), ws))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	return s.Stats()
}
