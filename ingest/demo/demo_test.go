package demo_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
	"github.com/flowsleuth/flowsleuth/ingest/demo"
)

var vendors = []struct {
	Name string
	Want ingest.Vendor
}{
	{"nutanix", ingest.Nutanix},
	{"nsxv", ingest.NSXV},
	{"nsxt", ingest.NSXT},
	{"nsx4", ingest.NSX4},
}

func generate(t testing.TB, cfg demo.Config) ([]byte, []demo.Row, demo.Summary) {
	t.Helper()
	var buf bytes.Buffer
	rows, sum, err := demo.Generate(&buf, cfg)
	if err != nil {
		t.Fatalf("Generate(%+v): %v", cfg, err)
	}
	return buf.Bytes(), rows, sum
}

func lines(out []byte) [][]byte {
	ls := bytes.Split(out, []byte("\n"))
	if n := len(ls); n > 0 && len(ls[n-1]) == 0 {
		ls = ls[:n-1]
	}
	return ls
}

func TestWrappers(t *testing.T) {
	tests := []struct {
		Name, Vendor, Default string
		Len                   int
	}{
		{"Nutanix", "nutanix", "forward", 8},
		{"NSXV", "nsxv", "forward", 8},
		{"NSXT", "nsxt", "forward", 8},
		{"NSX4", "nsx4", "forward", 8},
		{"Unknown", "fortigate", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			ws := demo.Wrappers(tc.Vendor)
			if got, want := len(ws), tc.Len; got != want {
				t.Fatalf("len(Wrappers(%q)) = %d, want %d (%v)", tc.Vendor, got, want, ws)
			}
			if len(ws) > 0 && ws[0] != tc.Default {
				t.Errorf("default wrapper = %q, want %q", ws[0], tc.Default)
			}
		})
	}
}

func TestGenerateErrors(t *testing.T) {
	tests := []struct {
		Name    string
		Cfg     demo.Config
		WantErr error
	}{
		{"Vendor", demo.Config{Vendor: "asa", Sessions: 1}, demo.ErrVendor},
		{"Wrapper", demo.Config{Vendor: "nsxt", Wrap: "bare", Sessions: 1}, demo.ErrWrapper},
		{"NutanixLocal", demo.Config{Vendor: "nutanix", Wrap: "local", Sessions: 1}, demo.ErrWrapper},
		{"Sessions", demo.Config{Vendor: "nutanix", Sessions: -1}, demo.ErrConfig},
		{"Days", demo.Config{Vendor: "nutanix", Sessions: 1, Days: -2}, demo.ErrConfig},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			var buf bytes.Buffer
			_, _, err := demo.Generate(&buf, tc.Cfg)
			if !errors.Is(err, tc.WantErr) {
				t.Fatalf("err = %v, want %v", err, tc.WantErr)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes on error", buf.Len())
			}
		})
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n += len(p); f.n > 1<<20 {
		return 0, io.ErrShortWrite
	}
	return len(p), nil
}

func TestGenerateWriteError(t *testing.T) {
	_, _, err := demo.Generate(&failWriter{}, demo.Config{Vendor: "nsxt", Sessions: 50_000})
	if !errors.Is(err, io.ErrShortWrite) {
		t.Fatalf("err = %v, want %v", err, io.ErrShortWrite)
	}
}

func TestDeterminism(t *testing.T) {
	for _, v := range vendors {
		for _, wrap := range demo.Wrappers(v.Name) {
			t.Run(v.Name+"/"+wrap, func(t *testing.T) {
				cfg := demo.Config{Vendor: v.Name, Wrap: wrap, Sessions: 500, Seed: 42}
				out1, rows1, sum1 := generate(t, cfg)
				out2, rows2, sum2 := generate(t, cfg)
				if !bytes.Equal(out1, out2) {
					t.Error("same config, different lines")
				}
				if !reflect.DeepEqual(rows1, rows2) || sum1 != sum2 {
					t.Error("same config, different truth or summary")
				}
				cfg.Seed++
				out3, _, _ := generate(t, cfg)
				if bytes.Equal(out1, out3) {
					t.Error("different seeds, same lines")
				}
			})
		}
	}
}

