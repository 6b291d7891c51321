package workspace

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// LiveCommit is what one flush of a live listener adds: the events of a run
// of lines of one archive segment, a file the listener appends to.
type LiveCommit struct {
	Segment string       // the archive segment's path
	End     int64        // bytes of the segment the model now covers; a line end
	Stats   ingest.Stats // the lines added since the segment's previous commit
}

// CommitLive writes a listener's delta model m, its open connections and
// the segment's source row (consumed = End) in one transaction, exactly as
// an import of the segment's first End bytes would. m must have been
// restored from Tracking, or from the model of the previous commit. After a
// crash, importing the segment reads only the bytes after End, so nothing
// is counted twice or lost.
func (ws *Workspace) CommitLive(ctx context.Context, m *analysis.Model, c LiveCommit) error {
	f, st, err := statFile(c.Segment)
	if err != nil {
		return fmt.Errorf("commit %s: %w", c.Segment, err)
	}
	defer f.Close()
	if st.Size() < c.End {
		return fmt.Errorf("commit %s: the segment has %d bytes, fewer than the %d to commit", c.Segment, st.Size(), c.End)
	}
	fp, err := fingerprintOf(f, c.End)
	if err != nil {
		return fmt.Errorf("commit %s: %w", c.Segment, err)
	}
	row, err := ws.liveRow(ctx, c.Segment, c.End)
	if err != nil {
		return fmt.Errorf("commit %s: %w", c.Segment, err)
	}
	row.path, row.size, row.consumed, row.head, row.tail = c.Segment, fp.size, c.End, fp.head, fp.tail
	row.stats.add(&c.Stats)
	in := &ingest.Input{Name: c.Segment, Size: c.End, ModTime: st.ModTime()}
	// Malformed samples carry their line number in the segment already.
	if _, err := ws.commit(ctx, m, nil, row, fp.content, in, &c.Stats, 0, 0); err != nil {
		return fmt.Errorf("commit %s: %w", c.Segment, err)
	}
	return nil
}

// liveRow returns the source row of an earlier commit of segment (a zero
// row when there is none).
func (ws *Workspace) liveRow(ctx context.Context, segment string, end int64) (sourceRow, error) {
	row, stats, err := scanSource(ws.db.QueryRowContext(ctx, `SELECT `+sourceColumns+` FROM sources
		WHERE path = ? AND size <= ? ORDER BY size DESC LIMIT 1`, segment, end))
	if errors.Is(err, sql.ErrNoRows) {
		return sourceRow{}, nil
	}
	if err != nil {
		return row, classify(err)
	}
	return row, row.stats.unmarshal(stats)
}

// RecoverArchive imports a listener's archive segments, as Import, for a
// listener that holds the workspace (Hold("listen")): what it archived
// before a crash and did not commit.
func (ws *Workspace) RecoverArchive(ctx context.Context, segments []string, o ImportOptions) ([]FileResult, error) {
	ws.lockMu.Lock()
	listening := ws.modelWriter == "listen"
	ws.lockMu.Unlock()
	if !listening {
		return nil, errors.New("recover the archive: the listener does not hold the workspace")
	}
	return ws.importFiles(ctx, segments, o)
}

// Totals returns how many conversations the workspace holds and their
// sessions: a cheap figure for a listener's status, unlike Info.
func (ws *Workspace) Totals(ctx context.Context) (conversations, sessions int64, err error) {
	err = ws.db.QueryRowContext(ctx, `SELECT coalesce(sum(n), 0), coalesce(sum(sessions), 0) FROM conversation_blocks`).
		Scan(&conversations, &sessions)
	return conversations, sessions, classify(err)
}
