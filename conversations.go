package main

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/clickhouse"
	"github.com/flowsleuth/flowsleuth/analysis/workspace"
	"github.com/flowsleuth/flowsleuth/app"
)

// Reading the conversations a command works on: from a store (--store),
// narrowed by --monitored, --since, --until and --tag. The flows, rules,
// export and check commands call these rather than each other.

// flowsOfStore computes the conversations inside the store (--store) and
// names their endpoints after the workspace's inventory, when the workspace
// exists; its declared monitored set applies unless --monitored is given.
// This is the conversation source of every reading command with --store.
func (c *cli) flowsOfStore(mf *modelFlags, wsPath string, files []string, since, until string, top int) ([]analysis.Conversation, error) {
	if len(files) > 0 {
		return nil, usagef("--store reads the store: give no FILE")
	}
	q := clickhouse.Query{Top: top, Tags: c.tags, Samples: c.samples}
	var err error
	if q.Monitored, q.Since, q.Until, err = mf.selection(since, until); err != nil {
		return nil, err
	}
	ctx := context.Background()
	ws, err := existingWorkspace(wsPath)
	if err != nil {
		return nil, err
	}
	if ws != nil {
		defer ws.Close()
		if len(q.Monitored) == 0 {
			if q.Monitored, err = ws.Monitored(ctx); err != nil {
				return nil, err
			}
		}
	}
	s, err := clickhouse.Open(ctx, c.store)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	convs, err := s.Conversations(ctx, q)
	if err != nil || ws == nil {
		return convs, err
	}
	return convs, ws.Label(ctx, convs)
}

// selection reads the flags that select conversations from a workspace or
// a store: --monitored, --since and --until.
func (f *modelFlags) selection(since, until string) (mon []netip.Prefix, from, to time.Time, err error) {
	if mon, err = f.prefixes(); err != nil {
		return
	}
	if from, err = parseTime("--since", since); err != nil {
		return
	}
	to, err = parseTime("--until", until)
	return
}

// parseTags reads --tag's comma-separated tags.
func parseTags(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// keepTags keeps the conversations carrying one of tags (all when none).
func keepTags(convs []analysis.Conversation, tags []string) []analysis.Conversation {
	if len(tags) == 0 {
		return convs
	}
	kept := convs[:0]
	for _, cv := range convs {
		for _, t := range cv.Tags {
			if slices.Contains(tags, t.Name) {
				kept = append(kept, cv)
				break
			}
		}
	}
	return kept
}

// storeWithoutWorkspace reports whether a reading command reads a store
// and there is no workspace (for edits) to open: none is created for it.
func (c *cli) storeWithoutWorkspace(wsPath string) bool {
	if c.store == "" {
		return false
	}
	_, err := os.Stat(wsPath)
	return errors.Is(err, os.ErrNotExist)
}

// workspaceOrStore returns the conversations of the store (--store), else
// of the workspace.
func (c *cli) workspaceOrStore(ctx context.Context, ws *workspace.Workspace) ([]analysis.Conversation, error) {
	if c.store == "" {
		return ws.Conversations(ctx, workspace.Query{})
	}
	var mf modelFlags
	return c.flowsOfStore(&mf, ws.Path(), nil, "", "", 0)
}

// existingWorkspace opens the workspace at path read-only when the file
// exists (nil otherwise): readers of a store use its inventory, monitored
// set and rule edits, but never create it.
func existingWorkspace(path string) (*workspace.Workspace, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return openWorkspaceToRead(path)
}

// storeSource is a store as the app's conversation source.
type storeSource struct{ s *clickhouse.Store }

// openStoreSource opens the store at url for the app (app.Options.OpenStore).
func openStoreSource(ctx context.Context, url string) (app.ConversationSource, error) {
	s, err := clickhouse.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	return storeSource{s}, nil
}

// Conversations computes the store's conversations, with their evidence
// lines (the Flows view shows them).
func (s storeSource) Conversations(ctx context.Context, mon []netip.Prefix) ([]analysis.Conversation, error) {
	return s.s.Conversations(ctx, clickhouse.Query{Monitored: mon, Samples: true})
}

func (s storeSource) String() string { return s.s.Address().String() }
func (s storeSource) Close() error   { return s.s.Close() }