// TestParse reads every line of every vendor × wrapper back with ingest, and
// rebuilds the conversation table from the parsed events alone: it must be
// the truth Generate returned.
func TestParse(t *testing.T) {
	for _, v := range vendors {
		for _, wrap := range demo.Wrappers(v.Name) {
			t.Run(v.Name+"/"+wrap, func(t *testing.T) {
				cfg := demo.Config{Vendor: v.Name, Wrap: wrap, Sessions: 3000, Seed: 7}
				out, rows, sum := generate(t, cfg)
				evs := parseAll(t, out, sum)
				if got, want := int64(len(evs)), sum.Lines; got != want {
					t.Fatalf("parsed %d lines, summary says %d", got, want)
				}
				want := v.Want
				if v.Name == "nsx4" && wrap == "local" {
					// The local file has no tag, and an NSX 4 payload is an
					// NSX-T one: the version cannot be told.
					want = ingest.VendorUnknown
				}
				for i, ev := range evs {
					if want != ingest.VendorUnknown && ev.Vendor != want {
						t.Fatalf("line %d: vendor %v, want %v", i+1, ev.Vendor, want)
					}
					if i > 0 && ev.Time.Before(evs[i-1].Time) {
						t.Fatalf("line %d: time %v before %v", i+1, ev.Time, evs[i-1].Time)
					}
				}
				checkTruth(t, rows, sum, cfg.Sessions, rebuild(t, evs))
			})
		}
	}
}

func parseAll(t *testing.T, out []byte, sum demo.Summary) []ingest.Event {
	t.Helper()
	p := ingest.NewParser(ingest.WithReferenceTime(sum.Last))
	var evs []ingest.Event
	for i, l := range lines(out) {
		var ev ingest.Event
		b, err := p.Parse(l, &ev)
		if b != ingest.Parsed {
			t.Fatalf("line %d: %v %v: %q", i+1, b, err, l)
		}
		if ev.Time.After(sum.Last) || ev.Time.Before(sum.First.Truncate(time.Second)) {
			t.Fatalf("line %d: time %v outside summary %v..%v", i+1, ev.Time, sum.First, sum.Last)
		}
		ev.Raw = nil
		evs = append(evs, ev)
	}
	return evs
}

func checkTruth(t *testing.T, rows []demo.Row, sum demo.Summary, sessions int, got []demo.Row) {
	t.Helper()
	var n uint64
	for _, r := range rows {
		n += r.Sessions
	}
	if n != uint64(sessions) || sum.Sessions != int64(sessions) {
		t.Errorf("truth has %d sessions, summary %d, want %d", n, sum.Sessions, sessions)
	}
	if !slices.IsSortedFunc(rows, compareRows) {
		t.Error("truth not sorted")
	}
	if len(got) != len(rows) {
		t.Fatalf("rebuilt %d conversations, truth has %d", len(got), len(rows))
	}
	for i := range rows {
		if !reflect.DeepEqual(got[i], rows[i]) {
			t.Fatalf("row %d:\nrebuilt %+v\ntruth   %+v", i, got[i], rows[i])
		}
	}
}

