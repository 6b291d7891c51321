package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/app/message"
)

// TestCLIErrorWords: a command's error is printed as message.For words it
// ("flowsleuth CMD: text", then the hint), and its whole chain is logged
// where the help says.
func TestCLIErrorWords(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "log", "flowsleuth.log")
	t.Setenv(message.LogEnv, logPath)
	notWs := filepath.Join(dir, "notes.flowsleuth")
	if err := os.WriteFile(notWs, []byte("shopping list\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"workspace", "info", "--workspace", notWs}, nil, &out, &errb); code != exitFailure {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitFailure, errb.String())
	}
	want := "flowsleuth workspace: The file is not a FlowSleuth workspace; FlowSleuth leaves it as it is.\n" +
		"  Choose a .flowsleuth file, or a new name to create a workspace.\n" +
		"  (open workspace " + notWs + ": not a FlowSleuth workspace: it is not an SQLite database)\n"
	if errb.String() != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", errb.String(), want)
	}
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatalf("no log: %v", err)
	}
	for _, s := range []string{"flowsleuth workspace: Not a workspace: ", notWs, "not a FlowSleuth workspace: it is not an SQLite database"} {
		if !strings.Contains(string(b), s) {
			t.Errorf("log does not hold %q:\n%s", s, b)
		}
	}

	errb.Reset()
	run([]string{"help"}, nil, &out, &errb)
	if !strings.Contains(errb.String(), "Errors are logged in full to "+logPath) {
		t.Errorf("help does not say where the log is:\n%s", errb.String())
	}
}
