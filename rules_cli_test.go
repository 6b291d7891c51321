package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRulesAndExportCLI(t *testing.T) {
	dir := t.TempDir()
	ws := filepath.Join(dir, "w.flowsleuth")
	logf := filepath.Join(dir, "nsx.log")
	flowsleuth(t, "", "demo", "--vendor", "nsxt", "--sessions", "2000", "--out", logf)
	if code, _, errs := flowsleuth(t, "", "import", "--workspace", ws, logf); code != exitOK {
		t.Fatal(errs)
	}
	code, fromFile, errs := flowsleuth(t, "", "rules", "--format", "csv", logf)
	if code != exitOK {
		t.Fatalf("rules of a file: %d %s", code, errs)
	}
	_, fromWS, _ := flowsleuth(t, "", "rules", "--format", "csv", "--workspace", ws)
	if fromFile != fromWS {
		t.Errorf("rules differ between the file and the workspace:\n%s", lineDiff(fromWS, fromFile))
	}
	recs, err := csv.NewReader(strings.NewReader(fromWS)).ReadAll()
	if err != nil || len(recs) < 3 {
		t.Fatalf("rules CSV: %v, %d records", err, len(recs))
	}
	if got := strings.Join(recs[0][:5], ","); got != "Source,Destination,Protocol,Destination Port,Description" {
		t.Errorf("rules CSV header starts %q", got)
	}
	_, table, _ := flowsleuth(t, "", "rules", "--workspace", ws)
	for _, want := range []string{"SGTSWEB", "To review (", "port scan", "never seen", "Knobs: collapse peers"} {
		if !strings.Contains(table, want) {
			t.Errorf("rules table lacks %q", want)
		}
	}
	_, js, _ := flowsleuth(t, "", "rules", "--format", "json", "--workspace", ws, "--any-peers", "2")
	var doc struct {
		Rules []struct{ Source struct{ Kind string } }
		Knobs struct{ AnyPeers int }
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil || doc.Knobs.AnyPeers != 2 || len(doc.Rules) == 0 {
		t.Fatalf("rules JSON: %v, knobs %+v", err, doc.Knobs)
	}

	out := filepath.Join(dir, "out")
	args := []string{"export", "--workspace", ws, "--xlsx", filepath.Join(out, "rules.xlsx"), "--csv", out,
		"--nutanix-v3", filepath.Join(out, "v3.json"), "--nutanix-v4", filepath.Join(out, "v4.json"),
		"--nsx", filepath.Join(out, "nsx.json")}
	os.MkdirAll(out, 0o755)
	code, msg, errs := flowsleuth(t, "", args...)
	if code != exitOK {
		t.Fatalf("export: exit %d: %s\n%s", code, errs, msg)
	}
	for _, f := range []string{"rules.xlsx", "rules.csv", "flows.csv", "v3.json", "v4.json", "v4.json.extids.csv", "nsx.json"} {
		st, err := os.Stat(filepath.Join(out, f))
		if err != nil || st.Size() == 0 || st.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v (size %v, mode %v)", f, err, st.Size(), st.Mode())
		}
	}
	for _, f := range []string{"v3.json", "v4.json", "nsx.json"} {
		b, _ := os.ReadFile(filepath.Join(out, f))
		if !json.Valid(b) {
			t.Errorf("%s is not JSON", f)
		}
	}
	// Unwritable destination: a clear error and no file left behind.
	code, _, errs = flowsleuth(t, "", "export", "--workspace", ws, "--xlsx", filepath.Join(dir, "missing", "x.xlsx"))
	if code != exitFailure || !strings.Contains(errs, "missing") {
		t.Errorf("unwritable path: exit %d, %s", code, errs)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "missing", "*")); len(matches) != 0 {
		t.Errorf("partial files left: %v", matches)
	}
	if code, _, errs := flowsleuth(t, "", "export", "--workspace", ws); code != exitUsage || !strings.Contains(errs, "say what to write") {
		t.Errorf("export without targets: %d %s", code, errs)
	}
}