// TestStart places logs anywhere in time, across a new year too: RFC 3164
// stamps then get their year from the reference time (Summary.Last).
func TestStart(t *testing.T) {
	tests := []struct {
		Name, Vendor, Wrap string
		Start              time.Time
		Days               int
	}{
		{"NewYearNSXV", "nsxv", "rfc3164", time.Date(2025, 12, 30, 22, 0, 0, 0, time.UTC), 4},
		{"NewYearNutanix", "nutanix", "vss", time.Date(2025, 12, 31, 12, 0, 0, 0, time.UTC), 2},
		{"Zone", "nsx4", "rfc3164", time.Date(2026, 3, 1, 8, 30, 0, 0, time.FixedZone("CET", 3600)), 1},
		{"Leap", "nutanix", "rfc3164", time.Date(2024, 2, 28, 0, 0, 0, 0, time.UTC), 3},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			cfg := demo.Config{Vendor: tc.Vendor, Wrap: tc.Wrap, Sessions: 2000, Seed: 9, Start: tc.Start, Days: tc.Days}
			out, rows, sum := generate(t, cfg)
			if !sum.First.Equal(tc.Start) || sum.First.Location() != time.UTC {
				t.Errorf("first event %v, want %v in UTC", sum.First, tc.Start)
			}
			end := tc.Start.AddDate(0, 0, tc.Days).Add(2 * time.Hour)
			if sum.Last.After(end) {
				t.Errorf("last time %v, want before %v", sum.Last, end)
			}
			evs := parseAll(t, out, sum)
			for i := 1; i < len(evs); i++ {
				if evs[i].Time.Before(evs[i-1].Time) {
					t.Fatalf("line %d: time %v before %v", i+1, evs[i].Time, evs[i-1].Time)
				}
			}
			checkTruth(t, rows, sum, cfg.Sessions, rebuild(t, evs))
		})
	}
}

// TestWorld checks that the simulated world shows what it promises.
func TestWorld(t *testing.T) {
	tests := []struct {
		Name, Vendor, Wrap string
		Tags               []string
		Actions            []string
		Hosts              bool
	}{
		{"Nutanix", "nutanix", "", []string{"App Isolation", "Discover-Traffic"}, []string{"ALLOW", "DROP", "MONITOR"}, true},
		{"NutanixBare", "nutanix", "bare", []string{"App Isolation", "Discover-Traffic"}, []string{"ALLOW", "DROP", "MONITOR"}, false},
		{"NSXV", "nsxv", "", []string{"SGTSAPP", "SGTSDB", "SGTSWEB"}, []string{"ALLOW", "DROP"}, true},
		{"NSX4Local", "nsx4", "local", []string{"SGTSAPP", "SGTSDB", "SGTSWEB"}, []string{"ALLOW", "DROP"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			_, rows, sum := generate(t, demo.Config{Vendor: tc.Vendor, Wrap: tc.Wrap, Sessions: 20_000, Seed: 3})
			var tags, actions []string
			dirs := map[string]int{}
			icmp, unanswered, hosts := 0, 0, 0
			for _, r := range rows {
				dirs[r.Direction] += int(r.Sessions)
				for _, s := range r.Tags {
					tags = addSorted(tags, s)
				}
				for _, s := range r.Actions {
					actions = addSorted(actions, s)
				}
				if r.Proto == ingest.ProtoICMP && r.DPort == 0 {
					icmp++
				}
				if r.Direction == "INBOUND" && r.Src.String() == "203.0.113.66" {
					unanswered++
				}
				hosts += len(r.Hosts)
			}
			if !reflect.DeepEqual(tags, tc.Tags) || !reflect.DeepEqual(actions, tc.Actions) {
				t.Errorf("tags %q actions %q, want %q %q", tags, actions, tc.Tags, tc.Actions)
			}
			for _, d := range []string{"INBOUND", "OUTBOUND", "INTRA"} {
				if dirs[d] < 2000 {
					t.Errorf("%d %s sessions, want more", dirs[d], d)
				}
			}
			if icmp == 0 || unanswered < 100 {
				t.Errorf("%d ICMP conversations, %d scanned ports", icmp, unanswered)
			}
			if (hosts > 0) != tc.Hosts {
				t.Errorf("%d hosts named, want hosts %v", hosts, tc.Hosts)
			}
			if d := sum.Last.Sub(sum.First); d < 6*24*time.Hour || d > 8*24*time.Hour {
				t.Errorf("summary spans %v, want about 7 days", d)
			}
		})
	}
}

