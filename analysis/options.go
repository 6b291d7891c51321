package analysis

import (
	"net/netip"
	"os"
	"time"
)

// Defaults for Options.
const (
	// DefaultIdleTimeout is zero: connections are forgotten after the
	// vendors' own idle timers, per protocol and state (timeouts.go).
	DefaultIdleTimeout time.Duration = 0
	DefaultMaxOpen                   = 1 << 20
	DefaultSamples                   = 3
)

// Options configure a Model. The zero value is valid.
type Options struct {
	// Monitored declares the protected set (the category or security
	// groups). Empty: it is learned from the logs (the side each line was
	// logged on).
	Monitored []netip.Prefix
	// IdleTimeout, when set, drops the state of a connection not logged for
	// this long (by that host's clock), whatever its protocol and state.
	// Zero: the vendor's idle timer of its protocol and state, plus Grace.
	// A connection seen again later counts anew.
	IdleTimeout time.Duration
	// MaxOpen caps the connections tracked at once; the least recently
	// seen are dropped first.
	MaxOpen int
	// Samples is how many raw lines each conversation keeps as evidence
	// (zero: DefaultSamples; negative: none, for a reader that shows none).
	Samples int
	// Sated, when set, reports whether conversation k needs no sample
	// lines: a workspace holds as many of it as a merge keeps, and would
	// throw those of the import away. A conversation of such a key takes
	// none (nor do its session records). It is called on the shards'
	// goroutines: it must be safe for concurrent use.
	Sated func(k Key) bool
	// SampleFile, when set, holds the sample lines instead of the heap: the
	// model appends them to it and reads them back when it hands states
	// over (EachState, Drain, States, Table). It must be open for reading
	// and writing, empty, and stay open while the model is used; its
	// owner removes it.
	SampleFile *os.File
	// NoHourly leaves out the sessions started per hour (Table.Hourly is
	// nil), for a reader that shows none.
	NoHourly bool
	// Records keeps a SessionRecord of every session for a shared store
	// (TakeRecords). Off by default: it costs memory per open connection.
	Records bool
	// CountOnly keeps only what Stats and Connections report, for a reader
	// that reports and stores nothing: after a batch (AddBatch,
	// Parallel.Add) that leaves it holding many conversations, the model
	// forgets those no open connection refers to and empties the others,
	// as Drain does, remembering per conversation only its key and its
	// sessions per side, in a compact sorted form (about 13 bytes for an
	// IPv4 conversation). Counts, Stats and Connections stay exact;
	// EachState, States and Table hand only the conversations held, and
	// Drain must not be called.
	CountOnly bool
	// CountFile, when set, holds what a CountOnly model remembers instead
	// of its heap, so that its memory does not grow with the conversations
	// it forgot. As for SampleFile, it must be open for reading and
	// writing, empty, and stay open while the model is used; its owner
	// removes it.
	CountFile *os.File
}
