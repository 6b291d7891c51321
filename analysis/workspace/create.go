package workspace

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// A new workspace is built where nobody sees it, then put in place whole.
//
// The first import into a workspace that does not exist yet (the common
// case: `import --workspace NEW FILE`) writes a temporary file beside it,
// named as the import's other files (PATH.import-new-*), with no journal
// on disk and no syncs: the file is nobody else's, so SQLite's WAL, which
// makes a commit safe in a file others read, only doubled its writing (88
// MB into the WAL, then the same pages into the file at the checkpoint, on
// one core after the reading). Its first commit done, the file is switched
// to WAL mode, synced and renamed into place atomically (and its directory
// synced): from then on it is an ordinary workspace, and the import's
// later files commit through its WAL as before.
//
// A crash or kill before the rename leaves no workspace, and a temporary
// file the next import removes: nothing of the killed import was ever
// visible, and running it again imports the file. The import holds the
// writer lock from the creation to the rename, so two first imports do
// not both build one, and a writer opening the path meanwhile waits for the
// rename (Open). Readers see no workspace until the rename; NotYet says
// who is making it. The journal kept in memory still lets a failed
// transaction roll back.

// OpenNew opens the workspace at path for an import. When no file is there,
// the workspace is made in a temporary file beside it and put in place at
// the import's first commit (or at Close): see above. Otherwise it is Open.
func OpenNew(path string) (*Workspace, error) {
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		return Open(path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open workspace %s: %w", path, err)
	}
	ws := &Workspace{path: path}
	release, err := ws.Hold(createOperation)
	if err != nil {
		return nil, err
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		release() // made meanwhile by another process
		return Open(path)
	}
	ws.removeImportFiles() // a killed first import's
	if ws.pending, err = create(path); err != nil {
		release()
		return nil, fmt.Errorf("open workspace %s: %w", path, err)
	}
	ws.pending.release = release
	if ws.db, err = sql.Open("sqlite", newDSN(ws.pending.tmp)); err == nil {
		err = ws.migrate(context.Background(), 0)
	}
	if err != nil {
		if ws.db != nil {
			ws.db.Close()
		}
		ws.discard()
		return nil, fmt.Errorf("open workspace %s: %w", path, classify(err))
	}
	return ws, nil
}

// create makes the temporary file of a new workspace at path.
func create(path string) (*pendingFile, error) {
	// Named by the process (the writer lock keeps other imports out),
	// with the permissions SQLite gives a file it creates.
	tmp := path + ".import-new-" + strconv.Itoa(os.Getpid())
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	f.Close()
	return &pendingFile{tmp: tmp}, nil
}

// dbFile is the file SQLite writes: the temporary one of a new workspace
// until it is in place.
func (ws *Workspace) dbFile() string {
	if ws.pending != nil {
		return ws.pending.tmp
	}
	return ws.path
}

// publish puts a new workspace in place (nothing to do for one that is):
// WAL mode, the file synced, renamed to the workspace's path, the directory
// synced, and the file opened there. The caller holds the write mutex or
// is the only user of ws.
func (ws *Workspace) publish() error {
	p := ws.pending
	if p == nil {
		return nil
	}
	// The file's pages are written: their sync starts while the file is
	// switched to WAL and closed (SQLite frees its cache), and a second
	// one after that takes the few pages the switch wrote. The file is
	// closed after SQLite's: closing a descriptor of it drops the process's
	// locks on it.
	f, err := os.OpenFile(p.tmp, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("put workspace %s in place: %w", ws.path, err)
	}
	synced := make(chan error, 1)
	go func() { synced <- f.Sync() }()
	if _, err = ws.db.Exec("PRAGMA journal_mode=WAL"); err == nil {
		err = ws.db.Close()
	}
	serr := <-synced
	if err != nil {
		f.Close()
		return fmt.Errorf("put workspace %s in place: %w", ws.path, err)
	}
	if err = serr; err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if _, serr := os.Lstat(ws.path); !errors.Is(serr, os.ErrNotExist) {
			err = fmt.Errorf("%s appeared meanwhile: the import is left in %s", ws.path, p.tmp)
		}
	}
	if err == nil {
		err = os.Rename(p.tmp, ws.path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(ws.path))
	}
	ws.pending = nil
	p.release()
	if err != nil {
		return fmt.Errorf("put workspace %s in place: %w", ws.path, err)
	}
	ws.db, err = sql.Open("sqlite", dsn(ws.path))
	return err
}

