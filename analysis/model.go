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
//
// The model's files are layered, each using only those below it:
//   - key.go, intern.go, options.go, timeouts.go, format.go, slots_*.go,
//     samplefile.go: the conversation key, interning, settings, vendor
//     timers, wording, memory outside the heap, sample lines in a file;
//   - record.go: a session's record; conversation.go: a conversation's
//     working and stored form (ConvState) with its one merge; monitored.go:
//     directions;
//   - opentable.go: the table of open connections; rows.go: the read form
//     (Table: every reader reads a row through its accessors, no copy of
//     it), table.go its builder, table_read.go more of its accessors;
//   - shard.go: a shard applying lines; model.go: Model, Parallel and
//     Pipeline;
//   - state.go: the Model's outputs and restores; importer.go: file import;
//     drain.go: handing conversations over in parts (Drain); census.go:
//     what a model that only counts (Options.CountOnly) remembers.
package analysis

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// Model aggregates events into conversations. It is safe for concurrent use:
// writers serialise on a mutex, and Conversations returns copies.
type Model struct {
	mu        sync.Mutex
	opts      Options
	shards    [numShards]shard
	spill     *sampleFile       // Options.SampleFile
	sampleBuf []byte            // SampleLines's lines
	tables    *[numShards]table // the shards' open connections, freed with the Model
	census    *census           // Options.CountOnly
	names     []string          // add's table of a line's names
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
	opts.Samples = min(opts.Samples, math.MaxUint8) // shard.taken counts them
	m := &Model{opts: opts, tables: new([numShards]table)}
	if opts.SampleFile != nil {
		m.spill = newSampleFile(opts.SampleFile)
	}
	if opts.CountOnly {
		m.census = newCensus(opts.CountFile)
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

// ShardOption makes ingest.Read tag every event with its shard, for
// Parallel.Add.
func ShardOption() ingest.Option { return ingest.WithShards(numShards, shardOfFlow) }

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
	m.afterBatch()
	m.mu.Unlock()
}

func (m *Model) add(ev *ingest.Event) {
	var f ingest.Flow
	m.names = m.names[:0]
	if ev.SetFlow(&f, 0, &m.names) {
		m.shards[shardOfFlow(&f)].add(&f, m.names, ev.Raw)
	}
}

// Stats is a summary of what a Model holds.
type Stats struct {
	Events        int64 // events added
	Sessions      int64 // sessions seen (each side of a twice-logged connection counts)
	Conversations int
	Open          int   // connections tracked right now
	Expired       int64 // connection states dropped by age or by MaxOpen
}

// OutsideHeap returns the bytes the model holds outside the Go heap: the
// slots of its open connections' tables (51 MiB for the 0.9-1.3 M open
// connections of issue 14's Nutanix corpora), which the collector's heap
// goal does not count.
func (m *Model) OutsideHeap() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for i := range m.tables {
		n += m.tables[i].outsideHeap()
	}
	return n
}

// Stats returns the Model's counters.
func (m *Model) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.stats()
	if m.census != nil {
		st.Conversations, _, _ = m.census.totals(&m.shards)
	}
	return st
}

