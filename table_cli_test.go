package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/flowsleuth/flowsleuth/ingest/demo"
)

// TestTablesFitTheTerminal: in an 80- or 100-column terminal ($COLUMNS, as
// for a terminal's width) the rules and flows tables have no longer line
// and the rules keep the deliverable's columns; --wide and CSV keep the full
// text, the JSON the partners' addresses.
func TestTablesFitTheTerminal(t *testing.T) {
	log := filepath.Join(t.TempDir(), "demo.log")
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := demo.Generate(f, demo.Config{Vendor: "nsxv", Sessions: 3000, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, width := range []int{80, 100} {
		t.Setenv("COLUMNS", strconv.Itoa(width))
		for _, cmd := range []string{"rules", "flows"} {
			checkFitted(t, cmd, log, width)
		}
	}
	t.Setenv("COLUMNS", "200")
	// The partners (20-odd addresses per port) are IP sets named after
	// their service (issue 12's endpoints): a table shows the name, the JSON
	// every member. A name with commas is never cut as if it were a list.
	_, out, _ := flowsleuth(t, "", "rules", "-q", log)
	for _, want := range []string{"\n8444/tcp clients ", "DNS, Kerberos servers (10.10.0.10, 10.10.0.11)"} {
		if !strings.Contains(out, want) {
			t.Errorf("the fitted rules table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "DNS +") || strings.Contains(out, "(10.10.0.10 +") {
		t.Errorf("an endpoint's name was summarised as a list:\n%s", out)
	}
	_, js, _ := flowsleuth(t, "", "rules", "-q", "--format", "json", log)
	if !regexp.MustCompile(`"name": "8444/tcp clients",\s*"kind": "ipset",[^}]*"prefixes": \[\s*("172\.16\.8\.\d+/32",\s*){19,}`).MatchString(js) {
		t.Errorf("the JSON does not list the partners' addresses:\n%s", js)
	}
	_, csv, _ := flowsleuth(t, "", "rules", "-q", "--format", "csv", log)
	if !strings.Contains(csv, `,"DNS, Kerberos servers (10.10.0.10, 10.10.0.11)",`) {
		t.Errorf("CSV is not the full text:\n%s", csv)
	}
}

// checkFitted runs cmd on log in a width-column terminal: no longer line
// (the note under the table wrapped too), the rules keep the deliverable's
// five columns (their texts cut rather than columns left out), and --wide
// keeps the full text.
func checkFitted(t *testing.T, cmd, log string, width int) {
	t.Helper()
	code, out, errs := flowsleuth(t, "", cmd, "-q", log)
	if code != exitOK {
		t.Fatalf("%s: exit %d: %s", cmd, code, errs)
	}
	if n := longestLine(out); n > width {
		t.Errorf("%s: a %d-character line in a %d-column terminal", cmd, n, width)
	}
	if !strings.Contains(out, "--wide shows all") {
		t.Errorf("%s: no note that the table was fitted", cmd)
	}
	if cmd == "rules" && !regexp.MustCompile(`^SOURCE +DESTINATION +PROTOCOL +DESTINATION PORT +DESCRIPTION`).MatchString(out) {
		t.Errorf("rules in %d columns: not the deliverable's columns:\n%s", width, out)
	}
	_, wide, _ := flowsleuth(t, "", cmd, "-q", "--wide", log)
	if n := longestLine(wide); n <= 100 {
		t.Errorf("%s --wide: the longest line has %d characters", cmd, n)
	}
}

// longestLine is the length in runes of out's longest line.
func longestLine(out string) int {
	n := 0
	for _, l := range strings.Split(out, "\n") {
		n = max(n, utf8.RuneCountInString(l))
	}
	return n
}
