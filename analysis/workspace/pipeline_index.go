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

// A commit into stored conversations builds the index by bytes after its
// rows when it brings deferMergeRows states at least (a variable for
// tests) and at least half as many as are stored (defersIndex): each
// rewrite of a stored state moved its entry in the index, a search and a
// delete, a search and an insert, at random places, where building it
// again is one sort of every stored conversation. The NSX corpus's next
// day (41,156 of 41,891 stored conversations merged,
// BenchmarkCommitNextDay): 149 ms and 263 ms of CPU a commit against 168
// and 305 (5 pairs), the index built in about 14 ms.
var deferMergeRows = 10_000

// reindexed, when set, is told of each commit that built the index by bytes
// after its rows (for tests).
var reindexed func()

// defersIndex reports whether a commit of delta states into stored
// conversations (fresh: a new workspace's) builds the index by bytes after
// its rows (deferIndex).
func defersIndex(fresh bool, delta, stored int) bool {
	if stored == 0 {
		return fresh && delta >= deferIndexRows
	}
	return delta >= deferMergeRows && stored <= 2*delta
}

// deferredIndex is the index of the conversations a new workspace's first
// commit builds after its rows instead of updating it with each: the sort
// key of the lists (bytes), in an order unrelated to the rows'.
const deferredIndex = "conversations_bytes"

// deferIndex drops deferredIndex in tx and returns the statement that
// makes it again, to run in tx once the rows are in: building an index of
// rows already stored is one sort, where updating it with each row was a
// search and an insert at a random place. Only when the index is the
// schema's last object, so that made again it is where it was (the same
// text, the same place: the same schema). It returns "" when it left the
// index.
func deferIndex(ctx context.Context, tx *sql.Tx) (string, error) {
	var create string
	err := tx.QueryRowContext(ctx, `SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?
		AND rowid = (SELECT max(rowid) FROM sqlite_schema)`, deferredIndex).Scan(&create)
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
