package workspace

import (
	"bufio"
	"fmt"
	"io"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// A drain file holds one run of records per drain, each run in the order
// of the workspace's key index (analysis.SortKey: DrainRefs hands its
// states so, as the model's EachState does). A conversation that open
// connections kept through drains, or that came back, has a record in
// several runs and a state in the model. Handed over one run after the
// other, each such record after the first met its conversation's row
// already inserted, and the writer looked it up, decoded, merged and
// rewrote it. Merged instead as they are read, the runs and the model hand
// every conversation once, in key order (mergeDrained), and every insert
// appends: a new workspace of a file spanning 108 hours, drained twice,
// took 4.98 s against 6.08 (5 pairs).

// runReader reads one run's records, a batch at a time with their sample
// lines.
type runReader struct {
	m     *analysis.Model
	r     *bufio.Reader
	left  int // records not read from the file yet
	batch int // records read at a time
	data  []byte
	ends  []int
	refs  []analysis.SampleRefs
	lines [][]string
	buf   []byte // the batch's sample lines
	at    int    // the next record of the batch
	from  int    // where it starts in data
	cache strCache

	st  analysis.ConvState // the current record
	key analysis.SortKey
	ok  bool // st holds a record
}

// A commit reads all runs at once: each reader's read buffer, and the
// records all its batches hold together (with their states and sample
// lines, about 1.3 KB each on wstag1m's lines). Batches of 256 in each of
// a million-conversation import's runs raised its peak by 11 MiB.
const (
	runReaderBuffer = 16 << 10
	runRecordsHeld  = 1024
)

// readers returns a reader of each of d's runs, on its first record.
func (d *drainFile) readers(m *analysis.Model) ([]*runReader, error) {
	if d == nil || d.f == nil {
		return nil, nil
	}
	if err := d.w.Flush(); err != nil {
		return nil, fmt.Errorf("drain file: %w", err)
	}
	var rs []*runReader
	cache := strCache{}
	batch := max(16, min(drainBatch, runRecordsHeld/max(1, len(d.runs))))
	for i, run := range d.runs {
		end := d.written
		if i+1 < len(d.runs) {
			end = d.runs[i+1].off
		}
		r := &runReader{m: m, left: run.records, batch: batch, cache: cache,
			r: bufio.NewReaderSize(io.NewSectionReader(d.f, run.off, end-run.off), runReaderBuffer)}
		if err := r.next(); err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// next reads the run's next record into r.st; r.ok is false after the last.
func (r *runReader) next() error {
	if r.at == len(r.ends) {
		if r.left == 0 {
			r.ok = false
			return nil
		}
		if err := r.fill(); err != nil {
			return err
		}
	}
	end := r.ends[r.at]
	if _, err := decodeStateInto(r.data[r.from:end], &r.st, r.cache, true); err != nil {
		return fmt.Errorf("drain file: %w", err)
	}
	if len(r.refs[r.at]) > 0 {
		r.st.Samples = r.lines[r.at]
	}
	r.at, r.from = r.at+1, end
	r.key, r.ok = analysis.SortKeyOf(&r.st), true
	return nil
}

// fill reads the next batch of records and their sample lines, in one pass
// over the model's sample file.
func (r *runReader) fill() error {
	r.data, r.ends, r.refs = r.data[:0], r.ends[:0], r.refs[:0]
	for range min(r.left, r.batch) {
		var rs analysis.SampleRefs
		var err error
		if r.data, rs, err = readDrained(r.r, r.data); err != nil {
			return fmt.Errorf("drain file: %w", err)
		}
		r.ends, r.refs = append(r.ends, len(r.data)), append(r.refs, rs)
	}
	r.left -= len(r.ends)
	var err error
	if r.lines, err = r.m.SampleLinesInto(r.refs, &r.buf); err != nil {
		return err
	}
	r.at, r.from = 0, 0
	return nil
}

// runMerge is mergeDrained's state.
type runMerge struct {
	runs []*runReader
	on   []*runReader // the runs on the key being handed
	fn   func(st *analysis.ConvState) error
}

// mergeDrained calls fn with every conversation of d's runs (d nil: none)
// and of the model's states that each hands (in key order): one state per
// conversation, its records and the model's merged oldest first, as
// storing them one after the other would have merged them. each hands the
// model's states to the function it is given (EachStateAndSession's first).
func (d *drainFile) mergeDrained(m *analysis.Model, fn func(st *analysis.ConvState) error, each func(func(st *analysis.ConvState) error) error) error {
	runs, err := d.readers(m)
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		return each(fn)
	}
	g := runMerge{runs: runs, fn: fn}
	if err := each(g.model); err != nil {
		return err
	}
	return g.upTo(nil)
}

// model hands the runs' conversations before st's key, then st merged with
// the runs' records of its key.
func (g *runMerge) model(st *analysis.ConvState) error {
	k := analysis.SortKeyOf(st)
	if err := g.upTo(&k); err != nil {
		return err
	}
	first := g.take(&k)
	if first == nil {
		return g.fn(st)
	}
	first.Merge(st, analysis.DefaultSamples)
	return g.hand(first)
}

// upTo hands the runs' conversations whose keys are before k (nil: all),
// each merged over the runs.
func (g *runMerge) upTo(k *analysis.SortKey) error {
	for {
		var least *analysis.SortKey
		for _, r := range g.runs {
			if r.ok && (least == nil || r.key.Compare(least) < 0) {
				least = &r.key
			}
		}
		if least == nil || (k != nil && least.Compare(k) >= 0) {
			return nil
		}
		key := *least
		if err := g.hand(g.take(&key)); err != nil {
			return err
		}
	}
}

// take merges the runs' records of key k, oldest run first, into the
// first one's, and returns it (nil: no run is on k). Its lines may be
// those of the other runs: they move on only once it is handed (hand).
func (g *runMerge) take(k *analysis.SortKey) *analysis.ConvState {
	g.on = g.on[:0]
	for _, r := range g.runs {
		if r.ok && r.key == *k {
			if len(g.on) > 0 {
				g.on[0].st.Merge(&r.st, analysis.DefaultSamples)
			}
			g.on = append(g.on, r)
		}
	}
	if len(g.on) == 0 {
		return nil
	}
	return &g.on[0].st
}

// hand hands st, taken, and moves the runs it came from on.
func (g *runMerge) hand(st *analysis.ConvState) error {
	if err := g.fn(st); err != nil {
		return err
	}
	for _, r := range g.on {
		if err := r.next(); err != nil {
			return err
		}
	}
	return nil
}
