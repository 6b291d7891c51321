package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestWorkspaceCLI walks the workspace workflow: import, import again, flows
// from the workspace equal to flows of the file, a grown file, info, export.
func TestWorkspaceCLI(t *testing.T) {
	dir := t.TempDir()
	ws := filepath.Join(dir, "project.flowsleuth")
	logf := filepath.Join(dir, "syslog.txt")
	if code, _, errs := flowsleuth(t, "", "demo", "--vendor", "nsxt", "--sessions", "1500", "--out", logf); code != exitOK {
		t.Fatal(errs)
	}
	full, _ := os.ReadFile(logf)
	code, wantCSV, _ := flowsleuth(t, "", "flows", "--format", "csv", logf)
	if code != exitOK {
		t.Fatal("flows of the file failed")
	}

	// The file while it is still being written: half of it, cut mid-line.
	live := filepath.Join(dir, "live.log")
	os.WriteFile(live, full[:len(full)/2+11], 0o644)
	code, out, errs := flowsleuth(t, "", "import", "--workspace", ws, live)
	if code != exitOK || !strings.Contains(out, "has no line end yet: left for the next import") {
		t.Fatalf("first import: exit %d %s\n%s", code, errs, out)
	}
	os.WriteFile(live, full, 0o644)
	code, out, _ = flowsleuth(t, "", "import", "--workspace", ws, live)
	if code != exitOK || !strings.Contains(out, "grown since its last import: read from byte") {
		t.Fatalf("second import:\n%s", out)
	}
	code, out, _ = flowsleuth(t, "", "import", "--workspace", ws, live, logf)
	if code != exitOK || strings.Count(out, "already imported") != 2 {
		t.Fatalf("third import:\n%s", out)
	}
	code, gotCSV, errs := flowsleuth(t, "", "flows", "--workspace", ws, "--format", "csv")
	if code != exitOK || gotCSV != wantCSV {
		t.Fatalf("flows from the workspace differ from flows of the file (exit %d, %s):\n%s", code, errs,
			lineDiff(gotCSV, wantCSV))
	}

	code, out, _ = flowsleuth(t, "", "workspace", "info", "--workspace", ws)
	for _, re := range []string{`sources\s+1\n`, `conversations\s+\d+`, `live\.log\s+\S+ \S+\s+[\d,]+\s+[\d,]+\s+0\s+2\s`} {
		if code != exitOK || !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("workspace info lacks %q:\n%s", re, out)
		}
	}
	code, out, _ = flowsleuth(t, "", "workspace", "export", "--workspace", ws)
	var doc struct {
		Workspace     struct{ Conversations int }
		Sources       []struct{ Path string }
		Conversations []struct{ Sessions int }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != exitOK {
		t.Fatalf("export is not JSON (%v):\n%.300s", err, out)
	}
	if len(doc.Sources) != 1 || doc.Workspace.Conversations == 0 || len(doc.Conversations) != doc.Workspace.Conversations {
		t.Errorf("export: %d sources, %d conversations of %d", len(doc.Sources), len(doc.Conversations), doc.Workspace.Conversations)
	}

	// A time window keeps fewer sessions; a declared monitored set changes directions.
	_, day, _ := flowsleuth(t, "", "flows", "--workspace", ws, "--format", "csv", "--since", "2025-04-08", "--until", "2025-04-09")
	if n, all := strings.Count(day, "\n"), strings.Count(gotCSV, "\n"); n < 2 || n >= all {
		t.Errorf("--since/--until kept %d of %d lines", n, all)
	}
	if code, out, _ := flowsleuth(t, "", "workspace", "monitor", "--workspace", ws, "10.20.10.0/24"); code != exitOK || !strings.Contains(out, "10.20.10.0/24") {
		t.Errorf("monitor: %d %s", code, out)
	}
	_, mon, _ := flowsleuth(t, "", "flows", "--workspace", ws, "--format", "csv")
	if mon == gotCSV {
		t.Error("declaring the monitored set changed nothing")
	}
}

// TestInventoryCLI imports an inventory: conversations show VM names and
// groups, and the addresses it does not name are counted as unclassified.
func TestInventoryCLI(t *testing.T) {
	dir := t.TempDir()
	ws := filepath.Join(dir, "w.flowsleuth")
	logf := filepath.Join(dir, "syslog.txt")
	flowsleuth(t, "", "demo", "--sessions", "800", "--out", logf)
	if code, _, errs := flowsleuth(t, "", "import", "--workspace", ws, logf); code != exitOK {
		t.Fatal(errs)
	}
	_, before, _ := flowsleuth(t, "", "workspace", "info", "--workspace", ws)
	inv := filepath.Join(dir, "vms.csv")
	os.WriteFile(inv, []byte("name,ip,tags\nweb-1,10.20.10.11,AppTier:Web\nweb-2,10.20.10.12;10.20.10.99,AppTier:Web\n"+
		"db-1,10.20.30.31,AppTier:DB\nghost,n/a,\n"), 0o644)
	code, out, errs := flowsleuth(t, "", "inventory", "import", "--workspace", ws, inv)
	if code != exitOK {
		t.Fatalf("inventory import: %d %s", code, errs)
	}
	for _, want := range []string{"simple format", `name    <- "name"`, "row 5: no valid IP address", "stored 3 VMs (4 addresses)", "unclassified"} {
		if !strings.Contains(out, want) {
			t.Errorf("inventory import output lacks %q:\n%s", want, out)
		}
	}
	_, table, _ := flowsleuth(t, "", "flows", "--workspace", ws)
	if !strings.Contains(table, "10.20.10.11 (web-1)") || !strings.Contains(table, "10.20.30.31 (db-1)") {
		t.Errorf("flows do not name the VMs:\n%.600s", table)
	}
	_, js, _ := flowsleuth(t, "", "flows", "--workspace", ws, "--format", "json")
	if !strings.Contains(js, `"src_vm": "web-1"`) || !strings.Contains(js, `"AppTier:Web"`) {
		t.Errorf("JSON flows lack VM names or groups")
	}
	_, after, _ := flowsleuth(t, "", "workspace", "info", "--workspace", ws)
	unclassified := regexp.MustCompile(`(\d+) addresses in conversations unclassified`)
	count := func(info string) int {
		m := unclassified.FindStringSubmatch(info)
		if m == nil {
			t.Fatalf("no unclassified count in:\n%s", info)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	if b, a := count(before), count(after); a != b-3 { // 10.20.10.99 is in no conversation
		t.Errorf("unclassified: %d before the inventory, %d after; want 3 fewer", b, a)
	}
	// An unreadable inventory changes nothing.
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("colour,size\nred,3\n"), 0o644)
	if code, _, errs := flowsleuth(t, "", "inventory", "import", "--workspace", ws, bad); code != exitFailure || !strings.Contains(errs, "column") {
		t.Errorf("bad inventory: exit %d, %s", code, errs)
	}
}
