package export

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// fakeHistory is the workspace's NSX export history.
type fakeHistory struct {
	prev     []string
	recorded map[string][]string // by target/policy
}

func (h *fakeHistory) Exported(_ context.Context, target, policy string) ([]string, error) {
	return h.prev, nil
}

func (h *fakeHistory) RecordExport(_ context.Context, target, policy string, ids []string) error {
	h.recorded[target+"/"+policy] = ids
	return nil
}

// failingLoader cannot read sample lines.
type failingLoader struct{}

var errDisk = errors.New("disk on fire")

func (failingLoader) Samples([]int64) ([][]string, error) { return nil, errDisk }

// brokenTable is one conversation whose sample line cannot be read.
func brokenTable() *analysis.Table {
	st := analysis.ConvState{Src: netip.MustParseAddr("10.1.0.1"), Dst: netip.MustParseAddr("10.2.0.1"), Proto: ingest.ProtoTCP, DPort: 443}
	b := analysis.NewTableBuilder(nil, 1, failingLoader{})
	b.Add(&st, 1, 1)
	return b.Finish(analysis.NewMonitored(nil, []analysis.ConvState{st}), nil)
}

// runCase is one export of TestRun.
type runCase struct {
	name     string
	fx       vtFixture
	table    *analysis.Table
	targets  func(dir string) Targets
	written  []string // relative to dir
	is       error
	losses   []string // the formats that lost something
	external []string
	recorded bool // the NSX body's ids recorded, the earlier one deleted
}

// TestRun: the export the CLI and the app both run writes the planned
// files in order, gathers the vendor losses, lists the NSX body's
// existing groups, deletes what an earlier NSX export wrote and records
// what it wrote now; it stops at the first file it cannot write, one
// whose sample lines cannot be read included.
func TestRun(t *testing.T) {
	fx := map[string]vtFixture{}
	for _, f := range vtFixtures() {
		fx[f.name] = f
	}
	books, losses := fx["books"], fx["losses"]
	books.opts.NSXHistory = nil // the history comes from the workspace here
	for _, tc := range []runCase{
		{name: "nothing", fx: books, targets: func(string) Targets { return Targets{} }},
		{name: "csv in a new folder, then v3 with losses", fx: losses,
			targets: func(d string) Targets {
				return Targets{CSVDir: filepath.Join(d, "csv"), NutanixV3: filepath.Join(d, "v3.json")}
			},
			written: []string{"csv/rules.csv", "csv/flows.csv", "csv/review.csv", "v3.json"}, losses: []string{"Nutanix v3"}},
		{name: "nsx, remembered", fx: books, targets: func(d string) Targets { return Targets{NSX: filepath.Join(d, "nsx.json")} },
			written: []string{"nsx.json"}, external: []string{"/infra/domains/default/groups/SGTSAPP",
				"/infra/domains/default/groups/SGTSWEB", "/infra/domains/prod/groups/SGTSDB"}, recorded: true},
		{name: "stops at the first file it cannot write", fx: books,
			targets: func(d string) Targets {
				return Targets{CSVDir: filepath.Join(d, "csv"), NutanixV4: filepath.Join(d, "none", "v4.json"), NSX: filepath.Join(d, "nsx.json")}
			},
			written: []string{"csv/rules.csv", "csv/flows.csv", "csv/review.csv"}, is: fs.ErrNotExist},
		{name: "sample lines unread", fx: books, table: brokenTable(),
			targets: func(d string) Targets { return Targets{CSVDir: d} },
			is:      errDisk},
	} {
		t.Run(tc.name, tc.run)
	}
}

func (tc runCase) run(t *testing.T) {
	dir := t.TempDir()
	h := &fakeHistory{prev: []string{"fs-r-gone"}, recorded: map[string][]string{}}
	rs := tc.fx.rs
	if tc.table != nil { // the first rule's evidence is the table's conversation
		rs.Table = tc.table
		rs.Rules = slices.Clone(rs.Rules)
		rs.Rules[0].Evidence.Rows = []int32{0}
	}
	var started, done []string
	res, err := Run(tc.targets(dir), &Input{Rules: rs, Vendor: tc.fx.opts, History: h}, func(j Job, written bool) {
		if written {
			done = append(done, j.Path)
		} else {
			started = append(started, j.Path)
		}
	})
	if tc.is == nil && err != nil || tc.is != nil && !errors.Is(err, tc.is) {
		t.Fatalf("err %v, want %v", err, tc.is)
	}
	var want []string
	for _, p := range tc.written {
		want = append(want, filepath.Join(dir, p))
	}
	if !slices.Equal(res.Written, want) || !slices.Equal(done, want) {
		t.Errorf("written %q, progress %q, want %q", res.Written, done, want)
	}
	if tc.is != nil && len(started) != len(want)+1 {
		t.Errorf("started %q after failing", started)
	}
	for _, p := range want {
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
	tc.checkResult(t, res, h)
}

// checkResult checks the losses, the existing groups and the history.
func (tc runCase) checkResult(t *testing.T, res Result, h *fakeHistory) {
	var formats []string
	for _, le := range res.Losses {
		formats = append(formats, le.Format)
	}
	if !slices.Equal(formats, tc.losses) {
		t.Errorf("losses of %q, want %q", formats, tc.losses)
	}
	if !slices.Equal(res.NSXExternal, tc.external) {
		t.Errorf("NSX external groups %q, want %q", res.NSXExternal, tc.external)
	}
	ids := h.recorded["nsx/"+nsxPolicyID(tc.fx.opts.policyName())]
	if tc.recorded != (len(ids) > 0) || slices.Contains(ids, "fs-r-gone") {
		t.Errorf("recorded %q (%v wanted)", ids, tc.recorded)
	}
	if tc.recorded {
		body, err := os.ReadFile(res.Written[0])
		if err != nil || !bytes.Contains(body, []byte(`"fs-r-gone"`)) {
			t.Errorf("the NSX body does not delete the rule the last export wrote (%v)", err)
		}
	}
}