// discard removes a new workspace's temporary file and releases its lock.
func (ws *Workspace) discard() {
	p := ws.pending
	ws.pending = nil
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(p.tmp + suffix)
	}
	p.release()
}

// Close closes the workspace. A new workspace no commit has put in place
// yet is put in place now, as it is (its schema, the settings written).
func (ws *Workspace) Close() error {
	if ws.pending != nil {
		if err := ws.publish(); err != nil {
			return err
		}
	}
	return ws.db.Close()
}

// widePageSize is the SQLite page size of a new workspace whose first
// commit writes much and only appends (widenPages), in bytes; SQLite's
// largest. Every workspace before and every other has 4 KiB pages.
const widePageSize = 64 << 10

// widePagesFrom is about how many bytes a new workspace's first commit
// writes, at least, for widenPages to give it widePageSize pages.
var widePagesFrom int64 = 8 << 20

// drainedWideOutside is how much memory a drained commit's model may hold
// outside the heap (its open connections' tables) for the commit to get
// wide pages (widenPages). The 108-hour span, drained for its sessions per
// hour beside a million open connections (54 MB of tables), gains no time
// with them (0.988x, 6 pairs) and peaked higher (median 183 MiB against
// 174, session 51). The million-conversation logs, which gain, keep no
// open connection. A variable for tests.
var drainedWideOutside int64 = 16 << 20

// commitBytes estimates what a commit of m writes: a conversation's row,
// key and sample lines take about 400 bytes of pages, an open connection
// about 20 (issue 14's corpora: 42,000 conversations and 1.33 M open
// connections, 44 MB; 42,000 and 157,000, 17 MB).
func commitBytes(m *analysis.Model) int64 {
	st := m.Stats()
	return int64(st.Conversations)*400 + int64(st.Open)*20
}

// widenPages gives a new workspace whose first commit is about to write
// much (widePagesFrom), all of it appended, pages of widePageSize: SQLite
// writes each page it spills with a system call of its own, and a commit
// of 44 MB made 11,000 of them (46 ms of the 0.35 s of CPU a 0.2 s commit
// took). The file holds its schema and settings only, which VACUUM copies
// in 2-4 ms with the new size; the page cache keeps its size in bytes
// (cacheKiB). A commit of drained states writes at least a drain's
// conversations (drainConversations), and gets them too, unless its model
// holds more than drainedWideOutside outside the heap. It kept
// 4 KiB pages while it inserted its runs of key order one after the other:
// at such random inserts modernc.org/sqlite, in the rollback-journal mode
// of the temporary file, held memory growing with the file, the more the
// larger the pages (a million conversations peaked at 252 and 299 MiB with
// wide pages; HISTORY.md, session 44). Merged into one order
// (mergeDrained), its inserts append: wstag1m's log imports in 0.98x of the
// time (6 pairs; CPU 0.96x), ws1m's in 1.00x (8 pairs), their peaks within
// 2 MiB (copies of both binaries, session 51). A small commit keeps 4 KiB
// pages (the smallest workspace of 64 KiB pages is a megabyte of mostly
// empty pages).
// The page size can change only here: not in WAL mode, and a workspace of
// others' making keeps what it was made with.
func (ws *Workspace) widenPages(ctx context.Context, m *analysis.Model, drained bool) error {
	if ws.pending == nil || drained && m.OutsideHeap() > drainedWideOutside || !drained && commitBytes(m) < widePagesFrom {
		return nil
	}
	// The pragma is the connection's: VACUUM runs on the same one.
	return ws.writerConn(ctx, func(conn *sql.Conn) error {
		if _, err := conn.ExecContext(ctx, `PRAGMA page_size = `+strconv.Itoa(widePageSize)); err != nil {
			return err
		}
		_, err := conn.ExecContext(ctx, `VACUUM`)
		return err
	})
}
