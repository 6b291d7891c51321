package workspace

import (
	"database/sql"
	"strings"
	"testing"
	"time"
)

// TestStoreModelWriterFails: when a statement of the writer fails while
// the encoder has more pieces to hand over than the channel holds, the
// commit returns the statement's error instead of waiting for the encoder
// forever: a conversation's insert, or a chunk of open connections' (the
// conversations still being encoded beside).
func TestStoreModelWriterFails(t *testing.T) {
	for _, table := range []string{"conversation_blocks", "tracking_chunks"} {
		t.Run(table, func(t *testing.T) {
			ws := openTemp(t)
			m := trackingModel(t, 20*pieceRows) // 20 pieces of conversations
			done := make(chan error, 1)
			go func() {
				done <- ws.write(ctx, func(tx *sql.Tx) error {
					if _, err := tx.Exec(`CREATE TEMP TRIGGER refuse BEFORE INSERT ON ` + table + `
						BEGIN SELECT RAISE(ABORT, 'refused'); END`); err != nil {
						return err
					}
					_, err := storeModel(ctx, tx, nil, m, nil, false)
					return err
				})
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "refused") {
					t.Fatalf("got %v, want the trigger's refusal", err)
				}
			case <-time.After(time.Minute):
				t.Fatal("the commit waits for its encoder")
			}
		})
	}
}

// TestStoreModelCacheRestored: a new workspace's first commit stores the
// model with a small page cache (appendCacheKiB) and gives the connection
// its cache back for the rest of the transaction, also when a statement
// of the commit fails (the pragma outlives the transaction).
func TestStoreModelCacheRestored(t *testing.T) {
	for _, fail := range []bool{false, true} {
		ws := openTemp(t)
		m := trackingModel(t, 2*pieceRows)
		err := ws.write(ctx, func(tx *sql.Tx) error {
			if fail {
				if _, err := tx.Exec(`CREATE TEMP TRIGGER refuse BEFORE INSERT ON tracking_chunks
					BEGIN SELECT RAISE(ABORT, 'refused'); END`); err != nil {
					return err
				}
			}
			_, serr := storeModel(ctx, tx, nil, m, nil, true)
			if (serr != nil) != fail {
				return serr
			}
			var kib int
			if err := tx.QueryRow(`PRAGMA cache_size`).Scan(&kib); err != nil {
				return err
			}
			if kib != -cacheKiB {
				t.Errorf("failed commit %v: cache_size %d after the commit's states, want %d", fail, kib, -cacheKiB)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("failed commit %v: %v", fail, err)
		}
	}
}
