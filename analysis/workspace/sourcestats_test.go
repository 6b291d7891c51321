package workspace

import (
	"encoding/json"
	"testing"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// TestSourceStatsAdd: a source's statistics sum its imports' counts, keep
// the last import's held-back tail (the next import reads it again), name
// the vendors, and are stored under the keys workspaces already hold.
func TestSourceStatsAdd(t *testing.T) {
	var s sourceStats
	first := ingest.Stats{Counts: ingest.Counts{Bytes: 100, Lines: 4, Events: 2, Unsupported: 1, Malformed: 1, NULLines: 1}, Pending: 30,
		UnsupportedReasons: map[string]int64{"not a rule hit": 1}, MalformedReasons: map[string]int64{"bad port": 1}}
	first.Vendors[ingest.NSX4] = 2
	second := ingest.Stats{Counts: ingest.Counts{Bytes: 50, Lines: 2, Events: 1, Skipped: 1}, Pending: 7}
	second.Vendors[ingest.NSX4] = 1
	s.add(&first)
	s.add(&second)
	got, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Bytes":150,"Lines":6,"Events":3,"Unsupported":1,"Skipped":1,"Malformed":1,"NULLines":1,"Pending":7,` +
		`"Vendors":{"` + ingest.NSX4.String() + `":3},"UnsupportedReasons":{"not a rule hit":1},"MalformedReasons":{"bad port":1}}`
	if string(got) != want {
		t.Errorf("stored\n%s\nwant\n%s", got, want)
	}
	var back sourceStats
	if err := back.unmarshal(string(got)); err != nil || back.Lines != 6 || back.Pending != 7 || back.Vendors[ingest.NSX4.String()] != 3 {
		t.Errorf("read back %+v, %v", back, err)
	}
}
