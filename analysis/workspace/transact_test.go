package workspace

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"testing"
	"time"
)

// TestTransactConnCancelled: a transaction of transactConn whose context
// ends while fn runs commits nothing, not even a statement fn runs on the
// connection directly after the end: with the
// transaction tied to the context, database/sql rolled it back at once
// from another goroutine, and that statement was then committed on its own.
func TestTransactConnCancelled(t *testing.T) {
	ws := openTemp(t)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	err := ws.writeConn(cctx, func(tx *sql.Tx, conn *sql.Conn) error {
		if _, err := tx.Exec(`INSERT INTO settings (key, value) VALUES ('before', '1')`); err != nil {
			return err
		}
		cancel()
		time.Sleep(50 * time.Millisecond) // for a rollback from another goroutine to happen
		return conn.Raw(func(dc any) error {
			_, err := dc.(driver.ExecerContext).ExecContext(context.Background(),
				`INSERT INTO settings (key, value) VALUES ('after', '2')`, nil)
			return err
		})
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want the context's end", err)
	}
	var n int
	if err := ws.db.QueryRowContext(ctx, `SELECT count(*) FROM settings WHERE key IN ('before', 'after')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d of the cancelled transaction's rows committed", n)
	}
}
