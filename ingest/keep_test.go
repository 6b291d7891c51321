package ingest

import (
	"bytes"
	"context"
	"testing"
)

// TestReadKeep: a batch the callback keeps stays as it was, its Events and
// their Raw lines, while Read goes on parsing, until it is released; a
// batch not kept is reused.
func TestReadKeep(t *testing.T) {
	in := corpus(7, 120000) // many chunks: more than Read's buffers
	type held struct {
		b       *Batch
		raw     [][]byte // copies of the Raw lines when delivered
		release func()
	}
	var kept []held
	check := func(h held) {
		t.Helper()
		for i := range h.b.Events {
			if !bytes.Equal(h.b.Events[i].Raw, h.raw[i]) {
				t.Fatalf("batch of line %d: event %d changed while kept: %q, was %q",
					h.b.FirstLine, i, h.b.Events[i].Raw, h.raw[i])
			}
		}
	}
	batches := 0
	_, err := Read(context.Background(), bytes.NewReader(in), "kept", func(b *Batch) error {
		batches++
		for _, h := range kept {
			check(h)
		}
		if len(kept) == 3 { // release the oldest, after checking it once more
			kept[0].release()
			kept = kept[1:]
		}
		h := held{b: b, release: b.Keep()}
		for i := range b.Events {
			h.raw = append(h.raw, bytes.Clone(b.Events[i].Raw))
		}
		kept = append(kept, h)
		return nil
	}, WithWorkers(1))
	if err != nil {
		t.Fatal(err)
	}
	if batches < 8 {
		t.Fatalf("%d batches: too few to reuse buffers", batches)
	}
	for _, h := range kept {
		check(h)
		h.release()
	}
}
