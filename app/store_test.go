package app

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// fakeSource serves conversations read from a log, as a store would.
type fakeSource struct {
	table     *analysis.Table
	monitored []netip.Prefix
	closed    bool
}

func (f *fakeSource) Conversations(ctx context.Context, mon []netip.Prefix) (*analysis.Table, error) {
	f.monitored = mon
	return f.table, nil
}
func (f *fakeSource) String() string { return "clickhouse://store:9000/flows" }
func (f *fakeSource) Close() error   { f.closed = true; return nil }

// TestOpenStore: the Sources view's store opens a source the views then
// show, named in the view; an empty address returns to the workspace, and
// closes the source; a failing store shows its error.
func TestOpenStore(t *testing.T) {
	dir := t.TempDir()
	log, _ := demoLog(t, dir, "nsxv", 800)
	m := analysis.NewModel(analysis.Options{})
	if _, err := analysis.Import(context.Background(), m, []string{log}, analysis.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{table: m.Table()}
	var opened []string
	u, _ := newTestUI(t, filepath.Join(dir, "ws.flowsleuth"))
	u.sources.store.openStore = func(ctx context.Context, url string) (ConversationSource, error) {
		opened = append(opened, url)
		if strings.Contains(url, "down") {
			return nil, errors.New("connect: connection refused")
		}
		return src, nil
	}
	u.OpenStore("clickhouse://store:9000/flows")
	u.Wait()
	settle(t, u)
	if len(opened) != 1 || opened[0] != "clickhouse://store:9000/flows" {
		t.Fatalf("opened %v", opened)
	}
	if got := u.Project().Snapshot().Convs; got.Len() != src.table.Len() || got.Len() == 0 {
		t.Fatalf("the views hold %d conversations, the store %d", got.Len(), src.table.Len())
	}
	var label string
	var rows int
	onUI(func() { label, rows = u.sources.store.label.Text, u.flows.table.rows() })
	if !strings.Contains(label, "clickhouse://store:9000/flows") || rows != src.table.Len() {
		t.Errorf("sources label %q, flows table %d rows (want the store named, %d rows)", label, rows, src.table.Len())
	}

	u.OpenStore("")
	u.Wait()
	settle(t, u)
	if !src.closed || u.Project().Snapshot().Convs.Len() != 0 || u.Project().Source() != nil {
		t.Errorf("back to the empty workspace: source closed %v, %d conversations", src.closed, u.Project().Snapshot().Convs.Len())
	}
	u.OpenStore("clickhouse://down:9000/flows")
	u.Wait()
	settle(t, u)
	var status string
	onUI(func() { status = u.status.Text })
	if !strings.Contains(status, "connection refused") {
		t.Errorf("status %q does not show the store's error", status)
	}
}
