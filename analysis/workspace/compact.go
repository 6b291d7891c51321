package workspace

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// Space is how a workspace file's pages are used.
type Space struct {
	FileBytes int64 // the database file (not its WAL)
	FreeBytes int64 // pages no table uses: what Compact gives back
	PageBytes int64
}

// Space returns how the workspace file's pages are used.
func (ws *Workspace) Space(ctx context.Context) (Space, error) {
	var pages, free, size int64
	err := ws.db.QueryRowContext(ctx, `SELECT (SELECT page_count FROM pragma_page_count),
		(SELECT freelist_count FROM pragma_freelist_count), (SELECT page_size FROM pragma_page_size)`).Scan(
		&pages, &free, &size)
	if err != nil {
		return Space{}, classify(err)
	}
	return Space{FileBytes: pages * size, FreeBytes: free * size, PageBytes: size}, nil
}

// Compaction is what Compact did.
type Compaction struct {
	Before, After int64 // the database file's bytes
	Took          time.Duration
}

// CompactProgress is told, while Compact runs, the bytes copied so far of
// total: the pages in use are copied twice, out to a compact copy and back.
type CompactProgress func(done, total int64)

// compactSteps is how many pages a step of the copy back writes between
// progress reports and cancellation checks: 4 MiB of 4 KiB pages (a
// variable for the tests).
var compactSteps int32 = 1024

// Compact gives the workspace file's free pages back to the file system.
// Pages are left free when rows go (a schema upgrade that moves a table,
// a conversation forgotten, a source removed) and later imports reuse them,
// so the file never shrinks by itself.
//
// It holds the writer lock throughout. The pages in use are copied in
// order to a compact file beside the workspace (PATH.compact-PID), with
// SQLite's VACUUM INTO, and copied back into the workspace in one
// transaction through the WAL (SQLite's backup API), which the checkpoint
// after it then writes to the file and cuts it to its new length. Readers
// meanwhile read the workspace as it was until the copy back commits. A
// kill leaves the workspace as it was, or compacted, and perhaps the
// compact file, which the next Compact removes; so does a cancelled ctx.
// It needs free disk space for the copy beside the workspace and as much
// again in its WAL.
func (ws *Workspace) Compact(ctx context.Context, progress CompactProgress) (Compaction, error) {
	start := time.Now()
	release, err := ws.Hold("compact")
	if err != nil {
		return Compaction{}, err
	}
	defer release()
	ws.wmu.Lock()
	defer ws.wmu.Unlock()
	before, err := ws.Space(ctx)
	if err != nil {
		return Compaction{}, err
	}
	removeCompactFiles(ws.path) // a killed Compact's: the lock is ours
	if before.FreeBytes == 0 {
		return Compaction{Before: before.FileBytes, After: before.FileBytes, Took: time.Since(start)}, nil
	}
	if progress == nil {
		progress = func(int64, int64) {}
	}
	used := before.FileBytes - before.FreeBytes
	tmp := ws.path + ".compact-" + strconv.Itoa(os.Getpid())
	defer os.Remove(tmp)
	if err := ws.compactCopy(ctx, tmp, func(done int64) { progress(min(done, used), 2*used) }); err != nil {
		return Compaction{}, fmt.Errorf("compact workspace %s: %w", ws.path, compactError(err, ws.path))
	}
	// The copy holds fewer pages than were in use (VACUUM packs them):
	// the copy back counts for used bytes in proportion.
	restored := func(pages, of int64) { progress(used+used*pages/max(of, 1), 2*used) }
	if err := ws.restore(ctx, tmp, restored); err != nil {
		return Compaction{}, fmt.Errorf("compact workspace %s: %w", ws.path, compactError(err, ws.path))
	}
	os.Remove(tmp)
	// The copy back is in the WAL: the checkpoint writes it to the file
	// and cuts the file to its new length. Readers of the old pages keep it
	// from finishing; the next checkpoint after they are done does. The
	// copy back has committed: the checkpoint is not cancelled.
	if _, err := ws.db.ExecContext(context.WithoutCancel(ctx), "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return Compaction{}, fmt.Errorf("compact workspace %s: %w", ws.path, classify(err))
	}
	after := before.FileBytes
	if st, err := os.Stat(ws.path); err == nil {
		after = st.Size()
	}
	return Compaction{Before: before.FileBytes, After: after, Took: time.Since(start)}, nil
}

// compactCopy writes the workspace's pages in use to tmp, telling done the
// bytes written so far.
func (ws *Workspace) compactCopy(ctx context.Context, tmp string, done func(int64)) error {
	stop := analysis.Every(200*time.Millisecond, func(stopping bool) {
		if stopping {
			return
		}
		if st, err := os.Stat(tmp); err == nil {
			done(st.Size())
		}
	})
	_, err := ws.db.ExecContext(ctx, "VACUUM INTO ?", tmp)
	stop()
	return classify(err)
}

// restorer is the part of modernc.org/sqlite's connection that copies
// another database into it.
type restorer interface {
	NewRestore(srcURI string) (*sqlite.Backup, error)
}

// restore copies the database in tmp into the workspace, in one
// transaction, telling done the pages copied so far and how many it holds.
func (ws *Workspace) restore(ctx context.Context, tmp string, done func(pages, of int64)) error {
	conn, err := ws.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		r, ok := dc.(restorer)
		if !ok {
			return fmt.Errorf("the SQLite driver cannot copy a database (%T)", dc)
		}
		b, err := r.NewRestore("file:" + tmp + "?mode=ro")
		if err != nil {
			return err
		}
		for more := true; more; {
			if err := ctx.Err(); err != nil {
				b.Finish() // rolls the copy back
				return err
			}
			if more, err = b.Step(compactSteps); err != nil {
				b.Finish()
				return err
			}
			done(int64(b.PageCount()-b.Remaining()), int64(b.PageCount()))
		}
		return b.Finish()
	})
}

// removeCompactFiles removes what a killed Compact of the workspace at path
// left beside it.
func removeCompactFiles(path string) {
	left, _ := filepath.Glob(path + ".compact-*")
	for _, f := range left {
		os.Remove(f)
	}
}

// compactError explains a full disk, Compact's most likely failure.
func compactError(err error, path string) error {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_FULL {
		return fmt.Errorf("%w: the disk of %s is full: compacting needs free space for a copy of the "+
			"workspace's data beside it and as much again for its WAL; the workspace is unchanged",
			err, filepath.Dir(path))
	}
	return err
}
