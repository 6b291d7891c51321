package workspace

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Export history: the ids of the vendor objects each export wrote, so that
// the next export of the same policy can delete what it no longer has (NSX
// rules and the IP-set groups made for them, marked_for_delete). The table
// is made on first use, so workspaces of any schema version take it without
// a migration.

const exportHistoryTable = `CREATE TABLE IF NOT EXISTS export_history (
	target TEXT NOT NULL,   -- "nsx"
	policy TEXT NOT NULL,   -- the policy's id in the target
	object TEXT NOT NULL,   -- an id the export wrote under it
	first  INTEGER NOT NULL,
	last   INTEGER NOT NULL,
	PRIMARY KEY (target, policy, object)
) WITHOUT ROWID`

// Exported returns, sorted, every id an export to target wrote under policy.
func (ws *Workspace) Exported(ctx context.Context, target, policy string) ([]string, error) {
	var n int
	if err := ws.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name = 'export_history'`).Scan(&n); err != nil {
		return nil, classify(err)
	}
	if n == 0 {
		return nil, nil
	}
	rows, err := ws.db.QueryContext(ctx, `SELECT object FROM export_history WHERE target = ? AND policy = ? ORDER BY object`,
		target, policy)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, classify(err)
		}
		out = append(out, id)
	}
	return out, classify(rows.Err())
}

// RecordExport adds the ids an export to target wrote under policy to the
// history, in one transaction.
//
// It takes no writer lock (lock.go), so that an export records its history
// while another process listens to the workspace for days: the lock keeps
// two writers of the model and of the open connections from overwriting
// each other's, and the history is neither; an export beside a listener is
// what an admin does. SQLite still lets one transaction write at a time:
// this one waits for a writer's commit to end (busy_timeout, then again
// until historyWait), and, being one transaction, is all there or absent
// after a crash.
func (ws *Workspace) RecordExport(ctx context.Context, target, policy string, ids []string) error {
	if ws.readOnly {
		return ErrReadOnly
	}
	now := time.Now().Unix()
	record := func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, exportHistoryTable); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO export_history (target, policy, object, first, last) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (target, policy, object) DO UPDATE SET last = excluded.last`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, id := range ids {
			if _, err := stmt.ExecContext(ctx, target, policy, id, now, now); err != nil {
				return err
			}
		}
		return nil
	}
	return ws.besideWriter(ctx, record)
}

// besideWriter runs fn in one transaction without the writer lock, for
// what is no part of the model (the export history, rule edits): it waits
// for another process's commit to end (busy_timeout, then again until
// historyWait).
func (ws *Workspace) besideWriter(ctx context.Context, fn func(*sql.Tx) error) error {
	deadline := time.Now().Add(historyWait)
	for {
		err := ws.transact(ctx, fn)
		if !busy(err) || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
	}
}

// historyWait is how long besideWriter waits for other processes' writes
// (an import's commit of a large file) before it gives up.
const historyWait = 5 * time.Minute

// busy reports whether err is SQLite's: another connection writes.
func busy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}
