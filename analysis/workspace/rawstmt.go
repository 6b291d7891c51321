package workspace

import (
	"context"
	"database/sql"
	"database/sql/driver"
)

// rawStmt runs one statement again and again on a transaction's connection
// directly (sql.Conn.Raw), with one list of arguments the caller fills for
// each run. Through database/sql, each run's arguments were copied into a
// list made for the call and checked: for the commit's INSERT of 64
// conversations (576 arguments, merger.insertBatch), a third of the
// commit's garbage (16 of 52 MB on 42,000 conversations), and the
// collections it caused.
//
// Its statements run inside the transaction begun on the connection
// (transactConn), which no other goroutine rolls back: a cancelled
// context rolls it back only after fn returns, so a statement run here can
// never land outside it.
type rawStmt struct {
	conn  *sql.Conn
	query string
	stmt  driver.Stmt         // prepared at the first run
	args  []driver.NamedValue // the run's arguments, reused
	off   bool                // the driver cannot run it so
}

// newRawStmt returns a rawStmt of query, which takes n arguments, on conn.
func newRawStmt(conn *sql.Conn, query string, n int) *rawStmt {
	r := &rawStmt{conn: conn, query: query, args: make([]driver.NamedValue, n)}
	for i := range r.args {
		r.args[i].Ordinal = i + 1
	}
	return r
}

// exec runs the statement with the arguments fill sets (their Values, in
// order) and returns what the driver reports: nil, nil when the driver
// cannot run it so (the caller then uses database/sql).
func (r *rawStmt) exec(fill func(args []driver.NamedValue)) (res driver.Result, err error) {
	if r.off {
		return nil, nil
	}
	err = r.conn.Raw(func(dc any) error {
		if r.stmt == nil && !r.prepare(dc) {
			r.off = true
			return nil
		}
		fill(r.args)
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
func (r *rawStmt) prepare(dc any) bool {
	pc, ok := dc.(driver.ConnPrepareContext)
	if !ok {
		return false
	}
	st, err := pc.PrepareContext(context.Background(), r.query)
	if err != nil {
		return false // database/sql prepares it again, and reports the error
	}
	if _, ok := st.(driver.StmtExecContext); !ok {
		st.Close()
		return false
	}
	r.stmt = st
	return true
}

// close closes the statement, on the connection it was prepared on.
func (r *rawStmt) close() error {
	if r.stmt == nil {
		return nil
	}
	return r.conn.Raw(func(any) error { return r.stmt.Close() })
}
