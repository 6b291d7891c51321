package workspace

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"modernc.org/sqlite"
)

// Records are read out of SQLite by an aggregate function, recordsFunc,
// whose arguments are views of SQLite's own memory: through rows.Next the
// driver copied every record into a new slice before Scan saw it (1.07 GB
// of garbage for a million conversations of four sample lines, a fifth of
// reading them), and each row paid database/sql's locking and conversion.
// The function copies each record once, into a reused chunk.
const recordsFunc = "flowsleuth_records"

func init() {
	sqlite.MustRegisterFunction(recordsFunc, &sqlite.FunctionImpl{
		NArgs:         3, // the reader's handle, id, record
		VolatileArgs:  true,
		MakeAggregate: func(sqlite.FunctionContext) (sqlite.AggregateFunction, error) { return &recordsAgg{}, nil },
	})
}

// recordChunk holds records read and not yet decoded, back to back.
type recordChunk struct {
	ids  []int64
	ends []int
	data []byte
}

func (c *recordChunk) record(i int) []byte {
	start := 0
	if i > 0 {
		start = c.ends[i-1]
	}
	return c.data[start:c.ends[i]]
}

// chunkBytes is how many bytes of records a chunk holds before it is sent.
const chunkBytes = 1 << 20

// recordReader hands the records of one query to a decoder, a chunk at a
// time: chunks are taken from free, filled and sent on full, until the
// rows end or stop is closed.
type recordReader struct {
	full, free chan *recordChunk
	stop       chan struct{}
}

// readers are the recordReaders of the queries running, by handle: the
// function is registered once for every connection, and its first
// argument says which reader a query fills.
var (
	readers    sync.Map // int64 → *recordReader
	readerSeqs atomic.Int64
)

// register makes r the reader of the handle it returns; the caller
// unregisters it once its query has ended.
func (r *recordReader) register() (handle int64, unregister func()) {
	handle = readerSeqs.Add(1)
	readers.Store(handle, r)
	return handle, func() { readers.Delete(handle) }
}

// errStopped ends a query whose reader was stopped.
var errStopped = errors.New("reading stopped")

// recordsAgg is one evaluation of recordsFunc.
type recordsAgg struct {
	r *recordReader
	c *recordChunk
}

// Step copies one record into the chunk (the arguments are views that die
// with the call), and sends the chunk once it is full.
func (a *recordsAgg) Step(_ *sqlite.FunctionContext, args []driver.Value) error {
	if a.r == nil {
		h, _ := args[0].(int64)
		v, ok := readers.Load(h)
		if !ok {
			return fmt.Errorf("%s: no reader %d", recordsFunc, h)
		}
		a.r = v.(*recordReader)
	}
	if a.c == nil {
		select {
		case a.c = <-a.r.free:
		case <-a.r.stop:
			return errStopped
		}
		a.c.ids, a.c.ends, a.c.data = a.c.ids[:0], a.c.ends[:0], a.c.data[:0]
	}
	id, _ := args[1].(int64)
	rec, _ := args[2].([]byte)
	c := a.c
	c.ids = append(c.ids, id)
	c.data = append(c.data, rec...)
	c.ends = append(c.ends, len(c.data))
	if len(c.data) < chunkBytes {
		return nil
	}
	a.c = nil
	return a.send(c)
}

func (a *recordsAgg) send(c *recordChunk) error {
	select {
	case a.r.full <- c:
		return nil
	case <-a.r.stop:
		return errStopped
	}
}

// WindowInverse is never called: recordsFunc is no window function.
func (a *recordsAgg) WindowInverse(*sqlite.FunctionContext, []driver.Value) error {
	return errors.New(recordsFunc + " is no window function")
}

// WindowValue is the function's result: the number of records is of no use.
func (a *recordsAgg) WindowValue(*sqlite.FunctionContext) (driver.Value, error) { return nil, nil }

// Final sends the last chunk.
func (a *recordsAgg) Final(*sqlite.FunctionContext) {
	if a.c != nil && len(a.c.ids) > 0 {
		a.send(a.c)
	}
	a.c = nil
}

// eachRecord hands fn the id and the record (a blob) of every row query
// returns, as columns id and state, in order: SQLite reads them on another
// goroutine (recordsFunc) while fn runs on this one, a chunk at a time. fn
// must not keep the record. An error of fn stops the query and is returned.
func eachRecord(ctx context.Context, conn *sql.Conn, query string, args []any, fn func(id int64, rec []byte) error) error {
	r := &recordReader{full: make(chan *recordChunk, 2), free: make(chan *recordChunk, 3), stop: make(chan struct{})}
	for range cap(r.free) {
		r.free <- &recordChunk{}
	}
	handle, unregister := r.register()
	defer unregister()
	readErr := make(chan error, 1)
	go func() {
		defer close(r.full)
		var none any
		q := `SELECT ` + recordsFunc + `(?, id, state) FROM (` + query + `)`
		readErr <- classify(conn.QueryRowContext(ctx, q, append([]any{handle}, args...)...).Scan(&none))
	}()
	var fnErr error
	for c := range r.full {
		for i, id := range c.ids {
			if fnErr != nil {
				break
			}
			if fnErr = fn(id, c.record(i)); fnErr != nil {
				close(r.stop)
			}
		}
		r.free <- c
	}
	if err := <-readErr; fnErr == nil {
		fnErr = err
	}
	return fnErr
}
