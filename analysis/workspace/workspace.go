// Package workspace keeps a discovery project in one SQLite file: every
// imported source, the conversations with their hourly sessions and
// evidence, the connections still open at the end of the last import, the
// monitored set, settings and the inventory.
//
// A discovery runs for days or weeks. Each import adds to what the workspace
// holds in a single transaction, so a crash or kill leaves either all of a
// file's contribution or none of it; importing the same content twice
// changes nothing, and a file that has grown imports only its new tail.
//
// SQLite runs in WAL mode: readers (the GUI, a listener's statistics) never
// wait for an import, and writers in one process take turns.
package workspace

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Workspace is an open workspace file. It is safe for concurrent use.
type Workspace struct {
	path     string
	db       *sql.DB
	wmu      sync.Mutex // one writer at a time in this process
	readOnly bool
	pending  *pendingFile // a new workspace not yet in place (create.go)

	lockMu      sync.Mutex // the writer lock (lock.go)
	lockF       *os.File
	holds       int    // operations holding it
	modelWriter string // "import" or "listen" while one runs
}

// pendingFile is a new workspace not yet in place (create.go).
type pendingFile struct {
	tmp     string // the file SQLite writes
	release func() // the writer lock, held until the rename
}

// DefaultPath returns the workspace used when none is named: FlowSleuth's
// directory under the user's configuration directory (XDG_CONFIG_HOME on
// Linux), file default.flowsleuth.
func DefaultPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the configuration directory: %w", err)
	}
	return filepath.Join(dir, "flowsleuth", "default.flowsleuth"), nil
}

// Open opens the workspace at path, creating it (and its directory) if it
// does not exist. A file that is not a FlowSleuth workspace is refused with
// ErrNotWorkspace and left untouched; a damaged one with ErrCorrupt.
// Creating the tables or upgrading them takes the writer lock (lock.go), so
// that two first imports at once do not both create them.
func Open(path string) (*Workspace, error) {
	if err := checkFile(path); err != nil {
		return nil, fmt.Errorf("open workspace %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open workspace %s: %w", path, err)
	}
	ws := &Workspace{path: path}
	release, err := ws.holdToCreate()
	if err != nil {
		return nil, fmt.Errorf("open workspace %s: %w", path, err)
	}
	if release != nil {
		defer release()
	}
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("open workspace %s: %w", path, err)
	}
	ws.db = db
	if err := ws.init(context.Background()); err != nil {
		db.Close()
		var se *sqlite.Error
		if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CANTOPEN {
			err = fmt.Errorf("%w: it cannot be written here (a read-only file system, or no permission on it or "+
				"its directory); the commands that only read it (flows, rules, export, check, workspace info) can open it", err)
		}
		return nil, fmt.Errorf("open workspace %s: %w", path, classify(err))
	}
	return ws, nil
}

