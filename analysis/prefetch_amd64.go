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

// prefetchLine asks for the cache line of p alone.
//
//go:noescape
func prefetchLine(p unsafe.Pointer)

// prefetchFlow asks for the cache lines of the ingest.Flow at p (112
// bytes: two or three lines), wherever it starts in a line.
//
//go:noescape
func prefetchFlow(p unsafe.Pointer)

// prefetchWide asks for the six cache lines from p on (384 bytes). The
// addresses past p are made here, not in Go: past the end of an
// allocation, a pointer made with unsafe.Add is one the collector and
// checkptr refuse (a small table's slots are on the heap).
//
//go:noescape
func prefetchWide(p unsafe.Pointer)
