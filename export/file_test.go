package export_test

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/export"
)

// TestWriteFileErrors: an export's error names the file once ("write x:
// write x: …" was the smell), never the temporary file, and keeps its
// cause for errors.Is.
func TestWriteFileErrors(t *testing.T) {
	dir := t.TempDir()
	errBoom := errors.New("boom")
	tests := []struct {
		Name  string
		Path  string
		Write func(*bufio.Writer) error
		Is    error
	}{
		{"missing directory", filepath.Join(dir, "none", "rules.csv"), func(*bufio.Writer) error { return nil }, fs.ErrNotExist},
		{"the writer fails", filepath.Join(dir, "rules.csv"), func(*bufio.Writer) error { return errBoom }, errBoom},
		{"the file is a directory", dir, func(w *bufio.Writer) error { _, err := w.WriteString("x"); return err }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			err := export.WriteFile(tc.Path, tc.Write)
			if err == nil {
				t.Fatal("no error")
			}
			if n := strings.Count(err.Error(), tc.Path); n != 1 {
				t.Errorf("%q names %s %d times, want once", err, tc.Path, n)
			}
			if strings.Contains(err.Error(), ".tmp") {
				t.Errorf("%q names the temporary file", err)
			}
			if tc.Is != nil && !errors.Is(err, tc.Is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.Is)
			}
		})
	}
}

// TestJobWriteError: a planned file's error names it once too.
func TestJobWriteError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none", "policy.json")
	jobs := export.Plan(export.Targets{NutanixV3: path}, &export.Input{Rules: rules.Set{}})
	if len(jobs) != 1 || jobs[0].Kind != export.KindNutanixV3 {
		t.Fatalf("plan %+v, want one Nutanix v3 job", jobs)
	}
	_, err := jobs[0].Write()
	if err == nil || strings.Count(err.Error(), path) != 1 || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Write() = %v, want %s named once, not found", err, path)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[export.Kind]string{export.KindWorkbook: "XLSX workbook", export.KindNSX: "NSX Policy API JSON",
		export.KindNutanixV4Update: "Nutanix v4 update headers", export.Kind(99): "Kind(99)"} {
		if got := k.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(k), got, want)
		}
	}
	if export.KindWorkbook.Text() || !export.KindRulesCSV.Text() {
		t.Error("only the workbook is binary")
	}
}
