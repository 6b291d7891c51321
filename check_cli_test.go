package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// checkDemo writes the NSX-T demo logs and FlowSleuth's exports of them
// into dir, and a members file naming the exports' placeholder secured
// category after the monitored addresses.
func checkDemo(t *testing.T, dir string) (logf string) {
	t.Helper()
	logf = filepath.Join(dir, "demo.log")
	flowsleuth(t, "", "demo", "--vendor", "nsxt", "--out", logf)
	if code, _, errs := flowsleuth(t, "", "export", "--nsx", filepath.Join(dir, "nsx.json"), "--nutanix-v3", filepath.Join(dir, "v3.json"),
		"--nutanix-v4", filepath.Join(dir, "v4.json"), logf); code != exitOK {
		t.Fatalf("export: %s", errs)
	}
	var members []string
	for _, rec := range csvRecords(t, flowsleuthOK(t, "flows", "--format", "csv", logf)) {
		switch rec[0] {
		case "OUTBOUND":
			members = append(members, "FlowSleuth:CHANGE-ME,"+rec[2])
		case "INBOUND":
			members = append(members, "FlowSleuth:CHANGE-ME,"+rec[3])
		case "INTRA":
			members = append(members, "FlowSleuth:CHANGE-ME,"+rec[2], "FlowSleuth:CHANGE-ME,"+rec[3])
		}
	}
	slices.Sort(members)
	writeFile(t, filepath.Join(dir, "members.csv"), "group,address\n"+strings.Join(slices.Compact(members), "\n")+"\n")
	return logf
}

func flowsleuthOK(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := flowsleuth(t, "", args...)
	if code != exitOK {
		t.Fatalf("flowsleuth %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	return out
}

func csvRecords(t *testing.T, s string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("CSV: %v\n%s", err, s)
	}
	return recs[1:]
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkRow is a row of check --format csv.
type checkRow struct{ verdict, rule, review, src, dst, service string }

func checkRows(t *testing.T, out string) []checkRow {
	t.Helper()
	var rows []checkRow
	for _, r := range csvRecords(t, out) {
		rule := r[1]
		if len(rule) > 1 && rule[0] == '\'' && strings.ContainsRune("=+-@", rune(rule[1])) {
			rule = rule[1:] // defused for spreadsheets
		}
		rows = append(rows, checkRow{verdict: r[0], rule: rule, review: r[5], src: r[9], dst: r[10], service: r[12] + "/" + r[11]})
	}
	return rows
}

// broken returns the conversations outside review a check's CSV blocks.
func broken(rows []checkRow) []string {
	var out []string
	for _, r := range rows {
		if r.verdict != "allowed" && r.review == "" {
			out = append(out, r.src+">"+r.dst+" "+r.service)
		}
	}
	slices.Sort(out)
	return out
}

// The policies FlowSleuth exports for the demo, checked against the same
// logs by the independent evaluator: no observed conversation outside
// review is blocked, whether the NSX boundary is in force or not.
func TestCheckExportsOfTheDemo(t *testing.T) {
	dir := t.TempDir()
	logf := checkDemo(t, dir)
	members := filepath.Join(dir, "members.csv")
	tests := []struct {
		Name string
		Args []string
	}{
		{"NSX as exported (the boundary disabled: not in force)", []string{"--policy", filepath.Join(dir, "nsx.json")}},
		{"NSX switched on, default rule drop", []string{"--policy", filepath.Join(dir, "nsx.json"), "--enable-disabled", "--default", "drop"}},
		{"Nutanix v3", []string{"--policy", filepath.Join(dir, "v3.json"), "--members", members}},
		{"Nutanix v4", []string{"--policy", filepath.Join(dir, "v4.json"), "--members", members}},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			code, out, errs := flowsleuth(t, "", append([]string{"check", "--format", "csv"}, append(tc.Args, logf)...)...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errs)
			}
			rows := checkRows(t, out)
			if b := broken(rows); len(b) != 0 {
				t.Errorf("observed conversations outside review blocked: %v", b)
			}
			if len(rows) < 300 {
				t.Errorf("%d verdicts, want one per conversation", len(rows))
			}
		})
	}
	xlsx := filepath.Join(dir, "whatif.xlsx")
	_, table, _ := flowsleuth(t, "", "check", "--policy", filepath.Join(dir, "nsx.json"), "--xlsx", xlsx, logf)
	f, err := excelize.OpenFile(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if sheets := f.GetSheetList(); !slices.Contains(sheets, "What-if") || !slices.Contains(sheets, "Rules") {
		t.Errorf("the workbook's sheets: %v", sheets)
	}
	for _, want := range []string{"disabled rules not in force", "Suspect traffic the policy still admits", "Result: OK"} {
		if !strings.Contains(table, want) {
			t.Errorf("the table lacks %q:\n%s", want, table)
		}
	}
}

