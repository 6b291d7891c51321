package workspace

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// errRollBack ends BenchmarkCommit's transactions without committing them.
var errRollBack = errors.New("rolled back")

// BenchmarkCommit measures an import's commit apart from its reading: the
// states, sample lines and open connections of a model that read the log
// FLOWSLEUTH_BENCH_LOG names (a corpus of testdata/bench, or a part of one;
// by default a demo log of 20,000 sessions) stored into a new workspace
// (storeModel, under the commit's collector setting), then rolled back. A
// commit is a sixth of a workspace import of make bench-ingest's corpora,
// and the import's own noise hides a tenth of it: compare two builds by
// running their test binaries in turn.
func BenchmarkCommit(b *testing.B) {
	name := os.Getenv("FLOWSLEUTH_BENCH_LOG")
	if name == "" {
		name, _ = demoLog(b, "nutanix", 20_000)
	}
	samples, err := os.CreateTemp(b.TempDir(), "samples")
	if err != nil {
		b.Fatal(err)
	}
	defer samples.Close()
	m := analysis.NewModel(analysis.Options{SampleFile: samples})
	if _, err := analysis.Import(ctx, m, []string{name}, analysis.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	ws, err := OpenNew(filepath.Join(b.TempDir(), "w.flowsleuth"))
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Close()
	defer analysis.LowerGC(commitGCPercent)()
	reportCPU := cpuPerOp(b)
	for b.Loop() {
		err := ws.writeConn(ctx, func(tx *sql.Tx, conn *sql.Conn) error {
			if _, err := storeModel(ctx, tx, nil, m, nil, true); err != nil {
				return err
			}
			return errRollBack
		})
		if !errors.Is(err, errRollBack) {
			b.Fatal(err)
		}
	}
	reportCPU()
	b.ReportMetric(float64(m.Stats().Conversations), "conversations")
}

// BenchmarkCommitNextDay measures the next day's commit apart from its
// reading, as BenchmarkCommit does a new workspace's: a workspace holds
// the log FLOWSLEUTH_BENCH_DAY1 names (by default the first half of a demo
// log of 20,000 sessions), a model continued from it (its open connections
// restored) reads FLOWSLEUTH_BENCH_DAY2 (the second half), and each commit
// merges that model's states into the stored ones (blockBuilder) and replaces the stored open connections; it is then rolled
// back. make bench-ingest's next day takes about twice the time of its
// import in memory, the commit a third of it.
func BenchmarkCommitNextDay(b *testing.B) {
	day1, day2 := os.Getenv("FLOWSLEUTH_BENCH_DAY1"), os.Getenv("FLOWSLEUTH_BENCH_DAY2")
	if day1 == "" || day2 == "" {
		_, lines := demoLog(b, "nutanix", 20_000)
		dir := b.TempDir()
		day1 = writeLines(b, dir, "day1.log", lines[:len(lines)/2])
		day2 = writeLines(b, dir, "day2.log", lines[len(lines)/2:])
	}
	ws := dayOne(b, day1)
	samples, err := os.CreateTemp(b.TempDir(), "samples")
	if err != nil {
		b.Fatal(err)
	}
	defer samples.Close()
	m, _, err := ws.continued(ctx, analysis.Options{SampleFile: samples}, func(*analysis.Model) {})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := analysis.Import(ctx, m, []string{day2}, analysis.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	merged := 0
	defer analysis.LowerGC(commitGC(false, m.OutsideHeap(), liveHeap()))()
	reportCPU := cpuPerOp(b)
	for b.Loop() {
		err := ws.writeConn(ctx, func(tx *sql.Tx, conn *sql.Conn) error {
			added, err := storeModel(ctx, tx, ws.db, m, nil, false)
			if err != nil {
				return err
			}
			merged = m.Stats().Conversations - int(added.Conversations)
			return errRollBack
		})
		if !errors.Is(err, errRollBack) {
			b.Fatal(err)
		}
		if merged == 0 {
			b.Fatal("no conversation merged into a stored one: not the next day's commit")
		}
	}
	reportCPU()
	b.ReportMetric(float64(merged), "merged")
}

// BenchmarkRestore measures the next day's restore of the open connections
// a workspace holds (Workspace.continued, as an import's reading starts):
// the stored chunks decoded and placed into a new model's tables. The
// workspace holds the log FLOWSLEUTH_BENCH_DAY1 names (by default the
// first file of resumeLines(20,000), whose connections the second goes
// on with); make bench-ingest's short Nutanix lines leave 638,000
// connections open after their first half, and their restore took 165 ms.
func BenchmarkRestore(b *testing.B) {
	day1 := os.Getenv("FLOWSLEUTH_BENCH_DAY1")
	if day1 == "" {
		first, _ := resumeLines(20_000)
		day1 = writeLines(b, b.TempDir(), "day1.log", first)
	}
	ws := dayOne(b, day1)
	defer analysis.RaiseProcs(analysis.ReadProcs())() // as an import restores (Workspace.read)
	reportCPU := cpuPerOp(b)
	open := 0
	for b.Loop() {
		m, _, err := ws.continued(ctx, analysis.Options{}, nil)
		if err != nil {
			b.Fatal(err)
		}
		open = m.Stats().Open
	}
	reportCPU()
	if open < 1000 {
		b.Fatalf("%d open connections restored: too few to measure", open)
	}
	b.ReportMetric(float64(open), "open")
}

// dayOne returns a new workspace that imported the log day1, closed when b
// ends.
func dayOne(b *testing.B, day1 string) *Workspace {
	b.Helper()
	ws, err := OpenNew(filepath.Join(b.TempDir(), "w.flowsleuth"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ws.Close() })
	if _, err := ws.Import(ctx, []string{day1}, ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	return ws
}

// cpuPerOp starts counting the process's CPU time; the function it returns
// reports it per op as cpu-ns/op, once the benchmark's loop is done (where
// processCPU can read it).
func cpuPerOp(b *testing.B) (report func()) {
	cpu := processCPU(b)
	return func() {
		if cpu >= 0 {
			b.ReportMetric(float64(processCPU(b)-cpu)/float64(b.N), "cpu-ns/op")
		}
	}
}