// TestRuleEditsCLI: edits are recorded in the workspace, replayed by rules
// and export, survive an import of more logs, and can be undone.
func TestRuleEditsCLI(t *testing.T) {
	dir := t.TempDir()
	ws := filepath.Join(dir, "w.flowsleuth")
	day1, day2 := filepath.Join(dir, "day1.log"), filepath.Join(dir, "day2.log")
	flowsleuth(t, "", "demo", "--vendor", "nsxv", "--sessions", "1500", "--seed", "1", "--out", day1)
	flowsleuth(t, "", "demo", "--vendor", "nsxv", "--sessions", "1500", "--seed", "2", "--start", "2025-04-14T00:00:00Z", "--out", day2)
	flowsleuth(t, "", "import", "--workspace", ws, day1)
	_, js, _ := flowsleuth(t, "", "rules", "--format", "json", "--workspace", ws)
	var doc struct{ Rules []struct{ ID, Name string } }
	if err := json.Unmarshal([]byte(js), &doc); err != nil || len(doc.Rules) < 3 {
		t.Fatalf("rules: %v", err)
	}
	id := doc.Rules[1].ID
	if code, out, errs := flowsleuth(t, "", "rules", "edit", "--workspace", ws, id, "rename", "Web", "to", "DNS"); code != exitOK || !strings.Contains(out, "edit 1 recorded") {
		t.Fatalf("rename: %d %s %s", code, out, errs)
	}
	if code, _, errs := flowsleuth(t, "", "rules", "edit", "--workspace", ws, "r-0000000000", "delete"); code != exitFailure || !strings.Contains(errs, "no rule r-0000000000") {
		t.Errorf("an unknown rule was accepted: %d %s", code, errs)
	}
	if code, _, errs := flowsleuth(t, "", "rules", "edit", "--workspace", ws, id, "rename"); code != exitUsage || !strings.Contains(errs, "needs an argument") {
		t.Errorf("rename without a name: %d %s", code, errs)
	}
	flowsleuth(t, "", "import", "--workspace", ws, day2) // more data: the rename must survive
	_, js, _ = flowsleuth(t, "", "rules", "--format", "json", "--workspace", ws)
	if !strings.Contains(js, `"name": "Web to DNS"`) {
		t.Errorf("the rename did not survive more data")
	}
	_, list, _ := flowsleuth(t, "", "rules", "edits", "--workspace", ws)
	if !strings.Contains(list, "rename") || !strings.Contains(list, "applies") {
		t.Errorf("edits list:\n%s", list)
	}
	csvPath := filepath.Join(dir, "out")
	os.MkdirAll(csvPath, 0o755)
	flowsleuth(t, "", "export", "--workspace", ws, "--csv", csvPath)
	if b, _ := os.ReadFile(filepath.Join(csvPath, "rules.csv")); len(b) == 0 {
		t.Error("export wrote no rules")
	}
	if code, _, _ := flowsleuth(t, "", "rules", "unedit", "--workspace", ws, "1"); code != exitOK {
		t.Fatal("unedit failed")
	}
	_, js, _ = flowsleuth(t, "", "rules", "--format", "json", "--workspace", ws)
	if strings.Contains(js, `"name": "Web to DNS"`) {
		t.Error("the undone rename is still applied")
	}
}