// OpenReadOnly opens an existing workspace for reading only: what the
// commands that only read use, so that they work on a workspace they may
// not write (a read-only file system, another user's file) and never
// change it. Where SQLite cannot create the WAL's shared-memory file beside
// it (noSharedMemory), the file is read as immutable: it must not change
// meanwhile, which a file nobody may write does not, and another user's
// workspace does not while its owner's writer is stopped (a running writer
// keeps the file). A workspace whose schema is older (or not made yet: a
// first import killed at once) is brought up to date first, as a writer
// would, when it can be written; so is one a killed writer left with a hot
// rollback journal (hotJournal).
func OpenReadOnly(path string) (*Workspace, error) {
	if _, err := os.Stat(path); err != nil {
		if nyErr := NotYet(path); nyErr != nil {
			return nil, nyErr
		}
		return nil, fmt.Errorf("open workspace %s: %w", path, err)
	}
	if err := checkFile(path); err != nil {
		return nil, fmt.Errorf("open workspace %s: %w", path, err)
	}
	ws, err := openReadOnly(path)
	if errors.Is(err, errOldSchema) || hotJournal(err) {
		var w *Workspace
		if w, err = Open(path); err == nil {
			w.db.Close() // Open's workspace is never a new one (create.go)
			ws, err = openReadOnly(path)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open workspace %s: %w", path, classify(err))
	}
	return ws, nil
}

// holdToCreate takes the writer lock when no file is at the workspace's
// path yet, until release is called (nil when the file is there), so that
// SQLite does not make one while an import builds it beside (OpenNew): it
// waits up to 30 s for that file.
func (ws *Workspace) holdToCreate() (release func(), err error) {
	return ws.holdUnless(func() (bool, error) {
		_, err := os.Lstat(ws.path)
		return !errors.Is(err, os.ErrNotExist), nil
	})
}

// hotJournal reports whether err is SQLite refusing a read-only connection
// a file whose rollback journal is hot: a writer was killed inside a
// transaction in rollback-journal mode (the first import's switch of a new
// file to WAL), and only a writer may roll it back.
func hotJournal(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_READONLY_ROLLBACK
}

// errOldSchema: the workspace's schema is older than this version's.
var errOldSchema = errors.New("the workspace's schema is older than this version's: open it once with a command " +
	"that writes (import, workspace monitor) to upgrade it")

// openReadOnly opens path read-only, immutable if SQLite needs it to.
func openReadOnly(path string) (*Workspace, error) {
	var err error
	for _, mode := range []string{"mode=ro", "mode=ro&immutable=1"} {
		var db *sql.DB
		db, err = sql.Open("sqlite", "file:"+path+"?"+mode+"&_pragma=busy_timeout(30000)&_pragma=cache_size(-"+strconv.Itoa(cacheKiB)+")")
		if err != nil {
			return nil, err
		}
		ws := &Workspace{path: path, db: db, readOnly: true}
		if err = ws.checkSchema(context.Background()); err == nil {
			return ws, nil
		}
		db.Close()
		if !noSharedMemory(err) {
			return nil, err
		}
	}
	return nil, err
}

// noSharedMemory reports whether err is SQLite failing to make the WAL's
// shared-memory file: CANTOPEN on a read-only file system, and
// READONLY_DIRECTORY where this user may not write the directory (another
// user's workspace, once its writer has closed it and removed the file).
func noSharedMemory(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code()&0xff == sqlite3.SQLITE_CANTOPEN || se.Code() == sqlite3.SQLITE_READONLY_DIRECTORY)
}

// init checks the file is ours, then, holding the writer lock, sets WAL
// mode (a lasting change to the file, so only after the checks) and brings
// the schema up to date. A writer that holds the lock for long (an import)
// has brought it up to date already: init waits while the file is new.
func (ws *Workspace) init(ctx context.Context) error {
	release, err := ws.holdUnless(func() (bool, error) {
		version, err := ws.version(ctx)
		return version == len(migrations), err
	})
	if err != nil || release == nil {
		return err
	}
	defer release()
	return ws.upgrade(ctx)
}

