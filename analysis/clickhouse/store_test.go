package clickhouse_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/analysis/clickhouse"
	"github.com/flowsleuth/flowsleuth/analysis/clickhouse/chtest"
	"github.com/flowsleuth/flowsleuth/ingest"
	"github.com/flowsleuth/flowsleuth/ingest/demo"
)

var ctx = context.Background()

func TestMain(m *testing.M) { os.Exit(chtest.Main(m)) }

// newStore creates a store in a new database of the test server.
func newStore(t *testing.T) *clickhouse.Store {
	t.Helper()
	_, url := chtest.Need(t)
	if _, err := clickhouse.Init(ctx, url, clickhouse.Layout{}); err != nil {
		t.Fatal(err)
	}
	s, err := clickhouse.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// memJournal is a journal in memory: batches of records and rule tags.
type memJournal struct {
	batches []memBatch
	acked   int64
}

type memBatch struct {
	recs []analysis.SessionRecord
	tags map[string]string
}

func (j *memJournal) NextBatches(ctx context.Context, limit int) (int64, []analysis.SessionRecord, map[string]string, error) {
	var recs []analysis.SessionRecord
	tags := map[string]string{}
	last := int64(0)
	for i := int(j.acked); i < len(j.batches); i++ {
		if last != 0 && len(recs)+len(j.batches[i].recs) > limit {
			break
		}
		recs = append(recs, j.batches[i].recs...)
		for r, t := range j.batches[i].tags {
			tags[r] = t
		}
		last = int64(i + 1)
	}
	return last, recs, tags, nil
}

func (j *memJournal) Forwarded(ctx context.Context, last int64) error {
	j.acked = last
	return nil
}

// collect reads lines into models that continue each other at the cuts,
// as a collector's commits do, journaling each model's records.
func collect(t *testing.T, j *memJournal, lines []string, cuts ...int) {
	t.Helper()
	m := analysis.NewModel(analysis.Options{Records: true})
	from := 0
	p := ingest.NewParser()
	for _, cut := range append(cuts, len(lines)) {
		for _, l := range lines[from:cut] {
			var ev ingest.Event
			if b, _ := p.Parse([]byte(l), &ev); b == ingest.Parsed {
				m.Add(&ev)
			}
		}
		j.batches = append(j.batches, memBatch{m.Records(), m.RuleTags()})
		sessions, clocks := m.Sessions()
		next := analysis.NewModel(analysis.Options{Records: true})
		next.Restore(sessions, clocks)
		next.SetRecordSeq(m.RecordSeq())
		m, from = next, cut
	}
}

func demoLines(t *testing.T, vendor string, sessions int, seed int64) []string {
	t.Helper()
	var buf bytes.Buffer
	if _, _, err := demo.Generate(&buf, demo.Config{Vendor: vendor, Sessions: sessions, Seed: seed}); err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(buf.String()), "\n")
}

func inMemory(t *testing.T, lines []string) []analysistest.Conversation {
	t.Helper()
	m := analysis.NewModel(analysis.Options{})
	p := ingest.NewParser()
	for _, l := range lines {
		var ev ingest.Event
		if b, _ := p.Parse([]byte(l), &ev); b == ingest.Parsed {
			m.Add(&ev)
		}
	}
	return analysistest.Rows(m.Table())
}

// byHost splits lines by reporting host: hosts in a go to the first part.
func byHost(lines []string, a ...string) (first, second []string) {
	p := ingest.NewParser()
	for _, l := range lines {
		var ev ingest.Event
		p.Parse([]byte(l), &ev)
		if slices.Contains(a, ev.Host) {
			first = append(first, l)
		} else {
			second = append(second, l)
		}
	}
	return first, second
}

// TestStoreEqualsOneModel: two collectors, each tracking the sessions of
// its hosts over several commits (every open session written again as it
// changed), one of them sending everything twice, give the conversation
// table of one model reading every line, for every vendor: both ends of a
// connection logged by hosts of different collectors count once.
func TestStoreEqualsOneModel(t *testing.T) {
	for _, tc := range []struct{ vendor, host string }{
		{"nutanix", "ahv-node-1"}, {"nsxv", "esx-01"}, {"nsxt", "esx-02"}, {"nsx4", "esx-03"},
	} {
		t.Run(tc.vendor, func(t *testing.T) {
			lines := demoLines(t, tc.vendor, 2000, 3)
			want := inMemory(t, lines)
			s := newStore(t)
			a, b := byHost(lines, tc.host)
			if len(a) == 0 || len(b) == 0 {
				t.Fatalf("split by host %s: %d and %d lines", tc.host, len(a), len(b))
			}
			for i, part := range [][]string{a, b} {
				var j memJournal
				collect(t, &j, part, len(part)/3, len(part)/2)
				c := clickhouse.Collector{ID: uint64(100 + i), Name: "site"}
				if _, err := s.Forward(ctx, &j, c, nil); err != nil {
					t.Fatal(err)
				}
				if i == 1 { // a retry of everything: idempotent
					j.acked = 0
					if _, err := s.Forward(ctx, &j, c, nil); err != nil {
						t.Fatal(err)
					}
				}
			}
			got, err := analysistest.RowsOf(s.Conversations(ctx, clickhouse.Query{}))
			if err != nil {
				t.Fatal(err)
			}
			analysistest.SameConversations(t, got, want)
		})
	}
}