// TestFocusCLI is seed workflow 1 ("only traffic to/from 10.48.52.240") on
// the reference Nutanix sample: no rule of direction UNKNOWN, the focused
// side named after its address (or its VM, with an inventory), the other
// conversations listed apart as outside the scope in every format.
func TestFocusCLI(t *testing.T) {
	sample := filepath.Join("ingest", "testdata", "samples", "nutanix-flow.log")
	type rulesDoc struct {
		Rules []struct {
			Name, Direction string
			Source          struct{ Name string }
			Destination     struct{ Name string }
		}
		Outside []struct{ Reason string } `json:"outside_scope"`
	}
	check := func(js, focusName string) {
		t.Helper()
		var doc rulesDoc
		if err := json.Unmarshal([]byte(js), &doc); err != nil {
			t.Fatalf("rules JSON: %v\n%s", err, js)
		}
		if len(doc.Rules) != 1 || len(doc.Outside) != 4 {
			t.Fatalf("%d rules and %d outside the scope, want 1 and 4:\n%s", len(doc.Rules), len(doc.Outside), js)
		}
		r := doc.Rules[0]
		if r.Direction != "OUTBOUND" || r.Source.Name != focusName || r.Destination.Name != "20.10.31.115" {
			t.Errorf("rule %+v, want OUTBOUND from %s", r, focusName)
		}
		for _, o := range doc.Outside {
			if !strings.Contains(o.Reason, "outside the scope") {
				t.Errorf("outside reason %q", o.Reason)
			}
		}
	}
	code, js, errs := flowsleuth(t, "", "rules", "--format", "json", "--focus", "10.48.52.240", sample)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	check(js, "10.48.52.240")
	_, table, _ := flowsleuth(t, "", "rules", "--focus", "10.48.52.240", sample)
	if !strings.Contains(table, "Outside the scope (4 conversations") || strings.Contains(table, "UNKNOWN") {
		t.Errorf("table:\n%s", table)
	}
	_, csvOut, csvErr := flowsleuth(t, "", "rules", "--format", "csv", "--focus", "10.48.52.240", sample)
	if strings.Contains(csvOut, "UNKNOWN") || !strings.Contains(csvErr, "4 conversations are outside the scope") {
		t.Errorf("csv: %s\nstderr: %s", csvOut, csvErr)
	}
	// Without a focus, the line of 2020 (no DIRECTION) is outside the scope,
	// never a rule of direction UNKNOWN.
	_, js, _ = flowsleuth(t, "", "rules", "--format", "json", sample)
	var all rulesDoc
	if err := json.Unmarshal([]byte(js), &all); err != nil || len(all.Outside) == 0 {
		t.Fatalf("rules JSON without focus: %v, %d outside", err, len(all.Outside))
	}
	for _, r := range all.Rules {
		if r.Direction == "UNKNOWN" {
			t.Errorf("rule %s has direction UNKNOWN", r.Name)
		}
	}
	// With an inventory naming the VM, --focus takes its name and the rule
	// names the side after it.
	dir := t.TempDir()
	ws, inv := filepath.Join(dir, "w.flowsleuth"), filepath.Join(dir, "inv.csv")
	os.WriteFile(inv, []byte("name,ip,tags\napp-x-01,10.48.52.240,Traffic-Discovery:Application-X\n"), 0o644)
	if code, _, errs := flowsleuth(t, "", "import", "--workspace", ws, sample); code != exitOK {
		t.Fatal(errs)
	}
	if code, _, errs := flowsleuth(t, "", "inventory", "import", "--workspace", ws, inv); code != exitOK {
		t.Fatal(errs)
	}
	code, js, errs = flowsleuth(t, "", "rules", "--format", "json", "--workspace", ws, "--focus", "app-x-01")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	check(js, "app-x-01")
	if code, _, errs := flowsleuth(t, "", "rules", "--workspace", ws, "--focus", "nosuchvm"); code != exitUsage || !strings.Contains(errs, "nosuchvm") {
		t.Errorf("unknown focus VM: exit %d, %s", code, errs)
	}
}

