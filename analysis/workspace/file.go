package workspace

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync"
)

// applicationID marks FlowSleuth workspaces in the SQLite header ("FLSU").
const applicationID = 0x464C5355

// Errors of Open.
var (
	ErrNotWorkspace = errors.New("not a FlowSleuth workspace")
	ErrCorrupt      = errors.New("workspace file is damaged")
	ErrTooNew       = errors.New("workspace was written by a newer FlowSleuth")
)

// cacheKiB is the SQLite page cache of a workspace's connections, in KiB.
// A transaction keeps its dirty pages there until it spills them to the
// WAL, and a scan of the conversations (Info's sums) reads their states'
// overflow pages through it: at 64 MiB, with the allocator's slack, an
// import's commit and the Info after it each added 110-180 MB of resident
// memory on a 42k-conversation, 1.3 M-open-connection workspace. The
// operating system caches the file anyway.
const cacheKiB = 8 << 10

// execer runs a statement: a connection or a transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// smallCache gives the connection ex runs on a page cache of kib KiB, for
// work that reads or writes each page once, and returns what gives it
// every connection's (cacheKiB) back. The pragma is the connection's, not
// a transaction's: a pooled connection given back without its cache
// would answer later queries with the small one, and one given back with
// a larger one would hold more memory than the others. The restore runs
// once, on a context that outlives a cancellation of ctx.
func smallCache(ctx context.Context, ex execer, kib int) (restore func() error, err error) {
	if _, err := ex.ExecContext(ctx, fmt.Sprintf(`PRAGMA cache_size = -%d`, kib)); err != nil {
		return nil, err
	}
	return sync.OnceValue(func() error {
		_, err := ex.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA cache_size = -%d`, cacheKiB))
		return err
	}), nil
}

// dsn is the data source name of a writer's connections to the workspace
// at path.
func dsn(path string) string { return writerDSN(path, "synchronous(NORMAL)") }

// newDSN is the data source name of a new workspace's temporary file
// (create.go): its journal in memory, so that a failed transaction still
// rolls back, and no syncs (the file is synced once, before its rename).
func newDSN(tmp string) string {
	return writerDSN(tmp, "journal_mode(MEMORY)&_pragma=synchronous(OFF)")
}

// writerDSN is the data source name of a writer's connections to path,
// with the pragmas durability.
func writerDSN(path, durability string) string {
	return "file:" + path + "?_pragma=busy_timeout(30000)&_pragma=foreign_keys(1)&_pragma=" + durability +
		"&_pragma=cache_size(-" + strconv.Itoa(cacheKiB) + ")&_txlock=immediate"
}

// checkFile refuses an existing file that is not SQLite, before SQLite (which
// would happily turn an empty or foreign file into a database) touches it.
func checkFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.IsDir() {
		return fmt.Errorf("%w: it is a directory", ErrNotWorkspace)
	}
	if st.Size() == 0 {
		return nil // an empty file: becomes a workspace
	}
	h, ok := readHeader(f)
	if !ok {
		return fmt.Errorf("%w: it is not an SQLite database", ErrNotWorkspace)
	}
	if h.appID != applicationID && h.appID != 0 {
		return fmt.Errorf("%w: an SQLite database of another application (id %#x)", ErrNotWorkspace, h.appID)
	}
	return nil
}

// fileHeader is what a workspace file's SQLite header says of it.
type fileHeader struct{ version, appID uint32 }

// readHeader reads the SQLite header at the start of r: false when r does
// not start with one.
func readHeader(r io.Reader) (fileHeader, bool) {
	head := make([]byte, 100)
	if _, err := io.ReadFull(r, head); err != nil || !bytes.HasPrefix(head, []byte("SQLite format 3\x00")) {
		return fileHeader{}, false
	}
	// The user version is at offset 60 and the application ID at 68, big-endian.
	return fileHeader{version: binary.BigEndian.Uint32(head[60:]), appID: binary.BigEndian.Uint32(head[68:])}, true
}

// syncOpened syncs and closes f.
func syncOpened(f *os.File, err error) error {
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes a rename in dir durable. Windows cannot sync a directory
// (its renames are in the file system's journal): nothing to do there.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	return syncOpened(os.Open(dir))
}
