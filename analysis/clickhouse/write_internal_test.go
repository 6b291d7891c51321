package clickhouse

import (
	"slices"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// TestBySize checks the runs of records that inserts carry: in order, none
// over the limit unless one record alone is, every record once.
func TestBySize(t *testing.T) {
	rec := func(id uint64, sample int) analysis.SessionRecord {
		return analysis.SessionRecord{ID: id, Host: "esx-01", Labels: []string{"SGTSWEB"}, Samples: []string{strings.Repeat("x", sample)}}
	}
	small := recordSize(&analysis.SessionRecord{ID: 1, Host: "esx-01", Labels: []string{"SGTSWEB"}, Samples: []string{""}})
	tests := []struct {
		Name  string
		Sizes []int // sample lengths
		Limit int
		Want  []int // records per run
	}{
		{"none", nil, 1000, nil},
		{"all fit", []int{0, 0, 0}, 3 * small, []int{3}},
		{"one over", []int{0, 0, 0}, 3*small - 1, []int{2, 1}},
		{"one each", []int{0, 0, 0}, small, []int{1, 1, 1}},
		{"a record over the limit goes alone", []int{0, 5000, 0}, 2 * small, []int{1, 1, 1}},
		{"64 KiB samples", []int{64 << 10, 64 << 10, 64 << 10, 64 << 10}, 150 << 10, []int{2, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			var recs []analysis.SessionRecord
			for i, n := range tc.Sizes {
				recs = append(recs, rec(uint64(i+1), n))
			}
			runs := bySize(recs, tc.Limit)
			var got []int
			next := uint64(1)
			for _, run := range runs {
				got = append(got, len(run))
				size := 0
				for i := range run {
					if run[i].ID != next {
						t.Fatalf("record %d where %d was due", run[i].ID, next)
					}
					next++
					size += recordSize(&run[i])
				}
				if size > tc.Limit && len(run) > 1 {
					t.Errorf("a run of %d records is %d bytes, over %d", len(run), size, tc.Limit)
				}
			}
			if !slices.Equal(got, tc.Want) {
				t.Errorf("runs of %v records, want %v", got, tc.Want)
			}
		})
	}
}
