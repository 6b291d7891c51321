package main

import (
	"context"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"time"
)

// guiProfiles are the gui command's diagnostic profiles: a CPU profile of
// the whole run, and a heap profile of the moment the Go heap held the
// most, since the heap at exit says little of an app's peak.
type guiProfiles struct {
	cpu, mem string
}

// heapSampleEvery is how often the heap profile's watcher reads the heap.
const heapSampleEvery = 50 * time.Millisecond

// start starts the profiles asked for; stop ends them, writing the CPU
// profile.
func (g guiProfiles) start() (stop func(), err error) {
	stopCPU, err := startCPUProfile(g.cpu)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	stops := []func(){cancel, stopCPU}
	if g.mem != "" {
		go func() { defer close(done); watchHeapPeak(ctx, g.mem) }()
		stops = append(stops, func() { <-done })
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}, nil
}

// watchHeapPeak writes a heap profile to path each time the heap's live
// objects pass their previous peak by 5%, until ctx ends: the last one
// written is within a sampling period and 5% of the peak. (A heap profile
// tells what the last garbage collection found live.)
func watchHeapPeak(ctx context.Context, path string) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	t := time.NewTicker(heapSampleEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		metrics.Read(sample)
		if n := sample[0].Value.Uint64(); n > peak+peak/20 {
			peak = n
			writeHeapProfile(path)
		}
	}
}

// writeHeapProfile replaces path with a heap profile; errors are dropped
// (a diagnostic).
func writeHeapProfile(path string) {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return
	}
	werr := pprof.Lookup("heap").WriteTo(f, 0)
	if cerr := f.Close(); werr == nil && cerr == nil {
		os.Rename(tmp, path)
	}
}