// holdUnless takes the writer lock for a schema upgrade unless done says
// there is nothing to do (release nil), asking done again while another
// writer holds the lock (it is creating or upgrading the file), for up to
// 30 s.
func (ws *Workspace) holdUnless(done func() (bool, error)) (release func(), err error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		if ok, err := done(); ok || err != nil {
			return nil, err
		}
		release, err := ws.Hold("schema upgrade")
		if !errors.Is(err, ErrLocked) || time.Now().After(deadline) {
			return release, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// version checks the file is ours and returns its schema version.
func (ws *Workspace) version(ctx context.Context) (int, error) {
	// One statement, so one snapshot: read one by one, the three could
	// straddle another process's first migration and show its tables
	// without its application ID.
	var id, version, tables int
	err := ws.db.QueryRowContext(ctx, `SELECT (SELECT application_id FROM pragma_application_id),
		(SELECT user_version FROM pragma_user_version), (SELECT count(*) FROM sqlite_schema)`).Scan(&id, &version, &tables)
	if err != nil {
		return 0, err
	}
	if id == 0 && version == 0 && tables > 0 {
		return 0, fmt.Errorf("%w: an SQLite database with other tables", ErrNotWorkspace)
	}
	if version > len(migrations) {
		return 0, fmt.Errorf("%w (schema %d, this version knows %d)", ErrTooNew, version, len(migrations))
	}
	return version, nil
}

// Behind returns the schema version of the workspace at path and this
// version's, when the file is a workspace of an older schema that a writer
// will upgrade as it opens it (ok); callers tell the user before opening,
// since the upgrade of a large workspace takes a while (schema 5's moved
// the sample lines of a million conversations in 24 s). It reads only the
// file's SQLite header: after a writer killed between an upgrade's commit
// and its checkpoint, the header may still show the old version.
func Behind(path string) (from, to int, ok bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	h, ok := readHeader(f)
	if version := int(h.version); ok && h.appID == applicationID && version > 0 && version < len(migrations) {
		return version, len(migrations), true
	}
	return 0, 0, false
}

// checkSchema checks the file is a workspace this version reads as it is.
func (ws *Workspace) checkSchema(ctx context.Context) error {
	version, err := ws.version(ctx)
	if err == nil && version < len(migrations) {
		err = fmt.Errorf("%w (schema %d, this version's %d)", errOldSchema, version, len(migrations))
	}
	return err
}

// upgrade sets WAL mode and applies the migrations the file lacks; the
// caller holds the writer lock.
func (ws *Workspace) upgrade(ctx context.Context) error {
	version, err := ws.version(ctx)
	if err != nil {
		return err
	}
	if _, err := ws.db.ExecContext(ctx, "PRAGMA journal_mode=WAL"); err != nil {
		return err
	}
	return ws.migrate(ctx, version)
}

// migrate applies the migrations after version, each in its own transaction.
func (ws *Workspace) migrate(ctx context.Context, version int) error {
	for v := version; v < len(migrations); v++ {
		tx, err := ws.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, migrations[v])
		if step := migrationSteps[v]; err == nil && step != nil {
			err = step(ctx, tx)
		}
		if err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate to schema %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id=%d; PRAGMA user_version=%d", applicationID, v+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// classify maps SQLite's damaged-file errors to ErrCorrupt.
func classify(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
			return fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
	}
	return err
}

// write runs fn in a write transaction, holding the writer lock, one
// writer at a time in this process, and commits if fn succeeds.
func (ws *Workspace) write(ctx context.Context, fn func(*sql.Tx) error) error {
	return ws.writeAs(ctx, "write", fn)
}

// writeAs is write, naming the operation for a writer refused meanwhile.
func (ws *Workspace) writeAs(ctx context.Context, operation string, fn func(*sql.Tx) error) error {
	release, err := ws.Hold(operation)
	if err != nil {
		return err
	}
	defer release()
	return ws.transact(ctx, fn)
}

// transact runs fn in a write transaction, one writer at a time in this
// process, and commits if fn succeeds. It takes no writer lock: write and
// writeAs do, around it.
func (ws *Workspace) transact(ctx context.Context, fn func(*sql.Tx) error) error {
	ws.wmu.Lock()
	defer ws.wmu.Unlock()
	tx, err := ws.db.BeginTx(ctx, nil)
	if err != nil {
		return classify(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return classify(err)
	}
	return classify(tx.Commit())
}

// writeConn is write for fn whose statements also run on the transaction's
// connection directly (as a test does): see transactConn.
func (ws *Workspace) writeConn(ctx context.Context, fn func(*sql.Tx, *sql.Conn) error) error {
	release, err := ws.Hold("write")
	if err != nil {
		return err
	}
	defer release()
	return ws.transactConn(ctx, fn)
}

// transactConn is transact on a connection of its own, which it hands fn
// with the transaction. The transaction is not tied to ctx: database/sql
// would roll it back from another goroutine when ctx ends, and a statement
// fn then ran on the connection directly would land outside it, committed.
// fn's statements end on ctx instead, and a transaction whose ctx ended is
// rolled back once fn returns.
func (ws *Workspace) transactConn(ctx context.Context, fn func(*sql.Tx, *sql.Conn) error) error {
	return ws.writerConn(ctx, func(conn *sql.Conn) error {
		tx, err := conn.BeginTx(context.WithoutCancel(ctx), nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if err := fn(tx, conn); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		return tx.Commit()
	})
}

// writerConn runs fn on a connection of its own, holding the write mutex,
// and classifies its error.
func (ws *Workspace) writerConn(ctx context.Context, fn func(*sql.Conn) error) error {
	ws.wmu.Lock()
	defer ws.wmu.Unlock()
	conn, err := ws.db.Conn(ctx)
	if err != nil {
		return classify(err)
	}
	defer conn.Close()
	return classify(fn(conn))
}

// Path returns the workspace's file name.
func (ws *Workspace) Path() string { return ws.path }

// Check runs SQLite's integrity check and returns ErrCorrupt with the first
// problems it reports.
func (ws *Workspace) Check(ctx context.Context) error {
	rows, err := ws.db.QueryContext(ctx, "PRAGMA quick_check(5)")
	if err != nil {
		return classify(err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return classify(err)
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return classify(err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %v", ErrCorrupt, problems)
	}
	return nil
}

// UpgradeEstimate says how long upgrading a workspace of schema from takes
// on a million conversations (on the development machine), and whether the
// upgrade leaves free pages for Compact to give back: schema 5 moved every
// conversation's sample lines (24 s on wstag1m, the file twice its size
// after); schema 6 adds a table and makes the index by bytes again;
// schema 7 changes no table; schema 8 moves every conversation into blocks
// and drops their rows (wstag1m: 3.4-4.5 s with the info after it; the
// file 618 MiB after, 336 MiB compacted, against 434 MiB before).
func UpgradeEstimate(from int) (took string, frees bool) {
	switch {
	case from < 5:
		return "about half a minute", true
	case from < 8:
		return "a few seconds", true
	}
	return "a moment", false
}

// migrations[v] brings schema v to v+1. Append only; never edit a released one.
var migrations = []string{
	`CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
	CREATE TABLE sources (
		id INTEGER PRIMARY KEY,
		path TEXT NOT NULL,
		size INTEGER NOT NULL,      -- bytes on disk when last imported
		consumed INTEGER NOT NULL,  -- bytes of (decompressed) text imported, up to a line end
		gzip INTEGER NOT NULL,
		head TEXT NOT NULL,         -- hash of the first 64 KiB
		tail TEXT NOT NULL,         -- hash of the 64 KiB before size
		content TEXT NOT NULL,      -- fingerprint of the content at size
		mod_time INTEGER NOT NULL,
		first_imported INTEGER NOT NULL,
		last_imported INTEGER NOT NULL,
		imports INTEGER NOT NULL,
		stats TEXT NOT NULL         -- JSON: line counts by bucket and reason
	);
	CREATE INDEX sources_content ON sources(content);
	CREATE INDEX sources_head ON sources(head);
	CREATE TABLE malformed (
		source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
		line INTEGER NOT NULL, col INTEGER NOT NULL, reason TEXT NOT NULL, text TEXT NOT NULL,
		PRIMARY KEY (source_id, line)
	) WITHOUT ROWID;
	CREATE TABLE conversations (
		id INTEGER PRIMARY KEY,
		src BLOB NOT NULL, dst BLOB NOT NULL, proto INTEGER NOT NULL, dport INTEGER NOT NULL,
		state BLOB NOT NULL,        -- analysis.ConvState, see codec.go
		sessions INTEGER NOT NULL, bytes INTEGER NOT NULL, first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL,
		UNIQUE (src, dst, proto, dport)
	);
	CREATE INDEX conversations_bytes ON conversations(bytes DESC);
	CREATE TABLE endpoints (addr BLOB PRIMARY KEY) WITHOUT ROWID; -- learned monitored set
	CREATE TABLE rule_tags (rule TEXT PRIMARY KEY, tag TEXT NOT NULL) WITHOUT ROWID;
	CREATE TABLE tracking (id INTEGER PRIMARY KEY CHECK (id = 1), state BLOB NOT NULL);
	CREATE TABLE monitored (prefix TEXT PRIMARY KEY) WITHOUT ROWID;
	CREATE TABLE inventory (ip BLOB PRIMARY KEY, vm TEXT NOT NULL, groups TEXT NOT NULL) WITHOUT ROWID;
	CREATE TABLE inventory_imports (id INTEGER PRIMARY KEY, path TEXT NOT NULL, imported INTEGER NOT NULL, report TEXT NOT NULL);`,
	// 2: the user's edits of the synthesised rules, replayed on every synthesis.
	`CREATE TABLE rule_edits (seq INTEGER PRIMARY KEY, op TEXT NOT NULL, rule TEXT NOT NULL, arg TEXT NOT NULL,
		created INTEGER NOT NULL);`,
	// 3: a collector's session records waiting for its store (journal.go); pending: an import's
	// spilled rows, made visible (0) by its commit.
	`CREATE TABLE journal (seq INTEGER PRIMARY KEY, pending INTEGER NOT NULL, records INTEGER NOT NULL,
		batch BLOB NOT NULL);`,
	// 4: the open connections as a stream of chunks (tracking.go); the tracking row holds their header.
	`CREATE TABLE tracking_chunks (seq INTEGER PRIMARY KEY, state BLOB NOT NULL);`,
	// 5: the conversations' sample lines out of their states, into a table of their own (samples.go).
	// The conversations are copied: updated in place, their table kept its pages, each then mostly empty.
	`CREATE TABLE conversation_samples (id INTEGER PRIMARY KEY, lines BLOB NOT NULL);
	INSERT OR IGNORE INTO conversation_samples (id, lines) SELECT id, flowsleuth_split_lines(state) FROM conversations;
	CREATE TABLE conversations_split (
		id INTEGER PRIMARY KEY,
		src BLOB NOT NULL, dst BLOB NOT NULL, proto INTEGER NOT NULL, dport INTEGER NOT NULL,
		state BLOB NOT NULL,        -- analysis.ConvState without its sample lines, see codec.go
		sessions INTEGER NOT NULL, bytes INTEGER NOT NULL, first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL,
		UNIQUE (src, dst, proto, dport)
	);
	INSERT INTO conversations_split SELECT id, src, dst, proto, dport, flowsleuth_split_state(state),
		sessions, bytes, first_ns, last_ns FROM conversations ORDER BY id;
	DROP TABLE conversations;
	ALTER TABLE conversations_split RENAME TO conversations;
	CREATE INDEX conversations_bytes ON conversations(bytes DESC);`,
	// 6: the sample lines of conversations stored together, compressed in
	// blocks (blocks.go); conversation_samples keeps the others. The index
	// by bytes is made again to stay the schema's last object, which a new
	// workspace's first commit built after the rows (until schema 8).
	`CREATE TABLE sample_blocks (first INTEGER PRIMARY KEY, last INTEGER NOT NULL, lines BLOB NOT NULL);
	DROP INDEX conversations_bytes;
	CREATE INDEX conversations_bytes ON conversations(bytes DESC);`,
	// 7: sample blocks compressed with S2 (blocks.go). Nothing changes in
	// the tables; the version keeps the versions before, which read DEFLATE
	// blocks only, from a workspace that may hold the new ones.
	`SELECT 1;`,
	// 8: conversations stored in blocks (convblocks.go), filled from the
	// rows by migrationSteps[7], which then drops them.
	`CREATE TABLE conversation_blocks (
		id INTEGER PRIMARY KEY,
		src BLOB NOT NULL, dst BLOB NOT NULL, proto INTEGER NOT NULL, dport INTEGER NOT NULL, -- its first conversation's key
		n INTEGER NOT NULL,         -- conversations
		sessions INTEGER NOT NULL, bytes INTEGER NOT NULL, -- their sums
		top INTEGER NOT NULL,       -- the most bytes of one
		first_ns INTEGER NOT NULL,  -- the earliest first not 0 (0: none)
		last_ns INTEGER NOT NULL, last_id INTEGER NOT NULL,
		states BLOB NOT NULL,       -- the entries, see convblocks.go
		UNIQUE (src, dst, proto, dport)
	);
	CREATE INDEX conversation_blocks_top ON conversation_blocks(top DESC, n, sessions, first_ns, last_ns, last_id);`,
}

// migrationSteps[v], when there is one, ends migrations[v] in its
// transaction, for what SQL alone does not do; each registers itself (8:
// convblocks.go).
var migrationSteps = map[int]func(context.Context, *sql.Tx) error{}

// Hold takes the writer lock for operation (or shares it, when this
// workspace holds it already) until release is called. "import" and
// "listen" are exclusive within the process too (ErrBusy).
func (ws *Workspace) Hold(operation string) (release func(), err error) {
	ws.lockMu.Lock()
	defer ws.lockMu.Unlock()
	if ws.readOnly {
		return nil, ErrReadOnly
	}
	model := operation == "import" || operation == "listen"
	if model && ws.modelWriter != "" {
		running := map[string]string{"import": "an import is running", "listen": "the listener is running"}[ws.modelWriter]
		return nil, fmt.Errorf("%w: %s; %s must wait until it has finished", ErrBusy, running, operation)
	}
	if ws.holds == 0 {
		f, err := lockFile(ws.path, operation)
		if err != nil {
			return nil, err
		}
		ws.lockF = f
	}
	ws.holds++
	if model {
		ws.modelWriter = operation
	}
	var once bool
	return func() {
		ws.lockMu.Lock()
		defer ws.lockMu.Unlock()
		if once {
			return
		}
		once = true
		if model {
			ws.modelWriter = ""
		}
		if ws.holds--; ws.holds == 0 {
			unlockFile(ws.lockF)
			ws.lockF = nil
		}
	}, nil
}
