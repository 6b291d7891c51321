package workspace

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// Outcome says what an import did with a file.
type Outcome string

// Outcomes.
const (
	Imported Outcome = "imported"          // read in full
	Tail     Outcome = "new tail imported" // grown since the last import: read from where it stopped
	Already  Outcome = "already imported"  // the same content is in the workspace: nothing read
)

// FileResult is what importing one file did.
type FileResult struct {
	analysis.FileResult
	Outcome  Outcome
	From     int64  // byte offset the read started at (Tail)
	SameAs   string // the source already holding this content (Already)
	Sessions int64  // sessions this import added
	Added    Counts // what its commit added to the workspace's counts
}

// ImportOptions configure Import.
type ImportOptions struct {
	Parse    []ingest.Option
	Model    analysis.Options
	Progress func(analysis.Progress)
	// Workers is how many goroutines add events to the model (default
	// GOMAXPROCS).
	Workers int
	// Procs is the GOMAXPROCS while a file's lines are read (and the open
	// connections before them restored), not while they are committed
	// (analysis.RaiseProcs; 0: the process's own), for a reader with the
	// machine to itself (analysis.ReadProcs).
	Procs int
	// Unauthenticated, when set, says which files hold lines received over
	// UDP (a listener's archive segments with a listen.UDPMarker): their
	// events count as unauthenticated (analysis.OriginUnauthenticated).
	Unauthenticated func(file string) bool
	// Counts, when set, is set to the workspace's counts after the import
	// (also after an error, unless the import could not take the writer
	// lock): those before it, counted while it holds the lock (a pass over
	// the conversations, none when there are none), plus what its commits
	// added. Counting them afterwards would read every conversation again.
	Counts *Counts
}

func (o *ImportOptions) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// Import reads files into the workspace, one transaction per file, holding
// the writer lock (lock.go) throughout. A file
// whose content is already there is skipped; a file that has grown since its
// import is read from where that import stopped; a last line without newline
// is left for the next import. Open connections carry over from file to file
// and from import to import; files are read in the order of their first
// events (analysis.InTimeOrder), so that they carry over forwards.
func (ws *Workspace) Import(ctx context.Context, files []string, o ImportOptions) ([]FileResult, error) {
	release, err := ws.Hold("import")
	if err != nil {
		return nil, err
	}
	defer release()
	if o.Counts == nil {
		return ws.importFiles(ctx, files, o)
	}
	if *o.Counts, err = ws.Counts(ctx); err != nil {
		return nil, err
	}
	res, err := ws.importFiles(ctx, files, o)
	for _, r := range res {
		o.Counts.Add(r.Added)
	}
	return res, err
}