// stats returns the counters of the shards; the caller holds m.mu.
func (m *Model) stats() Stats {
	var st Stats
	for i := range m.shards {
		sh := &m.shards[i]
		st.Events += sh.events
		st.Sessions += sh.sessions
		st.Conversations += sh.nconv
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
	if m.census != nil {
		_, n, _ := m.census.totals(&m.shards)
		return n
	}
	var n int64
	for i := range m.shards {
		m.shards[i].eachConv(func(_ uint32, c *ConvState) {
			var most uint64
			for j := range c.Sides {
				most = max(most, c.Sides[j].Sessions)
			}
			n += int64(most)
		})
	}
	return n
}

// Counts returns the Stats and the Connections of m, with one pass over
// what a CountOnly model remembers, and the error of reading its
// CountFile back (Stats and Connections then count no conversation).
func (m *Model) Counts() (Stats, int64, error) {
	if m.census == nil {
		return m.Stats(), m.Connections(), nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.stats()
	var conns int64
	var err error
	st.Conversations, conns, err = m.census.totals(&m.shards)
	return st, conns, err
}

// Parallel adds batches of events to a Model with several goroutines, each
// applying the events of its shards in input order. Use it from one
// goroutine; Close it when done.
type Parallel struct {
	m     *Model
	width int
	jobs  []chan job
	done  chan struct{}
}

type job struct {
	flows  []ingest.Flow
	names  []string // the flows' Names
	data   []byte   // the text the flows' RawOff index
	shards [][]int32
}

// Parallel returns a Parallel adding to m with workers goroutines (at most
// one per shard).
func (m *Model) Parallel(workers int) *Parallel {
	workers = max(1, min(workers, numShards))
	p := &Parallel{m: m, width: workers, done: make(chan struct{}, workers)}
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

// AddFlows records lines, the flows of a batch that ingest.Read split by
// shard (ShardOption, ingest.WithFlows), whose names are names and whose
// text is data: shards holds the indices of each shard's flows, in order.
// It returns once every line is recorded.
func (p *Parallel) AddFlows(flows []ingest.Flow, names []string, data []byte, shards [][]int32) {
	if len(shards) != numShards {
		shards = splitFlows(flows)
	}
	p.add(job{flows: flows, names: names, data: data, shards: shards})
}

func (p *Parallel) add(j job) {
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	for _, ch := range p.jobs {
		ch <- j
	}
	p.apply(0, j)
	for range p.jobs {
		<-p.done
	}
	p.m.afterBatch()
}

// afterBatch lets a CountOnly model forget what it need not hold; the
// caller holds m.mu.
func (m *Model) afterBatch() {
	if m.census != nil {
		m.census.drain(&m.shards)
	}
}

func (p *Parallel) apply(w int, j job) {
	for s := w; s < numShards; s += p.width {
		j.addTo(&p.m.shards[s], s)
	}
}

// addTo records shard s's part of j in sh.
func (j *job) addTo(sh *shard, s int) {
	sh.addBatch(j.flows, j.names, j.shards[s], j.data)
}

// splitFlows returns the indices of each shard's flows, in order.
func splitFlows(flows []ingest.Flow) [][]int32 {
	shards := make([][]int32, numShards)
	for i := range flows {
		s := shardOfFlow(&flows[i])
		shards[s] = append(shards[s], int32(i))
	}
	return shards
}

// Close stops the goroutines.
func (p *Parallel) Close() {
	for _, ch := range p.jobs {
		close(ch)
	}
	p.jobs = nil
}

// Pipeline adds batches of events to a Model as Parallel does, but without
// waiting: each of its goroutines applies its shards' events of one batch
// after the other, in input order, while the next batches are parsed and
// the other goroutines are still on earlier ones. A goroutine that finishes
// its part of a batch early goes on to the next batch instead of waiting for
// the slowest. It holds the Model's lock from Pipeline to Close, but for
// Quiesce's fn. Use it from one goroutine; Close it when done.
type Pipeline struct {
	m        *Model
	jobs     []chan pipeJob
	wg       sync.WaitGroup
	inflight sync.WaitGroup // batches added and not yet recorded
}

type pipeJob struct {
	job
	left    *atomic.Int32 // goroutines yet to apply it
	release func()
}

// pipeDepth is how many batches a Pipeline's goroutine can have queued:
// more than ingest.Read has in flight, so that Add never waits on it.
const pipeDepth = 4*ingest.MaxWorkers + 2

// Pipeline returns a Pipeline adding to m with workers goroutines (at most
// one per shard). m must not be a CountOnly model, which forgets
// conversations between batches.
func (m *Model) Pipeline(workers int) *Pipeline {
	workers = max(1, min(workers, numShards))
	m.mu.Lock()
	p := &Pipeline{m: m}
	for w := 0; w < workers; w++ {
		ch := make(chan pipeJob, pipeDepth)
		p.jobs = append(p.jobs, ch)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for j := range ch {
				for s := w; s < numShards; s += workers {
					j.addTo(&m.shards[s], s)
				}
				if j.left.Add(-1) == 0 {
					j.release()
					p.inflight.Done()
				}
			}
		}()
	}
	return p
}

// AddFlows queues lines, the flows of a batch that ingest.Read split by
// shard (ShardOption, ingest.WithFlows), whose names are names and whose
// text is data, and returns; release is called once every line is
// recorded, from another goroutine: flows, names, data and shards must stay
// unchanged until then.
func (p *Pipeline) AddFlows(flows []ingest.Flow, names []string, data []byte, shards [][]int32, release func()) {
	if len(shards) != numShards {
		shards = splitFlows(flows)
	}
	p.add(job{flows: flows, names: names, data: data, shards: shards}, release)
}

func (p *Pipeline) add(j job, release func()) {
	p.inflight.Add(1)
	left := new(atomic.Int32)
	left.Store(int32(len(p.jobs)))
	for _, ch := range p.jobs {
		ch <- pipeJob{j, left, release}
	}
}

// Quiesce waits until every batch added is recorded, then calls fn with
// the Model unlocked, for it to use the Model's own methods (Drain, Held),
// and locks it again. From the goroutine that adds.
func (p *Pipeline) Quiesce(fn func() error) error {
	p.inflight.Wait()
	p.m.mu.Unlock()
	defer p.m.mu.Lock()
	return fn()
}

// Close waits until every event added is recorded, stops the goroutines
// and releases the Model's lock.
func (p *Pipeline) Close() {
	for _, ch := range p.jobs {
		close(ch)
	}
	p.wg.Wait()
	p.jobs = nil
	p.m.mu.Unlock()
}