// A policy with one rule removed blocks exactly that rule's conversations.
func TestCheckOneRuleRemoved(t *testing.T) {
	dir := t.TempDir()
	logf := checkDemo(t, dir)
	nsxArgs := []string{"--enable-disabled", "--default", "drop", "--format", "csv", logf}
	full := checkRows(t, flowsleuthOK(t, append([]string{"check", "--policy", filepath.Join(dir, "nsx.json")}, nsxArgs...)...))
	body := readJSON(t, filepath.Join(dir, "nsx.json"))
	// An intra rule is two NSX rules, one at each end: without the source's
	// half, its conversations are blocked at the source's egress.
	removed := removeNSXRule(t, body, "SGTSAPP to SGTSDB 3306, 5432/tcp (out)")
	writeJSON(t, filepath.Join(dir, "nsx-minus.json"), body)
	code, out, errs := flowsleuth(t, "", append([]string{"check", "--policy", filepath.Join(dir, "nsx-minus.json")}, nsxArgs...)...)
	if code != exitFailure || !strings.Contains(errs, "would be blocked") {
		t.Errorf("exit %d, %q: want 1 and a message", code, errs)
	}
	var want []string
	for _, r := range full {
		if r.rule == removed {
			want = append(want, r.src+">"+r.dst+" "+r.service)
		}
	}
	slices.Sort(want)
	if got := broken(checkRows(t, out)); len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("NSX without %q blocks %v, want exactly its conversations %v", removed, got, want)
	}

	// Nutanix v4 (monitor mode: "would block").
	members := filepath.Join(dir, "members.csv")
	v4 := readJSON(t, filepath.Join(dir, "v4.json"))
	rules := v4["rules"].([]any)
	var kept []any
	desc := "" // the rule towards the NTP server (without an inventory, the tiers' rules are one)
	for _, r := range rules {
		if d, _ := r.(map[string]any)["description"].(string); desc == "" && strings.Contains(d, "to 10.10.0.20 NTP") {
			desc = d
			continue
		}
		kept = append(kept, r)
	}
	if len(kept) != len(rules)-1 {
		t.Fatalf("no v4 rule %q in %v", desc, rules)
	}
	fullV4 := checkRows(t, flowsleuthOK(t, "check", "--policy", filepath.Join(dir, "v4.json"), "--members", members, "--format", "csv", logf))
	v4["rules"] = kept
	writeJSON(t, filepath.Join(dir, "v4-minus.json"), v4)
	_, out, _ = flowsleuth(t, "", "check", "--policy", filepath.Join(dir, "v4-minus.json"), "--members", members, "--format", "csv", logf)
	want = nil
	for _, r := range fullV4 {
		if r.rule == desc {
			want = append(want, r.src+">"+r.dst+" "+r.service)
		}
	}
	slices.Sort(want)
	rows := checkRows(t, out)
	if got := broken(rows); len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("v4 without %q blocks %v, want exactly %v", desc, got, want)
	}
	for _, r := range rows {
		if r.verdict == "blocked" {
			t.Errorf("a monitor policy blocked %v: it can only 'would block'", r)
		}
	}
}

// EnforceableNSX checks an NSX body against the demo logs: no observed
// conversation outside review blocked, and every scanner probe blocked. It
// holds for a policy with an application boundary in force.
func EnforceableNSX(t *testing.T, policyFile, logf string, extra ...string) {
	t.Helper()
	args := append([]string{"check", "--policy", policyFile, "--format", "csv"}, extra...)
	code, out, errs := flowsleuth(t, "", append(args, logf)...)
	if code != exitOK {
		t.Errorf("%s: exit %d: %s", policyFile, code, errs)
	}
	scans := 0
	for _, r := range checkRows(t, out) {
		if r.src == "203.0.113.66" || r.src == "198.51.100.23" { // the demo's scanners (ingest/demo/world.go)
			scans++
			if r.verdict != "blocked" {
				t.Errorf("%s: scanner probe %s>%s %s %s", policyFile, r.src, r.dst, r.service, r.verdict)
			}
		}
	}
	if scans == 0 {
		t.Errorf("%s: no scanner conversation in the demo", policyFile)
	}
}