// TestJSON checks the text of json records against encoding/json with HTML
// escaping off, and '/' written as "\/" for NSX as VMware Cloud does.
func TestJSON(t *testing.T) {
	for _, v := range vendors {
		t.Run(v.Name, func(t *testing.T) {
			out, _, _ := generate(t, demo.Config{Vendor: v.Name, Wrap: "json", Sessions: 200})
			for i, l := range lines(out) {
				var rec struct {
					Text string `json:"text"`
				}
				if err := json.Unmarshal(l, &rec); err != nil {
					t.Fatalf("line %d: %v", i+1, err)
				}
				var buf bytes.Buffer
				enc := json.NewEncoder(&buf)
				enc.SetEscapeHTML(false)
				if err := enc.Encode(rec.Text); err != nil {
					t.Fatal(err)
				}
				want := strings.TrimSuffix(buf.String(), "\n")
				if v.Name != "nutanix" {
					want = strings.ReplaceAll(want, "/", `\/`)
				}
				if !bytes.Contains(l, []byte(`"text":`+want)) {
					t.Fatalf("line %d: %s\nwant text %s", i+1, l, want)
				}
			}
		})
	}
}

func TestWriteTruthCSV(t *testing.T) {
	_, rows, _ := generate(t, demo.Config{Vendor: "nutanix", Sessions: 2000, Seed: 5})
	var buf bytes.Buffer
	if err := demo.WriteTruthCSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	const header = "direction,tags,src,dst,proto,dport,sessions,packets,bytes,first_seen,last_seen,actions,hosts\r\n"
	if !strings.HasPrefix(buf.String(), header) {
		t.Fatalf("header: %q", strings.SplitN(buf.String(), "\n", 2)[0])
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(recs), len(rows)+1; got != want {
		t.Fatalf("%d records, want %d", got, want)
	}
	for i, r := range rows {
		rec := recs[i+1]
		want := []string{r.Direction, strings.Join(r.Tags, ";"), r.Src.String(), r.Dst.String(),
			ingest.ProtoName(r.Proto), "", "", "", "", r.FirstSeen.Format("2006-01-02T15:04:05Z"),
			r.LastSeen.Format("2006-01-02T15:04:05Z"), strings.Join(r.Actions, ";"), strings.Join(r.Hosts, ";")}
		for j, w := range want {
			if w != "" && rec[j] != w {
				t.Fatalf("row %d column %d = %q, want %q", i, j, rec[j], w)
			}
		}
	}
	var empty bytes.Buffer
	if err := demo.WriteTruthCSV(&empty, nil); err != nil || empty.String() != header {
		t.Errorf("no rows: %q, %v", empty.String(), err)
	}
}

// memWriter discards what it is given and samples the heap as it goes.
type memWriter struct {
	writes int
	max    uint64
}

func (m *memWriter) Write(p []byte) (int, error) {
	if m.writes++; m.writes%16 == 1 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		m.max = max(m.max, ms.HeapInuse)
	}
	return len(p), nil
}

func TestMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	runtime.GC()
	var w memWriter
	_, sum, err := demo.Generate(&w, demo.Config{Vendor: "nutanix", Sessions: 200_000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	const limit = 64 << 20
	if w.max == 0 || w.max > limit {
		t.Fatalf("heap in use reached %d MB writing %d lines, want under %d MB", w.max>>20, sum.Lines, limit>>20)
	}
	t.Logf("%d lines, heap in use at most %.1f MB", sum.Lines, float64(w.max)/(1<<20))
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// BenchmarkGenerate writes 100 000 sessions per iteration.
func BenchmarkGenerate(b *testing.B) {
	for _, v := range []string{"nutanix", "nsxt"} {
		b.Run(v, func(b *testing.B) {
			cfg := demo.Config{Vendor: v, Sessions: 100_000, Seed: 1}
			var cw countWriter
			_, sum, err := demo.Generate(&cw, cfg)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(cw.n)
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := demo.Generate(io.Discard, cfg); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(sum.Lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}
