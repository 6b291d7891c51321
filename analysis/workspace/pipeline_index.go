package workspace

import (
	"context"
	"database/sql"
)

// deferIndexRows is how many conversations a new workspace's first commit
// stores at least for deferIndex to build their index by bytes after them.
// On 300,000 it saved a tenth of the writer's CPU (1.6-1.7 s against
// 1.8-1.9 s); on 42,000 nothing measurable, and SQLite's sort of the index
// added 5 MB to the commit's peak, which is the import's.
var deferIndexRows = 100_000

// deferredIndex is the index of the conversations a new workspace's first
// commit builds after its rows instead of updating it with each: the sort
// key of the lists (bytes), in an order unrelated to the rows'.
const deferredIndex = "conversations_bytes"

// deferIndex drops deferredIndex from a new workspace whose conversations
// are empty, in tx, and returns the statement that makes it again, to run
// in tx once the rows are in: building an index of rows already stored is
// one sort, where updating it with each row was a search and an insert at
// a random place. Only when the index is the schema's last object, so that
// made again it is where it was (the same text, the same place: the same
// schema). It returns "" when it left the index.
func deferIndex(ctx context.Context, tx *sql.Tx) (string, error) {
	var create string
	err := tx.QueryRowContext(ctx, `SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?
		AND rowid = (SELECT max(rowid) FROM sqlite_schema)
		AND NOT EXISTS (SELECT 1 FROM conversations)`, deferredIndex).Scan(&create)
	if err == sql.ErrNoRows {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, `DROP INDEX `+deferredIndex); err != nil {
		return "", err
	}
	return create, nil
}