// FlowSleuth's NSX export with its application boundary switched on (the
// practitioners' "deny all against SGTSBOOKS") blocks the scanners and
// nothing observed; without the boundary, under the brownfield default rule,
// the scanners pass.
func TestCheckBoundaryBlocksScanners(t *testing.T) {
	dir := t.TempDir()
	logf := checkDemo(t, dir)
	EnforceableNSX(t, filepath.Join(dir, "nsx.json"), logf, "--enable-disabled")
	body := readJSON(t, filepath.Join(dir, "nsx.json"))
	pol := findNSX(body, "SecurityPolicy")
	var kept []any
	for _, c := range pol["children"].([]any) {
		if c.(map[string]any)["Rule"].(map[string]any)["action"] != "DROP" {
			kept = append(kept, c)
		}
	}
	if len(kept) != len(pol["children"].([]any))-1 {
		t.Fatalf("the export has no single boundary rule")
	}
	pol["children"] = kept
	writeJSON(t, filepath.Join(dir, "no-boundary.json"), body)
	_, out, _ := flowsleuth(t, "", "check", "--policy", filepath.Join(dir, "no-boundary.json"), "--format", "csv", logf)
	for _, r := range checkRows(t, out) {
		if r.src == "203.0.113.66" && r.verdict == "blocked" {
			t.Errorf("without a boundary a scanner probe is blocked: %v", r)
		}
	}
}

