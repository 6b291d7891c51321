package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
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