func TestMergeIntoItselfCLI(t *testing.T) {
	dir := t.TempDir()
	ws := filepath.Join(dir, "w.flowsleuth")
	logf := filepath.Join(dir, "nsx.log")
	flowsleuth(t, "", "demo", "--vendor", "nsxv", "--sessions", "500", "--out", logf)
	flowsleuth(t, "", "import", "--workspace", ws, logf)
	_, js, _ := flowsleuth(t, "", "rules", "--format", "json", "--workspace", ws)
	var doc struct{ Rules []struct{ ID string } }
	if err := json.Unmarshal([]byte(js), &doc); err != nil || len(doc.Rules) == 0 {
		t.Fatalf("rules: %v", err)
	}
	id := doc.Rules[0].ID
	code, _, errs := flowsleuth(t, "", "rules", "edit", "--workspace", ws, id, "merge", id)
	if code != exitUsage || !strings.Contains(errs, "into itself") {
		t.Errorf("merge into itself: exit %d, %s", code, errs)
	}
	if _, list, _ := flowsleuth(t, "", "rules", "edits", "--workspace", ws); !strings.Contains(list, "no edits") {
		t.Errorf("the refused edit was recorded:\n%s", list)
	}
}

// TestNSXReexportCLI: an NSX export into a workspace that exported before
// marks the rules it no longer has for delete, whatever changed them (here
// an exclusion), and keeps those it still has.
func TestNSXReexportCLI(t *testing.T) {
	dir := t.TempDir()
	ws, logf, inv := filepath.Join(dir, "w.flowsleuth"), filepath.Join(dir, "nsx.log"), filepath.Join(dir, "inv.csv")
	flowsleuth(t, "", "demo", "--vendor", "nsxt", "--sessions", "3000", "--out", logf, "--inventory", inv)
	flowsleuth(t, "", "import", "--workspace", ws, logf)
	if code, _, errs := flowsleuth(t, "", "inventory", "import", "--workspace", ws, inv); code != exitOK {
		t.Fatal(errs)
	}
	export := func(name string) (live, deleted []string) {
		t.Helper()
		path := filepath.Join(dir, name)
		code, out, errs := flowsleuth(t, "", "export", "--workspace", ws, "--nsx", path, "--policy-name", "Books")
		if code != exitOK || !strings.Contains(out, "/infra/domains/default/groups/SGTSWEB") {
			t.Fatalf("export: %d %s %s", code, out, errs)
		}
		return nsxRuleIDs(t, path)
	}
	first, deleted := export("nsx1.json")
	if len(deleted) != 0 || len(first) < 5 {
		t.Fatalf("first export: %v live, %v deleted", first, deleted)
	}
	if again, deleted := export("nsx2.json"); !slices.Equal(again, first) || len(deleted) != 0 {
		t.Errorf("the same export again: %v live, %v deleted", again, deleted)
	}
	flowsleuth(t, "", "rules", "exclude", "--workspace", ws, "10.10.0.30") // the backup server's rules go
	live, deleted := export("nsx3.json")
	if len(deleted) == 0 {
		t.Fatalf("nothing marked for delete after the exclusion")
	}
	for _, id := range deleted {
		if !slices.Contains(first, id) || slices.Contains(live, id) {
			t.Errorf("%s marked for delete: not exported before, or still live", id)
		}
	}
	for _, id := range first {
		if !slices.Contains(live, id) && !slices.Contains(deleted, id) {
			t.Errorf("%s vanished without being marked for delete", id)
		}
	}
}

// nsxRuleIDs returns the ids of the rules of the NSX body at path: those it
// writes and those it marks for delete.
func nsxRuleIDs(t *testing.T, path string) (live, deleted []string) {
	t.Helper()
	var b struct {
		Children []struct {
			Children []struct {
				SecurityPolicy *struct {
					Children []struct {
						MarkedForDelete bool `json:"marked_for_delete"`
						Rule            struct{ ID string }
					}
				}
			}
		}
	}
	raw, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(raw, &b)
	}
	if err != nil || len(b.Children) == 0 {
		t.Fatalf("NSX body %s: %v", path, err)
	}
	for _, d := range b.Children[len(b.Children)-1].Children {
		if d.SecurityPolicy == nil {
			continue
		}
		for _, c := range d.SecurityPolicy.Children {
			if c.MarkedForDelete {
				deleted = append(deleted, c.Rule.ID)
			} else {
				live = append(live, c.Rule.ID)
			}
		}
	}
	return live, deleted
}
