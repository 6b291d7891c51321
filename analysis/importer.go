package analysis

import (
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// Progress reports how far an import has read.
type Progress struct {
	File        string
	FileIndex   int   // 0-based index in the list of files
	Files       int   // number of files
	Done, Total int64 // bytes of this file read and its size on disk (-1: unknown, stdin)
}

// FileResult is what one input contained.
type FileResult struct {
	Name    string
	Size    int64
	Gzip    bool
	Stats   ingest.Stats
	Elapsed time.Duration
	Err     error // a read error; the lines before it were imported
	// Trailing counts bytes after a gzip file's last member that are not
	// gzip (padding, or a member too damaged to begin): they were not read.
	Trailing int64

	damage damage // a damaged gzip: the text its members that checked hold
}

// ImportOptions configure Import.
type ImportOptions struct {
	Parse    []ingest.Option // passed to ingest.Read for every file
	Progress func(Progress)  // called about 10 times a second from another goroutine
	// Workers is how many goroutines add events to the model (default
	// GOMAXPROCS; see Model.Parallel).
	Workers int
	// Procs is the GOMAXPROCS while the files are read (RaiseProcs; 0:
	// the process's own), for a reader with the machine to itself
	// (ReadProcs).
	Procs int
}

// workers returns o.Workers, or GOMAXPROCS.
func (o *ImportOptions) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// Import reads files ("-" is stdin) into m, in the order of their first
// events (InTimeOrder). It stops at the first file that cannot be opened,
// and at ctx's end; a read error inside a file is kept in its FileResult
// and the next file is read.
//
// A gzip member gives its text before its check (CRC-32, length) can fail:
// when one fails after its text was read, Import empties m and reads the
// files again, that one ending where its members that checked end, so that
// m never holds text a check refused. m must therefore hold nothing else
// when Import is called. Standard input cannot be read again: a damaged
// gzip on it contributes nothing, and one after it is an error.
func Import(ctx context.Context, m *Model, files []string, o ImportOptions) ([]FileResult, error) {
	defer RaiseProcs(o.Procs)()
	files = InTimeOrder(files, o.Parse...)
	damaged := make(map[int]damage) // the damaged files, read up to their verified text
	for {
		out, redo, err := importFiles(ctx, m, files, damaged, o)
		if err != nil || redo < 0 {
			return out, err
		}
		if i := slices.Index(files[:redo], "-"); i >= 0 {
			return out, fmt.Errorf("import %s: %w: read after standard input, which cannot be read again; "+
				"import them with a workspace, or separately", files[redo], out[redo].Err)
		}
		damaged[redo] = out[redo].damage
		m.clear()
	}
}

// damage is a damaged gzip's verified text and the error that ended it.
type damage struct {
	verified int64
	err      error
}

// importFiles reads files into m, the damaged ones up to their verified
// text. It returns the index of a damaged gzip whose unverified text was
// read (redo; -1 if none): m then holds that text.
func importFiles(ctx context.Context, m *Model, files []string, damaged map[int]damage, o ImportOptions) ([]FileResult, int, error) {
	var out []FileResult
	for i, name := range files {
		d, limited := damaged[i]
		if limited && name == "-" {
			out = append(out, FileResult{Name: name, Size: -1, Err: &ingest.GzipDamage{Name: name, Err: d.err, Lost: true}})
			continue
		}
		in, err := ingest.OpenContext(ctx, name)
		if err != nil {
			return out, -1, err
		}
		if limited {
			in.Limit(d.verified)
		}
		res := FileResult{Name: name, Size: in.Size, Gzip: in.Gzip}
		stop := Watch(in, o.Progress, Progress{File: name, FileIndex: i, Files: len(files), Total: in.Size})
		start := time.Now()
		m.ReserveFor(in.Size, in.Gzip)
		opts := append([]ingest.Option{ingest.WithReferenceTime(in.ReferenceTime()), ShardOption()}, o.Parse...)
		res.Stats, res.Err = m.read(ctx, in, name, o.workers(), opts)
		res.Elapsed = time.Since(start)
		stop()
		verified, derr := in.Damage()
		res.Trailing = in.Trailing()
		in.Close()
		if ctx.Err() != nil {
			return append(out, res), -1, fmt.Errorf("import %s: %w", name, ctx.Err())
		}
		if limited {
			res.Err = &ingest.GzipDamage{Name: name, Verified: d.verified, Err: d.err}
		}
		if derr != nil {
			res.Err, res.damage = fmt.Errorf("read %s: %w", name, derr), damage{verified, derr}
			if res.Stats.Bytes+res.Stats.Pending > verified {
				return append(out, res), i, nil
			}
		}
		out = append(out, res)
	}
	return out, -1, nil
}

// read reads one input into m with workers goroutines: in a Pipeline, or
// for a CountOnly model, which forgets conversations between batches, with
// Parallel.
func (m *Model) read(ctx context.Context, in io.Reader, name string, workers int, opts []ingest.Option) (ingest.Stats, error) {
	if testHookRead != nil {
		testHookRead()
	}
	if m.census != nil {
		par := m.Parallel(workers)
		defer par.Close()
		return ingest.Read(ctx, in, name, func(b *ingest.Batch) error {
			par.AddFlows(b.Flows, b.Names, b.Data, b.Shards)
			return nil
		}, append(opts, ingest.WithFlows())...)
	}
	pipe := m.Pipeline(workers)
	defer pipe.Close()
	return ingest.Read(ctx, in, name, func(b *ingest.Batch) error {
		pipe.AddFlows(b.Flows, b.Names, b.Data, b.Shards, b.Keep())
		return nil
	}, append(opts, ingest.WithFlows())...)
}

// openEstimate returns how many connections a file of size bytes may hold
// open at once, at most: a line in two opening a connection, lines of 250
// bytes, gzip text eight times the file. 0 when the size is unknown.
func openEstimate(size int64, gz bool) int {
	if gz {
		size *= 8
	}
	return int(min(max(size/500, 0), math.MaxInt32))
}

// ReserveFor sizes m's open-connection tables for the connections an
// input of size bytes (gzip: compressed, -1: unknown) may hold open, as
// Import does before each file; a workspace import calls it too.
func (m *Model) ReserveFor(size int64, gz bool) {
	m.reserve(openEstimate(size, gz))
}

// ReserveOpen sizes m's open-connection tables for n connections, as
// ReserveFor does for an input's: a model continuing a workspace is sized
// for the connections it restores. They will hold them: tables that would
// grow to their size once they hold expectFrom do so now, not a quarter at
// a time until then (a tenth of a second for 900,000 connections).
func (m *Model) ReserveOpen(n int) {
	m.reserve(n)
	if n/numShards < expectFrom {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.shards {
		m.shards[i].open.growToHint()
	}
}

// reserve tells each shard's table its part of n open connections, within
// MaxOpen: a table grown a quarter at a time to a million connections moves
// each of them five times on average, which was an eighth of the work of a
// large import. A table that holds few at once stays small.
func (m *Model) reserve(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.shards {
		sh := &m.shards[i]
		sh.open.expect(min(n/numShards, sh.maxOpen))
	}
}

// clear empties m, for Import to start again.
func (m *Model) clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.shards {
		m.shards[i].init(&m.opts, i, &m.tables[i])
	}
	if m.census != nil {
		m.census = newCensus(m.opts.CountFile)
	}
}

// Watch calls fn with the progress of in every 100 ms until stopped, and a
// last time when stopped. A nil fn does nothing.
func Watch(in *ingest.Input, fn func(Progress), p Progress) (stop func()) {
	if fn == nil {
		return func() {}
	}
	return Every(100*time.Millisecond, func(bool) {
		p.Done = in.Consumed()
		fn(p)
	})
}

// Every calls fn(false) every interval on a goroutine of its own, until
// stop is called, and then fn(true) once: what a progress display polls.
// stop returns once fn has returned; calling it again does nothing.
func Every(interval time.Duration, fn func(stopping bool)) (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				fn(true)
				return
			case <-t.C:
				fn(false)
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		<-finished
	}
}
