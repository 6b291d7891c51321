package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/flowsleuth/flowsleuth/analysis/demo"
)

// TestTablesFitTheTerminal: in a 100-column terminal ($COLUMNS, as for
// a terminal's width) the rules and flows tables have no longer line;
// --wide and CSV keep the full text (the partners' 24 addresses).
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
	t.Setenv("COLUMNS", "100")
	longest := func(out string) int {
		n := 0
		for _, l := range strings.Split(out, "\n") {
			n = max(n, utf8.RuneCountInString(l))
		}
		return n
	}
	for _, cmd := range []string{"rules", "flows"} {
		code, out, errs := flowsleuth(t, "", cmd, "-q", log)
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", cmd, code, errs)
		}
		if n := longest(out); n > 100 {
			t.Errorf("%s: a %d-character line in a 100-column terminal", cmd, n)
		}
		if !strings.Contains(out, "--wide shows all") {
			t.Errorf("%s: no note that the table was fitted", cmd)
		}
		_, wide, _ := flowsleuth(t, "", cmd, "-q", "--wide", log)
		if n := longest(wide); n <= 100 {
			t.Errorf("%s --wide: the longest line has %d characters", cmd, n)
		}
	}
	_, out, _ := flowsleuth(t, "", "rules", "-q", log)
	if !regexp.MustCompile(`\n172\.16\.8\.\d+ \+2\d more `).MatchString(out) {
		t.Errorf("the partners' rule is not summarised:\n%s", out)
	}
	_, csv, _ := flowsleuth(t, "", "rules", "-q", "--format", "csv", log)
	if !regexp.MustCompile(`\n"(172\.16\.8\.\d+, ){20,}172\.16\.8\.\d+",`).MatchString(csv) {
		t.Errorf("CSV is not the full text:\n%s", csv)
	}
}
