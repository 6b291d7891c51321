package main

import (
	"os"
	"strings"
	"testing"
)

// TestPackageDocListsCommands: main.go's doc comment, what go doc shows,
// names every command the CLI has.
func TestPackageDocListsCommands(t *testing.T) {
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	doc, _, _ := strings.Cut(string(src), "package main")
	for _, c := range commands {
		if !strings.Contains(doc, "//\tflowsleuth "+c.name+" ") && !strings.HasSuffix(strings.TrimSpace(doc), "flowsleuth "+c.name) {
			t.Errorf("main.go's doc comment does not list the %s command", c.name)
		}
	}
}
