package analysis

import (
	"context"
	"fmt"
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
}

// ImportOptions configure Import.
type ImportOptions struct {
	Parse    []ingest.Option // passed to ingest.Read for every file
	Progress func(Progress)  // called about 10 times a second from another goroutine
}

// Import reads files ("-" is stdin) into m, in the order of their first
// events (InTimeOrder). It stops at the first file that cannot be opened,
// and at ctx's end; a read error inside a file is kept in its FileResult
// and the next file is read.
func Import(ctx context.Context, m *Model, files []string, o ImportOptions) ([]FileResult, error) {
	files = InTimeOrder(files, o.Parse...)
	var out []FileResult
	for i, name := range files {
		in, err := ingest.Open(name)
		if err != nil {
			return out, err
		}
		res := FileResult{Name: name, Size: in.Size, Gzip: in.Gzip}
		stop := Watch(in, o.Progress, Progress{File: name, FileIndex: i, Files: len(files), Total: in.Size})
		start := time.Now()
		opts := append([]ingest.Option{ingest.WithReferenceTime(in.ReferenceTime())}, o.Parse...)
		res.Stats, res.Err = ingest.Read(ctx, in, name, func(b *ingest.Batch) error {
			m.AddBatch(b.Events)
			return nil
		}, opts...)
		res.Elapsed = time.Since(start)
		stop()
		in.Close()
		if ctx.Err() != nil {
			return append(out, res), fmt.Errorf("import %s: %w", name, ctx.Err())
		}
		out = append(out, res)
	}
	return out, nil
}

// Watch calls fn with the progress of in every 100 ms until stopped, and a
// last time when stopped. A nil fn does nothing.
func Watch(in *ingest.Input, fn func(Progress), p Progress) (stop func()) {
	if fn == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				p.Done = in.Consumed()
				fn(p)
				return
			case <-t.C:
				p.Done = in.Consumed()
				fn(p)
			}
		}
	}()
	return func() { close(done); <-finished }
}