// TestCluster runs the sharded layout (Distributed tables over tables on
// two shards, here two databases of the test server): the store is still
// the table of one model, and both shards hold rows.
func TestCluster(t *testing.T) {
	srv, url := chtest.Need(t)
	for _, db := range chtest.ShardDatabases {
		for _, stmt := range clickhouse.ShardDDL(db) {
			if _, err := srv.Exec(stmt); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := clickhouse.Init(ctx, url, clickhouse.Layout{Cluster: chtest.Cluster, ShardDefault: true}); err != nil {
		t.Fatal(err)
	}
	s, err := clickhouse.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	lines := demoLines(t, "nsxt", 2000, 5)
	a, b := byHost(lines, "esx-01")
	for i, part := range [][]string{a, b} {
		var j memJournal
		collect(t, &j, part, len(part)/2)
		if _, err := s.Forward(ctx, &j, clickhouse.Collector{ID: uint64(i + 1)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	got, err := analysistest.RowsOf(s.Conversations(ctx, clickhouse.Query{}))
	if err != nil {
		t.Fatal(err)
	}
	analysistest.SameConversations(t, got, inMemory(t, lines))
	for _, db := range chtest.ShardDatabases {
		n, err := srv.Exec("SELECT count() FROM " + db + ".sessions_local")
		if err != nil || strings.TrimSpace(n) == "0" {
			t.Errorf("shard %s holds %q rows (%v)", db, strings.TrimSpace(n), err)
		}
	}
}

// filtered is a store holding an NSX-V corpus, with the records it got
// and what they sum to in Go: the reference of the filters' tests.
type filtered struct {
	s    *clickhouse.Store
	recs []analysis.SessionRecord // the latest of each session
	tags map[string]string
	all  []analysis.ConvState
	mon  *analysis.Monitored
}

func newFiltered(t *testing.T) *filtered {
	t.Helper()
	lines := demoLines(t, "nsxv", 3000, 4)
	f := &filtered{s: newStore(t), tags: map[string]string{}}
	var j memJournal
	collect(t, &j, lines, len(lines)/2)
	if _, err := f.s.Forward(ctx, &j, clickhouse.Collector{ID: 1}, nil); err != nil {
		t.Fatal(err)
	}
	latest := map[uint64]analysis.SessionRecord{}
	for _, b := range j.batches {
		for _, r := range b.recs {
			if r.Version > latest[r.ID].Version {
				latest[r.ID] = r
			}
		}
		for r, tg := range b.tags {
			f.tags[r] = tg
		}
	}
	for _, r := range latest {
		f.recs = append(f.recs, r)
	}
	slices.SortFunc(f.recs, func(a, b analysis.SessionRecord) int { return cmp.Compare(a.ID, b.ID) })
	f.all = analysistest.RecordStates(f.recs, nil)
	f.mon = analysis.NewMonitored(nil, f.all)
	return f
}

// TestTimeRange: a time range keeps the sessions that started in it, exactly.
func TestTimeRange(t *testing.T) {
	f := newFiltered(t)
	since, until := time.Date(2025, 4, 9, 6, 30, 0, 0, time.UTC), time.Date(2025, 4, 11, 0, 0, 0, 0, time.UTC)
	got, err := analysistest.RowsOf(f.s.Conversations(ctx, clickhouse.Query{Since: since, Until: until}))
	if err != nil {
		t.Fatal(err)
	}
	in := analysistest.RecordStates(f.recs, func(r *analysis.SessionRecord) bool {
		return r.Start >= since.Unix() && r.Start < until.Unix()
	})
	want := analysistest.Build(in, f.mon, f.tags)
	if len(want) == 0 || len(want) == len(f.all) {
		t.Fatalf("the range keeps %d conversations: choose one that keeps some", len(want))
	}
	analysistest.SameConversations(t, got, want)
}

// TestTags: tags keep the conversations that carry them.
func TestTags(t *testing.T) {
	f := newFiltered(t)
	got, err := analysistest.RowsOf(f.s.Conversations(ctx, clickhouse.Query{Tags: []string{"SGTSDB", "SGTSAPP"}}))
	if err != nil {
		t.Fatal(err)
	}
	var want []analysistest.Conversation
	for _, c := range analysistest.Build(f.all, f.mon, f.tags) {
		if slices.ContainsFunc(c.Tags, func(tg analysis.Tag) bool { return tg.Name == "SGTSDB" || tg.Name == "SGTSAPP" }) {
			want = append(want, c)
		}
	}
	if len(want) == 0 {
		t.Fatal("no conversation has the tags")
	}
	analysistest.SameConversations(t, got, want)
}

// TestTop: Top keeps the largest conversations by bytes, largest first.
func TestTop(t *testing.T) {
	f := newFiltered(t)
	got, err := analysistest.RowsOf(f.s.Conversations(ctx, clickhouse.Query{Top: 10}))
	if err != nil {
		t.Fatal(err)
	}
	want := analysistest.Build(f.all, f.mon, f.tags)
	slices.SortStableFunc(want, func(a, b analysistest.Conversation) int { return cmp.Compare(b.Bytes(), a.Bytes()) })
	if len(got) != 10 {
		t.Fatalf("%d conversations, want 10", len(got))
	}
	for i := range got {
		if got[i].Bytes() != want[i].Bytes() {
			t.Fatalf("top %d: %d bytes, want %d", i, got[i].Bytes(), want[i].Bytes())
		}
	}
}

// TestSamples: the evidence lines are those of the earliest sessions that
// have some, by their first line's time, then text.
func TestSamples(t *testing.T) {
	f := newFiltered(t)
	got, err := analysistest.RowsOf(f.s.Conversations(ctx, clickhouse.Query{Samples: true}))
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		src, dst netip.Addr
		proto    uint8
		dport    uint16
	}
	with := map[key][]analysis.SessionRecord{}
	for _, r := range f.recs {
		if len(r.Samples) > 0 {
			k := key{r.Src, r.Dst, r.Proto, r.DPort}
			with[k] = append(with[k], r)
		}
	}
	for _, c := range got {
		rs := with[key{c.Src, c.Dst, c.Proto, c.DPort}]
		slices.SortFunc(rs, func(a, b analysis.SessionRecord) int {
			return cmp.Or(cmp.Compare(a.First, b.First), slices.Compare(a.Samples, b.Samples))
		})
		var want []string
		for _, r := range rs {
			for _, l := range r.Samples {
				if len(want) < analysis.DefaultSamples {
					want = append(want, l)
				}
			}
		}
		if len(want) == 0 || !slices.Equal(c.Samples, want) {
			t.Fatalf("%v→%v: samples %q, want %q", c.Src, c.Dst, c.Samples, want)
		}
	}
}

// TestSchema: a store must be made before use; making it twice is harmless.
func TestSchema(t *testing.T) {
	_, url := chtest.Need(t)
	if _, err := clickhouse.Open(ctx, url); !errors.Is(err, clickhouse.ErrNoSchema) {
		t.Fatalf("open before init: %v, want ErrNoSchema", err)
	}
	for i, want := range []uint32{0, clickhouse.SchemaVersion} {
		if before, err := clickhouse.Init(ctx, url, clickhouse.Layout{}); err != nil || before != want {
			t.Fatalf("init %d: found schema %d (%v), want %d", i+1, before, err, want)
		}
	}
	s, err := clickhouse.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v := s.ServerVersion(); v == "" {
		t.Error("no server version")
	}
	if _, err := clickhouse.Open(ctx, "clickhouse://127.0.0.1:1/x"); err == nil {
		t.Error("open of a closed port succeeded")
	}
}

// TestParseURL reads addresses and refuses what could inject DDL.
func TestParseURL(t *testing.T) {
	tests := []struct {
		Name, In string
		Want     clickhouse.Address
		WantErr  bool
	}{
		{"host and db", "clickhouse://ch1/flows", clickhouse.Address{Host: "ch1:9000", Database: "flows"}, false},
		{"port, user, password", "clickhouse://u:p@ch1:9440/flows?secure=true",
			clickhouse.Address{Host: "ch1:9440", Database: "flows", User: "u", Password: "p", Secure: true}, false},
		{"IPv6", "clickhouse://[::1]:9000/f", clickhouse.Address{Host: "[::1]:9000", Database: "f"}, false},
		{"no database", "clickhouse://ch1", clickhouse.Address{}, true},
		{"injection", "clickhouse://ch1/x;DROP", clickhouse.Address{}, true},
		{"other scheme", "http://ch1/flows", clickhouse.Address{}, true},
		{"unknown parameter", "clickhouse://ch1/flows?debug=1", clickhouse.Address{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			got, err := clickhouse.ParseURL(tc.In)
			if (err != nil) != tc.WantErr || (err == nil && !reflect.DeepEqual(got, tc.Want)) {
				t.Fatalf("got %+v, %v; want %+v, error %v", got, err, tc.Want, tc.WantErr)
			}
			if err == nil && strings.Contains(got.String(), "p@") {
				t.Errorf("String shows the password: %s", got)
			}
		})
	}
}
