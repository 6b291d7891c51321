package workspace

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// drainConversations is how many conversations an import's model holds
// before it hands them to a drain file (Model.Drain): the import's memory
// is bounded by it, not by the conversations of its input. After a drain
// the model holds those of its open connections; the next drain waits for
// twice as many, so that a model whose conversations all stay open is not
// drained over and over.
var drainConversations = 50_000

// drainHours is how many sessions-per-hour entries (Model.HeldHours) an
// import's model holds before it drains too, whatever its conversations:
// they grow with the hours the input spans. A file of 6 M sessions of
// 42,000 conversations over 108 hours (4.75 GB) held 3.3 M entries at its
// end, and a new workspace's import of it peaked at 207 MiB; draining at
// 1.5 M, 177–181 MiB (medians of 6 runs), at 2 M 192 MiB. Each drain costs
// that import time (6.0 s against 4.6 s undrained): the commit merges the
// states drained into those stored. The corpora of make bench-ingest (36
// hours) hold 1.1 M and do not drain.
var drainHours = 1_500_000

// onDrain, when set (by tests), is told how many conversations the model
// held at each drain.
var onDrain func(held int)

// drainFile holds the conversation states an import handed over before its
// commit (each with where its sample lines are in the model's sample file,
// not the lines), which merges them into the workspace in the same
// transaction as the rest: until then they are in no table, so an import
// stopped before its commit leaves the workspace as it was. The file is
// next to the workspace, named after it with a ".import-" suffix; a
// crashed import's file is removed by the next import.
type drainFile struct {
	dir     string
	pattern string
	samples *os.File // the model's sample lines (analysis.Options.SampleFile)
	f       *os.File
	w       *bufio.Writer
	records int
	runs    []drainRun // one per drain
	written int64      // bytes written, buffered ones included
	next    int        // the held conversations at which to drain
}

// drainRun is where a drain's records are in the file: each drain writes
// one run, in key order (mergeDrained reads them).
type drainRun struct {
	off     int64 // its first record's offset
	records int
}

// newDrainFile removes the drain files earlier imports left; the file is
// made at the first drain.
func (ws *Workspace) newDrainFile() *drainFile {
	ws.removeImportFiles()
	return &drainFile{dir: filepath.Dir(ws.path), pattern: importFilePattern(ws.path), next: drainConversations}
}

// removeImportFiles removes the drain and sample files earlier imports left:
// a crash before the commit, or a kill between the commit and their
// removal; and a killed first import's new workspace (create.go), not this
// one's. The caller holds the writer lock, so no import is using them.
func (ws *Workspace) removeImportFiles() {
	old, _ := filepath.Glob(filepath.Join(filepath.Dir(ws.path), importFilePattern(ws.path)))
	for _, name := range old {
		if ws.pending == nil || strings.TrimSuffix(strings.TrimSuffix(name, "-shm"), "-wal") != ws.pending.tmp {
			os.Remove(name)
		}
	}
}

// importFilePattern names an import's files after the workspace at path.
func importFilePattern(path string) string { return filepath.Base(path) + ".import-*" }

// sampleFile makes the file that holds the model's sample lines until the
// commit has read them, named as the drain file.
func (d *drainFile) sampleFile() (*os.File, error) {
	f, err := os.CreateTemp(d.dir, d.pattern)
	if err != nil {
		return nil, fmt.Errorf("sample lines: %w", err)
	}
	d.samples = f
	return f, nil
}

// drained reports whether d (nil: none) holds states the model handed over
// before the commit.
func (d *drainFile) drained() bool { return d != nil && d.records > 0 }

// close removes the files.
func (d *drainFile) close() {
	for _, f := range []*os.File{d.f, d.samples} {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}
}

// maybe drains m into the file when it holds enough conversations or
// sessions-per-hour entries, and returns how many more lines m may take
// before it is looked at again.
func (d *drainFile) maybe(m *analysis.Model) (int, error) {
	held, hours := m.Held(), m.HeldHours()
	if held < d.next && hours < drainHours {
		// A line adds at most one conversation and one hour's entry.
		return min(d.next-held, drainHours-hours), nil
	}
	if onDrain != nil {
		onDrain(held)
	}
	if d.f == nil {
		f, err := os.CreateTemp(d.dir, d.pattern)
		if err != nil {
			return 0, fmt.Errorf("drain file: %w", err)
		}
		d.f, d.w = f, bufio.NewWriterSize(f, 1<<20)
	}
	// The sample lines stay in the model's sample file, which lives until
	// the commit: read back, written here and read again, the lines of a
	// million conversations of four lines took half the drains' time and
	// most of an import's system calls.
	d.runs = append(d.runs, drainRun{off: d.written})
	run := &d.runs[len(d.runs)-1]
	err := m.DrainEncoded(appendDrained, func(b []byte, states int) error {
		run.records += states
		d.records += states
		d.written += int64(len(b))
		_, err := d.w.Write(b)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("drain file: %w", err)
	}
	held = m.Held()
	d.next = max(drainConversations, 2*held)
	return min(d.next-held, drainHours-m.HeldHours()), nil
}

// appendDrained appends to b the record of a drained state st, whose
// sample lines are at refs in the model's sample file: the state's length
// (4 bytes, little-endian: written before the state is encoded, a uvarint
// would move most states to make room), the state, where its lines are.
func appendDrained(b []byte, st *analysis.ConvState, refs analysis.SampleRefs, _ bool) []byte {
	n := len(b)
	b = encodeState(append(b, 0, 0, 0, 0), st)
	binary.LittleEndian.PutUint32(b[n:], uint32(len(b)-n-4))
	return analysis.AppendSampleRefs(b, refs)
}

// drainBatch is how many records each reads before it reads their sample
// lines back from the model's sample file, in one pass.
const drainBatch = 256

// readDrained reads a record's state, appended to data, and where its
// sample lines are.
func readDrained(r *bufio.Reader, data []byte) ([]byte, analysis.SampleRefs, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return data, nil, err
	}
	head, n := binary.LittleEndian.Uint32(size[:]), len(data)
	data = slices.Grow(data, int(head))[:n+int(head)]
	if _, err := io.ReadFull(r, data[n:]); err != nil {
		return data, nil, err
	}
	refs, err := analysis.ReadSampleRefs(r)
	return data, refs, err
}
