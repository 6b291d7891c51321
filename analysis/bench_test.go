package analysis

import (
	"context"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// benchEvents makes n Nutanix [Update] events over 100,000 open connections
// and 500 conversations, the shape of a busy monitor-mode policy.
func benchEvents(n int) []ingest.Event {
	evs := make([]ingest.Event, n)
	t0 := time.Date(2025, 4, 10, 0, 0, 0, 0, time.UTC)
	for i := range evs {
		c := i % 100_000
		evs[i] = ingest.Event{Vendor: ingest.Nutanix, Kind: ingest.KindUpdate, Proto: ingest.ProtoTCP,
			Src: netip.AddrFrom4([4]byte{10, 0, byte(c % 50), 1}), Dst: netip.AddrFrom4([4]byte{10, 1, byte(c % 10), 1}),
			SPort: uint16(32768 + c%28000), DPort: 443, Direction: ingest.DirOutbound, Action: ingest.ActionMonitor,
			HasCounters: true, OrigPkts: uint64(i / 100_000), OrigBytes: uint64(i / 1000), ReplyPkts: 1, ReplyBytes: 100,
			Time: t0.Add(time.Duration(i) * time.Millisecond), Host: "ahv-1", Policy: "Discover", PolicyID: "uuid"}
	}
	return evs
}

// BenchmarkModelAdd measures aggregation per event (parsing excluded).
func BenchmarkModelAdd(b *testing.B) {
	evs := benchEvents(1 << 20)
	m := NewModel(Options{})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Add(&evs[i&(len(evs)-1)])
		i++
	}
}

// benchBatch is a batch of lines as ingest.Read hands it over with flows
// split by shard, kept.
type benchBatch struct {
	flows  []ingest.Flow
	names  []string
	data   []byte
	shards [][]int32
}

// benchBatches returns the batches of the log FLOWSLEUTH_BENCH_LOG names (a
// corpus of testdata/bench, or a part of one), or else of benchEvents.
func benchBatches(b *testing.B) []benchBatch {
	name := os.Getenv("FLOWSLEUTH_BENCH_LOG")
	if name == "" {
		evs := benchEvents(1 << 20)
		var out []benchBatch
		const batch = 6600 // lines: about a MiB of text
		for lo := 0; lo < len(evs); lo += batch {
			fs, names, data := flowsOf(evs[lo:min(lo+batch, len(evs))])
			out = append(out, benchBatch{fs, names, data, splitFlows(fs)})
		}
		return out
	}
	in, err := ingest.Open(name)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	var out []benchBatch
	_, err = ingest.Read(context.Background(), in, name, func(bt *ingest.Batch) error {
		shards := make([][]int32, len(bt.Shards))
		for i := range shards {
			shards[i] = slices.Clone(bt.Shards[i])
		}
		out = append(out, benchBatch{slices.Clone(bt.Flows), slices.Clone(bt.Names), slices.Clone(bt.Data), shards})
		return nil
	}, ingest.WithFlows(), ShardOption())
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// BenchmarkModelPipeline measures the model's side of flows and of an
// import, apart from the parsing: the batches of a log, parsed beforehand,
// applied through a Pipeline of two goroutines to a new Model (as flows
// does: no sample lines, no hours). Compare two builds by running their
// test binaries in turn on the same FLOWSLEUTH_BENCH_LOG, e.g. the first
// 1.5 M lines of make bench-ingest's short-line corpus.
func BenchmarkModelPipeline(b *testing.B) {
	benchPipeline(b, Options{Samples: -1, NoHourly: true})
}

// BenchmarkModelPipelineHourly is BenchmarkModelPipeline with the sessions
// per hour kept, as an import into a workspace keeps them (its sample
// lines aside).
func BenchmarkModelPipelineHourly(b *testing.B) {
	benchPipeline(b, Options{Samples: -1})
}

// BenchmarkModelPipelineWorkspace is BenchmarkModelPipelineHourly with the
// sample lines too, in a sample file: the model's side of an import into a
// workspace.
func BenchmarkModelPipelineWorkspace(b *testing.B) {
	f, err := os.CreateTemp(b.TempDir(), "samples")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	benchPipeline(b, Options{SampleFile: f})
}

// benchPipeline is BenchmarkModelPipeline for models made with opts.
func benchPipeline(b *testing.B, opts Options) {
	batches := benchBatches(b)
	lines := 0
	for _, bt := range batches {
		lines += len(bt.flows)
	}
	for b.Loop() { // the first call resets the timer: the parse above is not counted
		m := NewModel(opts)
		p := m.Pipeline(2)
		for _, bt := range batches {
			p.AddFlows(bt.flows, bt.names, bt.data, bt.shards, func() {})
		}
		p.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*lines), "ns/line")
}
