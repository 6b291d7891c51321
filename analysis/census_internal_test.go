package analysis

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// TestCountOnlySameAsWhole: a CountOnly model that forgets its
// conversations every few of them reports the Stats and Connections of a
// model that holds them all, on every vendor's demo log and on a log whose
// conversations come back on another side after they were forgotten (a
// conversation's sessions are its largest side's summed over its parts,
// not its parts' largest sides summed), fed in batches (AddBatch) and in
// parallel (Parallel.Add).
func TestCountOnlySameAsWhole(t *testing.T) {
	corpora := map[string][]ingest.Event{"returning": parseAll(t, returningLines(3000, 1))}
	for _, vendor := range []string{"nutanix", "nsxv", "nsxt", "nsx4"} {
		corpora[vendor] = demoEvents(t, vendor, 1500, 3)
	}
	defer func(at int) { countDrainAt = at }(countDrainAt)
	for name, evs := range corpora {
		whole := NewModel(Options{})
		whole.AddBatch(evs)
		want, wantConns := whole.Stats(), whole.Connections()
		for _, at := range []int{1, 5, 200} {
			for _, batch := range []int{1, 7, 500} {
				for _, parallel := range []bool{false, true} {
					for _, file := range []bool{false, true} {
						t.Run(fmt.Sprintf("%s/at%d/batch%d/parallel=%v/file=%v", name, at, batch, parallel, file), func(t *testing.T) {
							countDrainAt = at
							opts := Options{CountOnly: true}
							if file {
								opts.CountFile = tempFile(t)
							}
							m := NewModel(opts)
							drains := addInBatches(m, evs, batch, parallel)
							if at < want.Conversations && drains == 0 {
								t.Fatal("the model never forgot a conversation")
							}
							sameCounts(t, m, want, wantConns)
						})
					}
				}
			}
		}
	}
}

// addInBatches adds evs to m batch events at a time and returns how many
// times the model drained.
func addInBatches(m *Model, evs []ingest.Event, batch int, parallel bool) (drains int) {
	par := m.Parallel(2)
	defer par.Close()
	for lo := 0; lo < len(evs); lo += batch {
		b := evs[lo:min(lo+batch, len(evs))]
		if parallel {
			fs, names, data := flowsOf(b)
			par.AddFlows(fs, names, data, splitFlows(fs))
		} else {
			m.AddBatch(b)
		}
		drains = len(m.census.runs)
	}
	return drains
}

// returningLines returns n Nutanix hit-log lines of a few hundred
// conversations (IPv4 and IPv6) logged on either side, most connections
// ending with their line, some left open: conversations are forgotten and
// come back, some on the other side.
func returningLines(n int, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, seed))
	lines := make([]string, 0, n)
	for i := range n {
		src, dst := fmt.Sprintf("10.0.0.%d", rng.IntN(12)), fmt.Sprintf("10.1.0.%d", rng.IntN(12))
		if rng.IntN(6) == 0 {
			src, dst = fmt.Sprintf("fd00::%x", rng.IntN(5)), fmt.Sprintf("fd01::%x", rng.IntN(5))
		}
		dir, kind := "INBOUND", "Destroy"
		if rng.IntN(2) == 0 {
			dir = "OUTBOUND"
		}
		if rng.IntN(5) == 0 {
			kind = "New"
		}
		lines = append(lines, fmt.Sprintf("<134>2025-04-10T00:%02d:%02d.000000+00:00 ahv-%d Genesis_1: INFO:2025/04/10 00:%02d:%02d  "+
			"[ff16a6fb-ff89-4c2d-a9c8-f67030f93d79] Discover-Traffic [%s] SRC=%s DST=%s PROTO=TCP SPORT=%d DPORT=%d "+
			"ACTION=MONITOR DIRECTION=%s ORIG: PKTS=1 BYTES=60 REPLY: PKTS=1 BYTES=60",
			i/60%60, i%60, rng.IntN(2), i/60%60, i%60, kind, src, dst, 30000+rng.IntN(40), 443+rng.IntN(2), dir))
	}
	return lines
}

// sameCounts fails t unless m's Stats, Connections and Counts are want and
// conns.
func sameCounts(t *testing.T, m *Model, want Stats, conns int64) {
	t.Helper()
	if got := m.Stats(); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
	if got := m.Connections(); got != conns {
		t.Errorf("%d connections, want %d", got, conns)
	}
	st, n, err := m.Counts()
	if st != want || n != conns || err != nil {
		t.Errorf("counts %+v, %d, %v; want %+v, %d, nil", st, n, err, want, conns)
	}
}

func tempFile(t *testing.T) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "count")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestCountFileRuns: a CountOnly model with a CountFile keeps its runs
// there, not in the heap, and says so when the file cannot be read back.
func TestCountFileRuns(t *testing.T) {
	defer func(at int) { countDrainAt = at }(countDrainAt)
	countDrainAt = 10
	evs := parseAll(t, returningLines(2000, 2))
	f := tempFile(t)
	m := NewModel(Options{CountOnly: true, CountFile: f})
	if addInBatches(m, evs, 50, false) == 0 {
		t.Fatal("the model never forgot a conversation")
	}
	for _, r := range m.census.runs {
		if r.mem != nil {
			t.Fatalf("a run of %d bytes in the heap", len(r.mem))
		}
	}
	if err := f.Truncate(m.census.end - 1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.Counts(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("counts of a truncated file: %v, want %v", err, io.ErrUnexpectedEOF)
	}
}
