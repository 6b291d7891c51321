// Package analysis turns firewall events into sessions and conversations.
//
// A session is one connection as one enforcement point saw it: a Nutanix
// conntrack entry ([New] … [Update] … [Destroy], counters cumulative) or an
// NSX vNIC filter's match and TERM lines. A conversation is every session
// with the same source, destination, protocol and destination port.
//
// The same connection is often logged twice: at the sender's and at the
// receiver's enforcement point (NSX OUT and IN filters, Nutanix OUTBOUND and
// INBOUND). Sessions are therefore kept per side, and a conversation's
// figures are the larger of its sides: order-independent, so files from
// different hosts can be imported in any order, and bounded in memory.
//
// A Model is split into shards by source, destination and protocol: every
// session and conversation of a pair of hosts lives in one shard, so the
// shards can take events in parallel (Parallel), each in input order.
package analysis

import (
	"encoding/binary"
	"math"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
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
	// SampleFile, when set, holds the sample lines instead of the heap: the
	// model appends them to it and reads them back when it hands states
	// over (EachState, Drain, States, Table). It must be open for reading
	// and writing, empty, and stay open while the model is used; its
	// owner removes it.
	SampleFile *os.File
	// NoHourly leaves out the sessions started per hour (Conversation.Hourly
	// stays empty), for a reader that shows none.
	NoHourly bool
	// Records keeps a SessionRecord of every session for a shared store
	// (TakeRecords). Off by default: it costs memory per open connection.
	Records bool
}

// numShards is how many shards a Model has: a constant, so that results do
// not depend on the number of cores (the open connections' cap is per shard).
const numShards = 16

type addr = [16]byte

type convKey struct {
	src, dst addr
	dport    uint16
	proto    uint8
}

// Model aggregates events into conversations. It is safe for concurrent use:
// writers serialise on a mutex, and Conversations returns copies.
type Model struct {
	mu     sync.Mutex
	opts   Options
	shards [numShards]shard
	spill  *sampleFile       // Options.SampleFile
	tables *[numShards]table // the shards' open connections, freed with the Model
}

// NewModel returns an empty Model.
func NewModel(opts Options) *Model {
	if opts.MaxOpen <= 0 {
		opts.MaxOpen = DefaultMaxOpen
	}
	switch {
	case opts.Samples == 0:
		opts.Samples = DefaultSamples
	case opts.Samples < 0:
		opts.Samples = 0
	}
	opts.Samples = min(opts.Samples, math.MaxUint8) // conv.taken counts them
	m := &Model{opts: opts, tables: new([numShards]table)}
	if opts.SampleFile != nil {
		m.spill = newSampleFile(opts.SampleFile)
	}
	for i := range m.shards {
		m.shards[i].init(&m.opts, i, &m.tables[i])
		m.shards[i].spill = m.spill
	}
	runtime.AddCleanup(m, freeTables, m.tables)
	return m
}

func freeTables(ts *[numShards]table) {
	for i := range ts {
		ts[i].free()
	}
}

// ShardOf returns the shard of a Model that an event belongs to: by its
// source, destination and protocol. It is safe for concurrent use, for
// ingest.WithShards.
func ShardOf(ev *ingest.Event) int { return shardOfAddrs(ev.Src.As16(), ev.Dst.As16(), ev.Proto) }

func shardOfAddrs(s, d addr, proto uint8) int {
	h := binary.LittleEndian.Uint64(s[8:]) ^ binary.LittleEndian.Uint64(s[:8])*0xff51afd7ed558ccd
	h ^= (binary.LittleEndian.Uint64(d[8:]) ^ binary.LittleEndian.Uint64(d[:8])*0xc4ceb9fe1a85ec53) * 0x9e3779b97f4a7c15
	h ^= uint64(proto)
	h *= 0x9e3779b97f4a7c15
	return int(h >> 60) // numShards = 16
}

// ShardOption makes ingest.Read tag every event with its shard, for
// Parallel.Add.
func ShardOption() ingest.Option { return ingest.WithShards(numShards, ShardOf) }