// importFiles is Import; the caller holds the writer lock. The files an
// earlier import left are removed first, even when every file turns out to
// be imported already and no drain file is made.
func (ws *Workspace) importFiles(ctx context.Context, files []string, o ImportOptions) ([]FileResult, error) {
	ws.removeImportFiles()
	files = analysis.InTimeOrder(files, o.Parse...)
	var out []FileResult
	for i, name := range files {
		res, err := ws.importFile(ctx, name, o, analysis.Progress{File: name, FileIndex: i, Files: len(files)})
		if err != nil {
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}

func (ws *Workspace) importFile(ctx context.Context, name string, o ImportOptions, p analysis.Progress) (FileResult, error) {
	res, redo, err := ws.importText(ctx, name, o, p, -1)
	if err != nil || redo < 0 {
		return res, err
	}
	// A damaged gzip member gave text that its check then refused, and the
	// model read it: start again, the text ending where the members that
	// checked end. Standard input cannot be read again: nothing of it is kept.
	damage := &ingest.GzipDamage{Name: name, Verified: redo, Err: res.Err}
	if name == "-" {
		res.Stats, res.Sessions = ingest.Stats{}, 0
		damage.Lost = true
		res.Err = damage
		return res, nil
	}
	res, _, err = ws.importText(ctx, name, o, p, redo)
	if err == nil {
		res.Err = damage
	}
	return res, err
}

// importText imports the text of name up to limit (-1: all). When a damaged
// gzip member is found after text it gave was read, it commits nothing and
// returns, in redo, how much text the members before it hold.
func (ws *Workspace) importText(ctx context.Context, name string, o ImportOptions, p analysis.Progress,
	limit int64) (res FileResult, redo int64, err error) {
	res = FileResult{Outcome: Imported}
	res.Name = name
	src, err := openSource(ctx, name, limit)
	if err != nil {
		return res, -1, err
	}
	defer src.close()
	res.Size, res.Gzip = src.in.Size, src.in.Gzip
	p.Total = src.in.Size
	stop := analysis.Watch(src.in, o.Progress, p)
	defer stop()
	plan, prev, err := ws.plan(ctx, src)
	if err != nil {
		if v, derr := src.in.Damage(); derr != nil {
			res.Err = derr
			return res, v, nil
		}
		return res, -1, fmt.Errorf("import %s: %w", name, err)
	}
	switch plan {
	case planSkip:
		res.Outcome, res.SameAs = Already, prev.path
		return res, -1, nil
	case planTail:
		res.Outcome, res.From = Tail, prev.consumed
	}
	return ws.read(ctx, src, plan, prev, o, res)
}

// read parses the text of src from res.From on and commits it.
func (ws *Workspace) read(ctx context.Context, src *source, plan planKind, prev sourceRow,
	o ImportOptions, res FileResult) (FileResult, int64, error) {
	name := src.name
	drained := ws.newDrainFile()
	defer drained.close()
	mo := o.Model
	var err error
	if mo.SampleFile, err = drained.sampleFile(); err != nil {
		return res, -1, err
	}
	if mo.Sated, err = ws.satedKeys(ctx, &mo, inputBytes(src.in, res.From)); err != nil {
		return res, -1, err
	}
	// The open connections are restored with the lines' GOMAXPROCS too: one
	// goroutine decodes them, another places them (next day: 0.98x, 22 pairs).
	restoreProcs := analysis.RaiseProcs(o.Procs)
	defer restoreProcs() // after a panic; once only
	m, sp, err := ws.continued(ctx, mo, func(m *analysis.Model) { reserve(m, src.in, res.From) })
	if err != nil {
		return res, -1, err
	}
	opts := append([]ingest.Option{ingest.WithReferenceTime(src.in.ReferenceTime()), ingest.WithHoldPartialLine(),
		analysis.ShardOption(), ingest.WithFlows()}, o.Parse...)
	start := time.Now()
	udp := o.Unauthenticated != nil && o.Unauthenticated(name)
	defer analysis.LowerGC(readGCPercent)()
	if testHookProcs != nil {
		testHookProcs("read")
	}
	f := &feeder{ctx: ctx, m: m, pipe: m.Pipeline(o.workers()), drained: drained, sp: sp, udp: udp}
	res.Stats, res.Err = ingest.Read(ctx, src.text, name, f.add, opts...)
	f.pipe.Close()
	restoreProcs()
	res.Elapsed = time.Since(start)
	if ctx.Err() != nil {
		return res, -1, fmt.Errorf("import %s: %w", name, ctx.Err())
	}
	end := res.From + res.Stats.Bytes + res.Stats.Pending
	res.Trailing = src.in.Trailing()
	if verified, derr := src.in.Damage(); derr != nil {
		res.Err = &ingest.GzipDamage{Name: name, Verified: verified, Err: derr}
		if end > verified {
			res.Err = derr
			return res, verified, nil
		}
	}
	res.Sessions = m.Stats().Sessions
	row := prev
	if plan != planTail {
		row = sourceRow{}
	}
	row.path = name
	if row.size, row.head, row.tail, err = src.textPrint(end); err != nil {
		return res, -1, fmt.Errorf("import %s: %w", name, err)
	}
	lineBase := row.stats.Lines
	row.consumed = res.From + res.Stats.Bytes
	row.stats.add(&res.Stats)
	var token int64
	if sp != nil {
		token = sp.token
	}
	if res.Added, err = ws.commit(ctx, m, drained, row, src.content(), src.in, &res.Stats, lineBase, token); err != nil {
		return res, -1, fmt.Errorf("import %s: %w", name, err)
	}
	return res, -1, nil
}

// feeder hands an import's batches to its model's pipeline and, between
// them, drains the model when it holds enough conversations, and spills
// its sessions' records when the workspace is attached to a store.
type feeder struct {
	ctx     context.Context
	m       *analysis.Model
	pipe    *analysis.Pipeline
	drained *drainFile
	sp      *spiller
	udp     bool // the lines came unauthenticated
	room    int  // lines the model may take before it is looked at again
}

func (f *feeder) add(b *ingest.Batch) error {
	if f.udp {
		for i := range b.Flows {
			b.Flows[i].Bits |= ingest.FlowUnauthenticated
		}
	}
	lines := len(b.Flows) // b is the pipeline's once handed over
	f.pipe.AddFlows(b.Flows, b.Names, b.Data, b.Shards, b.Keep())
	// A line adds at most one conversation: until room lines have come,
	// the model cannot hold enough to drain, and the pipeline goes on (a
	// Parallel, waiting for every batch, took up to 6% more time). Closed
	// sessions' records come in bursts (a sweep): looked at after every
	// batch.
	if f.room -= lines; f.room > 0 && f.sp == nil {
		return nil
	}
	return f.pipe.Quiesce(func() error {
		var err error
		if f.room, err = f.drained.maybe(f.m); err != nil || f.sp == nil {
			return err
		}
		return f.sp.spill(f.ctx, f.m)
	})
}

// reserve sizes m's open-connection tables for the text in gives from
// byte from on (a tail: what follows; a gzip's offsets are in its text, not
// its file).
func reserve(m *analysis.Model, in *ingest.Input, from int64) {
	m.ReserveFor(inputBytes(in, from), in.Gzip)
}

// inputBytes is what is left to read of in from byte from on (-1: unknown;
// a gzip's: its compressed size).
func inputBytes(in *ingest.Input, from int64) int64 {
	size := in.Size
	if !in.Gzip && size >= 0 {
		size -= from
	}
	return size
}

// An import into a workspace of satedMax conversations at most, whose
// input has satedBytes bytes a stored conversation at least, is told which
// stored conversations hold as many sample lines as a merge keeps
// (analysis.Options.Sated): the lines it would take of them, keep in its
// sample file and read back at the commit are thrown away by the merge.
// The next day's import: 0.95x of the wall time on both Nutanix corpora
// (10 pairs each), 0.97x on NSX (16 pairs), 4-5% less CPU. The keys are
// read from the blocks' entries (a bit each): 7 ms for 42,000, and a map
// of about 80 bytes a key.
const (
	satedMax   = 200_000
	satedBytes = 64
)

// satedFound, when set, is told how many sated conversations satedKeys
// found (for tests).
var satedFound func(n int)

// satedKeys returns what analysis.Options.Sated reports for an import of
// about size bytes with options o into ws, or nil when it reports nothing:
// a new or large workspace, a small input, a workspace whose session
// records go to a store (they keep their lines), other than default
// sample counts.
func (ws *Workspace) satedKeys(ctx context.Context, o *analysis.Options, size int64) (func(analysis.Key) bool, error) {
	if o.Records || (o.Samples != 0 && o.Samples != analysis.DefaultSamples) || o.Sated != nil {
		return o.Sated, nil
	}
	if ok, err := ws.satedWorth(ctx, size); !ok || err != nil {
		return nil, err
	}
	sated, err := ws.readSated(ctx)
	if err != nil || len(sated) == 0 {
		return nil, err
	}
	return func(k analysis.Key) bool { _, ok := sated[k]; return ok }, nil
}

// satedWorth reports whether an import of size bytes into ws is told its
// sated conversations (satedMax, satedBytes), in a workspace whose session
// records do not go to a store.
func (ws *Workspace) satedWorth(ctx context.Context, size int64) (bool, error) {
	n, err := storedConversations(ctx, ws.db)
	if err != nil || n == 0 || n > satedMax || size < int64(n)*satedBytes {
		return false, classify(err)
	}
	journaled, err := ws.Journaled(ctx)
	return !journaled, err
}

// readSated returns the keys of the stored conversations marked sated.
func (ws *Workspace) readSated(ctx context.Context) (map[analysis.Key]struct{}, error) {
	conn, done, err := ws.lean(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	sated := map[analysis.Key]struct{}{}
	err = eachEntry(ctx, conn, "", nil, func(e *convEntry) error {
		if !e.sated {
			return nil
		}
		k, err := recordKey(e.rec)
		if err != nil {
			return fmt.Errorf("%w: conversation %d: %v", ErrCorrupt, e.id, err)
		}
		sated[k] = struct{}{}
		return nil
	})
	if satedFound != nil {
		satedFound(len(sated))
	}
	return sated, err
}

// continued returns a model continuing the workspace's open connections
// (Continue) and, when the workspace is attached to a store, the spiller of
// its session records.
func (ws *Workspace) continued(ctx context.Context, o analysis.Options, reserve func(*analysis.Model)) (*analysis.Model, *spiller, error) {
	m, err := ws.continueSized(ctx, o, reserve)
	if err != nil {
		return nil, nil, err
	}
	journaled, err := ws.Journaled(ctx)
	if err != nil || !journaled {
		return m, nil, err
	}
	sp, err := ws.newSpiller(ctx)
	return m, sp, err
}

// commit writes an import's contribution in one transaction: the states it
// drained (d, nil for none) and its model's, its open connections
// (storeModel), with its session records when
// the workspace is attached to a store (journal; token marks the rows the
// import spilled). It returns what it added to the workspace's counts.
func (ws *Workspace) commit(ctx context.Context, m *analysis.Model, d *drainFile, row sourceRow, content string,
	in *ingest.Input, st *ingest.Stats, lineBase, token int64) (Counts, error) {
	if testHookProcs != nil {
		testHookProcs("commit")
	}
	// The commit's garbage (decoded and re-encoded states) is collected
	// early: without this, the commit's peak was the parse's plus 180 MB.
	// The model's garbage is not returned to the system first
	// (debug.FreeOSMemory): the commit reuses that memory. Returning it cost
	// the commit a forced collection and the page faults of taking it back,
	// a tenth of its time on NSX lines; keeping it costs 0-5 MB at the peak.
	defer analysis.LowerGC(commitGC(d.drained(), m.OutsideHeap(), liveHeap()))()
	if err := ws.widenPages(ctx, m, d.drained()); err != nil {
		return Counts{}, err
	}
	defer ws.startWriteback()()
	var added Counts
	err := ws.writeConn(ctx, func(tx *sql.Tx, conn *sql.Conn) error {
		var err error
		if added, err = storeModel(ctx, tx, ws.db, m, d, ws.pending != nil); err != nil {
			return err
		}
		if err := journal(ctx, tx, m, token); err != nil {
			return err
		}
		for rule, tag := range m.RuleTags() {
			if _, err := tx.ExecContext(ctx, `INSERT INTO rule_tags (rule, tag) VALUES (?, ?)
				ON CONFLICT (rule) DO UPDATE SET tag = excluded.tag`, rule, tag); err != nil {
				return err
			}
		}
		id, err := saveSource(ctx, tx, row, content, in)
		if err != nil {
			return err
		}
		if row.id == 0 {
			added.Sources = 1
		}
		for _, pe := range st.MalformedSamples {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO malformed (source_id, line, col, reason, text)
				VALUES (?, ?, ?, ?, ?)`, id, lineBase+pe.Line, pe.Column, pe.Err.Error(), pe.Text); err != nil {
				return err
			}
		}
		failpoint("commit") // everything written, nothing committed yet
		return nil
	})
	if err != nil {
		return Counts{}, err
	}
	// A new workspace is put in place with its first file (create.go).
	return added, ws.publish()
}

// The garbage collector's target percentages (analysis.LowerGC) while an
// import reads, and while it commits (the least, commitGC). While it
// reads, the heap is mostly the model's conversations and the parse's
// short-lived batches: at the default 100 the heap's peak was twice the
// live heap, at 50 a collection costs 1% more CPU and the peak 36 MB less
// (2 M sessions, 42k conversations).
const (
	readGCPercent   = 50
	commitGCPercent = 20
)

// commitBudget is what a commit's heap goal and its model's memory outside
// the heap may come to before commitGC holds the heap's growth at
// commitGCPercent. The Nutanix corpora keep a million open connections
// (51 MiB of tables) and about 50 MiB of live heap: they are held at 20,
// their peaks 170-180 MiB with the rest of the process (the binary,
// SQLite's pages, the runtime's own). The NSX corpus keeps 2-7 MiB of
// tables beside the same heap: its commit may let the heap grow by half.
const commitBudget = 96 << 20

// commitGC returns the collector's target percentage while an import
// commits, given whether it drained, the bytes its model holds outside the
// heap and the live heap: as much as keeps the heap's goal and the memory
// outside it within commitBudget, from commitGCPercent up to readGCPercent
// (the read's, still asked for). An import that drained commits at
// commitGCPercent: its commit reads the drained states back, and their
// garbage has nothing to do with the heap the model left (a million
// conversations, wstag1m: a peak of 191 MiB at 50, 157 at 20). At 20 the
// collector ran 4 times in the 0.12 s commit of the NSX corpus and 6 in its
// next day's 0.26 s; at 50 the next day's import took 0.955x the time (12
// pairs) for a peak 12 MiB higher, 125 MiB; a new workspace's, 1.014x (12
// pairs, the gain of 5-10 ms lost in the noise).
func commitGC(drained bool, outside, live int64) int {
	if drained || live <= 0 {
		return commitGCPercent
	}
	room := (commitBudget - outside - live) * 100 / live
	return int(min(max(room, commitGCPercent), readGCPercent))
}

// liveHeap returns the bytes of the heap the last collection found live
// (0 when the runtime does not say).
func liveHeap() int64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}

// testHookProcs, when set, is called as an import's read starts ("read")
// and as its commit does ("commit").
var testHookProcs func(phase string)

// commits counts this process's import commits, for failpoint.
var commits atomic.Int64

// failpoint kills the process with SIGKILL just before its Nth commit when
// FLOWSLEUTH_FAILPOINT is "commit:N": the crash tests' way to stop an import
// at the worst moment, with the transaction written but not committed.
func failpoint(name string) {
	spec, ok := os.LookupEnv("FLOWSLEUTH_FAILPOINT")
	if !ok {
		return
	}
	n := commits.Add(1)
	if spec == fmt.Sprintf("%s:%d", name, n) {
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			p.Kill()
			select {} // the signal is on its way
		}
	}
}

// saveSource writes row: its text's size and hashes, content the
// fingerprint of its bytes on disk (content.go).
func saveSource(ctx context.Context, tx *sql.Tx, row sourceRow, content string, in *ingest.Input) (int64, error) {
	stats, err := json.Marshal(row.stats)
	if err != nil {
		return 0, err
	}
	now := time.Now().Unix()
	mod := in.ModTime.Unix()
	if in.ModTime.IsZero() {
		mod = 0
	}
	if row.id != 0 {
		_, err := tx.ExecContext(ctx, `UPDATE sources SET size = ?, consumed = ?, head = ?, tail = ?, content = ?,
			mod_time = ?, last_imported = ?, imports = imports + 1, stats = ? WHERE id = ?`,
			row.size, row.consumed, row.head, row.tail, content, mod, now, string(stats), row.id)
		return row.id, err
	}
	r, err := tx.ExecContext(ctx, `INSERT INTO sources (path, size, consumed, gzip, head, tail, content, mod_time,
		first_imported, last_imported, imports, stats) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)`,
		row.path, row.size, row.consumed, in.Gzip, row.head, row.tail, content, mod, now, now, string(stats))
	if err != nil {
		return 0, err
	}
	return r.LastInsertId()
}
