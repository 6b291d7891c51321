package workspace

import (
	"context"
	"database/sql"
	"database/sql/driver"
)

// rawInsert runs the INSERT of batchRows new conversations (insertRows) on
// the commit's connection directly (sql.Conn.Raw), with one list of
// arguments for every statement. Through database/sql, each of the
// statement's 576 arguments was copied into a list made for the call and
// checked: a third of a commit's garbage (16 of 52 MB on 42,000
// conversations), and the collections it caused.
//
// Its statements run inside the transaction begun on the connection
// (transactConn), which no other goroutine rolls back: a cancelled
// context rolls it back only after fn returns, so a statement run here can
// never land outside it.
type rawInsert struct {
	conn *sql.Conn
	stmt driver.Stmt         // prepared at the first batch
	args []driver.NamedValue // the batch's arguments, reused
	off  bool                // the driver cannot run it so
}

// exec inserts rows, whose states are in states (newRow.parts), with
// INSERT OR IGNORE, and returns what the driver reports: nil, nil when the
// driver cannot run it so (the caller then uses database/sql).
func (r *rawInsert) exec(rows []newRow, states []byte) (res driver.Result, err error) {
	if r.off {
		return nil, nil
	}
	err = r.conn.Raw(func(dc any) error {
		if r.stmt == nil && !r.prepare(dc) {
			r.off = true
			return nil
		}
		for i := range rows {
			row := &rows[i]
			state, _ := row.parts(states)
			a := r.args[insertColumns*i : insertColumns*(i+1)]
			a[0].Value, a[1].Value, a[2].Value = row.k.Src[:], row.k.Dst[:], int64(row.k.Proto)
			a[3].Value, a[4].Value, a[5].Value = int64(row.k.DPort), state, row.sessions
			a[6].Value, a[7].Value, a[8].Value = row.bytes, row.first, row.last
		}
		// Not ctx: the driver watches a cancellable one on a goroutine of
		// its own for each call (see merger).
		var err error
		res, err = r.stmt.(driver.StmtExecContext).ExecContext(context.Background(), r.args)
		return err
	})
	return res, err
}

// prepare prepares the statement on dc, the driver's connection, and
// reports whether the driver can run it directly.
func (r *rawInsert) prepare(dc any) bool {
	pc, ok := dc.(driver.ConnPrepareContext)
	if !ok {
		return false
	}
	st, err := pc.PrepareContext(context.Background(), insertRows(batchRows))
	if err != nil {
		return false // database/sql prepares it again, and reports the error
	}
	if _, ok := st.(driver.StmtExecContext); !ok {
		st.Close()
		return false
	}
	r.stmt = st
	r.args = make([]driver.NamedValue, insertColumns*batchRows)
	for i := range r.args {
		r.args[i].Ordinal = i + 1
	}
	return true
}

// close closes the statement, on the connection it was prepared on.
func (r *rawInsert) close() error {
	if r.stmt == nil {
		return nil
	}
	return r.conn.Raw(func(any) error { return r.stmt.Close() })
}