// Add records one event.
func (m *Model) Add(ev *ingest.Event) {
	m.mu.Lock()
	m.add(ev)
	m.mu.Unlock()
}

// AddBatch records events in order, taking the lock once.
func (m *Model) AddBatch(evs []ingest.Event) {
	m.mu.Lock()
	for i := range evs {
		m.add(&evs[i])
	}
	m.mu.Unlock()
}

func (m *Model) add(ev *ingest.Event) {
	if !ev.Src.IsValid() || !ev.Dst.IsValid() {
		return
	}
	m.shards[ShardOf(ev)].add(ev)
}

// Stats is a summary of what a Model holds.
type Stats struct {
	Events        int64 // events added
	Sessions      int64 // sessions seen (each side of a twice-logged connection counts)
	Conversations int
	Open          int   // connections tracked right now
	Expired       int64 // connection states dropped by age or by MaxOpen
}

// Stats returns the Model's counters.
func (m *Model) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	var st Stats
	for i := range m.shards {
		sh := &m.shards[i]
		st.Events += sh.events
		st.Sessions += sh.sessions
		st.Conversations += len(sh.convList)
		st.Open += sh.openSessions
		st.Expired += sh.expired
	}
	return st
}

// Connections returns the sessions as the conversation table counts them:
// a connection logged at both ends once (each conversation's larger side).
func (m *Model) Connections() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for i := range m.shards {
		for _, c := range m.shards[i].convList {
			var most uint64
			for j := range c.sides {
				most = max(most, c.sides[j].Sessions)
			}
			n += int64(most)
		}
	}
	return n
}

// Parallel adds batches of events to a Model with several goroutines, each
// applying the events of its shards in input order. Use it from one
// goroutine; Close it when done.
type Parallel struct {
	m       *Model
	workers int
	jobs    []chan job
	done    chan struct{}
}

type job struct {
	evs    []ingest.Event
	shards [][]int32
}

// Parallel returns a Parallel adding to m with workers goroutines (at most
// one per shard).
func (m *Model) Parallel(workers int) *Parallel {
	workers = max(1, min(workers, numShards))
	p := &Parallel{m: m, workers: workers, done: make(chan struct{}, workers)}
	for w := 1; w < workers; w++ {
		ch := make(chan job)
		p.jobs = append(p.jobs, ch)
		go func() {
			for j := range ch {
				p.apply(w, j)
				p.done <- struct{}{}
			}
		}()
	}
	return p
}

// Add records events, which ingest.Read split by shard (ShardOption): shards
// holds the indices of each shard's events, in order. It returns once every
// event is recorded.
func (p *Parallel) Add(evs []ingest.Event, shards [][]int32) {
	if len(shards) != numShards {
		p.m.AddBatch(evs)
		return
	}
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	j := job{evs, shards}
	for _, ch := range p.jobs {
		ch <- j
	}
	p.apply(0, j)
	for range p.jobs {
		<-p.done
	}
}

func (p *Parallel) apply(w int, j job) {
	for s := w; s < numShards; s += p.workers {
		p.m.shards[s].addBatch(j.evs, j.shards[s])
	}
}

// Close stops the goroutines.
func (p *Parallel) Close() {
	for _, ch := range p.jobs {
		close(ch)
	}
	p.jobs = nil
}

// stringTable interns strings as small ids; id 0 is "".
type stringTable struct {
	names []string
	ids   map[string]uint32
	cache [256]uint32 // direct-mapped by quickHash: recently used ids
}

func newStringTable() stringTable {
	return stringTable{names: []string{""}, ids: map[string]uint32{"": 0}}
}

func (t *stringTable) id(s string) uint32 {
	if s == "" {
		return 0
	}
	// The parser shares one copy of each repeated string, so this comparison
	// mostly succeeds on pointer equality without reading the bytes.
	slot := &t.cache[ingest.QuickHash(s)]
	if t.names[*slot] == s {
		return *slot
	}
	id, ok := t.ids[s]
	if !ok {
		id = uint32(len(t.names))
		t.names = append(t.names, s)
		t.ids[s] = id
	}
	*slot = id
	return id
}
