package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

// guiProfiles are the gui command's diagnostic profiles: a CPU profile of
// the whole run, and a heap profile of the moment the Go heap held the
// most, since the heap at exit says little of an app's peak.
type guiProfiles struct {
	cpu, mem, stats string
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
	if g.stats != "" {
		statsDone := make(chan struct{})
		go func() { defer close(statsDone); watchRSSPeak(ctx, g.stats) }()
		stops = append(stops, func() { <-statsDone })
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

// watchRSSPeak writes to path, each time the process's resident memory
// (Linux's VmRSS) passes its previous peak, that figure and the runtime's
// memory classes, until ctx ends: where the memory at the peak is, the
// heap's objects, its free pages not yet returned, and what is not Go's
// (the resident memory less the runtime's total less what it released).
func watchRSSPeak(ctx context.Context, path string) {
	var names []string
	for _, d := range metrics.All() {
		if strings.HasPrefix(d.Name, "/memory/classes/") || d.Name == "/gc/heap/goal:bytes" || d.Name == "/gc/heap/live:bytes" {
			names = append(names, d.Name)
		}
	}
	s := make([]metrics.Sample, len(names))
	for i, n := range names {
		s[i].Name = n
	}
	start, peak := time.Now(), uint64(0)
	t := time.NewTicker(heapSampleEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rss := residentBytes()
		if rss <= peak {
			continue
		}
		peak = rss
		metrics.Read(s)
		var b bytes.Buffer
		fmt.Fprintf(&b, "%-44s %9.1f MB  at %s\n", "resident (VmRSS)", float64(rss)/1e6, time.Since(start).Round(time.Millisecond))
		for _, x := range s {
			fmt.Fprintf(&b, "%-44s %9.1f MB\n", x.Name, float64(x.Value.Uint64())/1e6)
		}
		os.WriteFile(path, b.Bytes(), 0o644)
	}
}

// residentBytes returns the process's resident memory, 0 where
// /proc/self/status does not say it.
func residentBytes() uint64 {
	st, _ := os.ReadFile("/proc/self/status")
	for l := range strings.Lines(string(st)) {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