func TestCheckCompare(t *testing.T) {
	dir := t.TempDir()
	logf := checkDemo(t, dir)
	code, out, errs := flowsleuth(t, "", "check", "--policy", filepath.Join(dir, "nsx.json"), "--enable-disabled", "--default", "drop",
		"--against", filepath.Join(dir, "v3.json"), "--members", filepath.Join(dir, "members.csv"), "--format", "json", logf)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc struct {
		OK      bool `json:"ok"`
		Compare struct {
			OnlyA    []int `json:"allowed_only_by_policy"`
			OnlyB    []int `json:"allowed_only_by_against"`
			CoveredB []struct {
				Name string `json:"name"`
			} `json:"against_rules_covering_nothing_new"`
		} `json:"compare"`
		Verdicts []struct {
			Verdict string `json:"verdict"`
			Against string `json:"against_verdict"`
		} `json:"verdicts"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("JSON: %v", err)
	}
	// NSX drops the scanner probes at the default rule; the v3 policy only
	// would block them (monitor): neither allows what the other blocks.
	if !doc.OK || len(doc.Compare.OnlyA) != 0 || len(doc.Compare.OnlyB) != 0 || len(doc.Verdicts) < 300 {
		t.Errorf("ok %v, only NSX %v, only v3 %v, %d verdicts", doc.OK, doc.Compare.OnlyA, doc.Compare.OnlyB, len(doc.Verdicts))
	}
	if len(doc.Compare.CoveredB) == 0 {
		t.Error("no v3 rule covers only what NSX covers: the two come from the same rule base")
	}
}

func TestCheckErrors(t *testing.T) {
	dir := t.TempDir()
	logf := filepath.Join(dir, "demo.log")
	flowsleuth(t, "", "demo", "--vendor", "nutanix", "--out", logf)
	bad := filepath.Join(dir, "bad.json")
	writeFile(t, bad, `{"resource_type": "Infra", "children": [`)
	tests := []struct {
		Name string
		Args []string
		Code int
		Want string
	}{
		{"nothing to check", []string{logf}, exitUsage, "--policy"},
		{"bad format", []string{"--policy", bad, "--format", "xml", logf}, exitUsage, "--format"},
		{"bad default", []string{"--policy", bad, "--default", "maybe", logf}, exitUsage, "allow or drop"},
		{"policy not JSON", []string{"--policy", bad, logf}, exitFailure, "bad.json: not JSON: line 1"},
		{"no such policy", []string{"--policy", filepath.Join(dir, "none.json"), logf}, exitFailure, "none.json"},
		{"bad members", []string{"--policy", bad, "--members", bad, logf}, exitFailure, "bad.json"},
		{"bad holdout", []string{"--holdout", "soon", logf}, exitUsage, "--holdout"},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			code, _, errs := flowsleuth(t, "", append([]string{"check"}, tc.Args...)...)
			if code != tc.Code || !strings.Contains(errs, tc.Want) {
				t.Errorf("exit %d, %q; want %d and %q", code, errs, tc.Code, tc.Want)
			}
		})
	}
	// An unresolved reference is reported, not silently ignored.
	v4 := filepath.Join(dir, "v4.json")
	writeFile(t, v4, `{"name":"x","type":"APPLICATION","state":"ENFORCE","rules":[{"type":"APPLICATION","spec":{
		"securedGroupCategoryReferences":["0f1e2d3c-unknown"],"srcAllowSpec":"ALL","isAllProtocolAllowed":true}}]}`)
	_, out, _ := flowsleuth(t, "", "check", "--policy", v4, logf)
	if !strings.Contains(out, "0f1e2d3c-unknown") || !strings.Contains(out, "--categories") {
		t.Errorf("the unknown extId is not reported:\n%s", out)
	}
}

// The hold-out of the demo reports its last-day novelties.
func TestCheckHoldout(t *testing.T) {
	dir := t.TempDir()
	logf := filepath.Join(dir, "demo.log")
	ws := filepath.Join(dir, "w.flowsleuth")
	flowsleuth(t, "", "demo", "--vendor", "nsxt", "--out", logf)
	flowsleuthOK(t, "import", "--workspace", ws, logf)
	var doc struct {
		Cut, End     string
		HeldOut      struct{ Conversations int } `json:"held_out"`
		DaysSinceNew float64                     `json:"days_since_new_conversation"`
		Novel        []struct {
			FirstSeen string `json:"first_seen"`
		} `json:"novel"`
		Blocked []struct{ Src string } `json:"blocked"`
	}
	out := flowsleuthOK(t, "check", "--holdout", "1d", "--format", "json", "--workspace", ws)
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	cut, _ := time.Parse(time.RFC3339, doc.Cut)
	end, _ := time.Parse(time.RFC3339, doc.End)
	if end.Sub(cut) != 24*time.Hour || doc.HeldOut.Conversations == 0 || len(doc.Novel) == 0 {
		t.Fatalf("cut %s, end %s, %d held out, %d novel", doc.Cut, doc.End, doc.HeldOut.Conversations, len(doc.Novel))
	}
	for _, n := range doc.Novel {
		if first, _ := time.Parse(time.RFC3339, n.FirstSeen); first.Before(cut.Truncate(time.Second)) {
			t.Errorf("a novelty first seen %s, before the cut %s", n.FirstSeen, doc.Cut)
		}
	}
	if len(doc.Blocked) > len(doc.Novel) || doc.DaysSinceNew <= 0 || doc.DaysSinceNew >= 1 {
		t.Errorf("%d blocked of %d novel; %.2f days since the last new conversation", len(doc.Blocked), len(doc.Novel), doc.DaysSinceNew)
	}
	// The same from the file, and the table names the novelties.
	table := flowsleuthOK(t, "check", "--holdout-from", doc.Cut, logf)
	if !strings.Contains(table, "New conversations in the held-out period (outside review): "+strconv.Itoa(len(doc.Novel))) {
		t.Errorf("the table does not report %d novelties:\n%s", len(doc.Novel), table)
	}
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(b))
}

// findNSX returns the first object of resource type rt in an NSX body.
func findNSX(v any, rt string) map[string]any {
	switch v := v.(type) {
	case map[string]any:
		if v["resource_type"] == rt {
			return v
		}
		for _, x := range v {
			if f := findNSX(x, rt); f != nil {
				return f
			}
		}
	case []any:
		for _, x := range v {
			if f := findNSX(x, rt); f != nil {
				return f
			}
		}
	}
	return nil
}

// removeNSXRule removes the rule named name from the body's security
// policy and returns its name.
func removeNSXRule(t *testing.T, body map[string]any, name string) string {
	t.Helper()
	pol := findNSX(body, "SecurityPolicy")
	var kept []any
	for _, c := range pol["children"].([]any) {
		if c.(map[string]any)["Rule"].(map[string]any)["display_name"] != name {
			kept = append(kept, c)
		}
	}
	if len(kept) != len(pol["children"].([]any))-1 {
		t.Fatalf("no rule %q in the NSX export", name)
	}
	pol["children"] = kept
	return name
}
