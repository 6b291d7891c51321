package analysis

import "unsafe"

// prefetch asks the processor to bring the cache lines of p, p+64 and
// p+128 into its cache, without waiting for them: the model asks for an
// event's first lines (those it reads) a few events before it applies it,
// so that the miss of an event written by a parsing core overlaps the work
// on the events before.
//
//go:noescape
func prefetch(p unsafe.Pointer)

// prefetchEvent asks for the cache lines of the first 224 bytes of the
// ingest.Event at p, wherever it starts in a line: every field the model
// reads (an NSX line's rule and tag are at 192 to 223).
//
//go:noescape
func prefetchEvent(p unsafe.Pointer)

// prefetchLine asks for the cache line of p alone.
//
//go:noescape
func prefetchLine(p unsafe.Pointer)
