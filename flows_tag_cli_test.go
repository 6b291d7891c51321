package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/ingest/demo"
)

// TestFlowsTagFilter: flows --tag keeps exactly the conversations that
// carry one of the tags, as the unfiltered CSV lists them.
func TestFlowsTagFilter(t *testing.T) {
	log := filepath.Join(t.TempDir(), "demo.log")
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := demo.Generate(f, demo.Config{Vendor: "nsxv", Sessions: 2000, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	rows := func(args ...string) [][]string {
		return csvRecords(t, flowsleuthOK(t, append([]string{"flows", "-q", "--format", "csv"}, args...)...))
	}
	tagged := func(r []string, tags ...string) bool {
		return slices.ContainsFunc(strings.Split(r[1], ";"), func(s string) bool {
			name, _, _ := strings.Cut(s, ":")
			return slices.Contains(tags, name)
		})
	}
	all := rows(log)
	for _, tags := range [][]string{{"SGTSWEB"}, {"SGTSDB", "SGTSAPP"}} {
		var want [][]string
		for _, r := range all {
			if tagged(r, tags...) {
				want = append(want, r)
			}
		}
		got := rows("--tag", strings.Join(tags, ","), log)
		if len(want) == 0 || len(want) == len(all) || !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("--tag %v: %d rows, want %d of %d", tags, len(got), len(want), len(all))
		}
	}
}
