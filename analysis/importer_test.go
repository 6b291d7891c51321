package analysis

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/ingest/demo"
)

func gzipped(text string) []byte {
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write([]byte(text))
	zw.Close()
	return z.Bytes()
}

// TestImportKeepsOutDamagedGzip: a gzip member that fails its check gave
// its text to the model before the check: Import reads again, so that the
// model holds exactly the text of the members that checked, and says why.
func TestImportKeepsOutDamagedGzip(t *testing.T) {
	var buf bytes.Buffer
	if _, _, err := demo.Generate(&buf, demo.Config{Vendor: "nutanix", Sessions: 3000, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(buf.String(), "\n")
	q := len(lines) / 4
	parts := []string{strings.Join(lines[:q], ""), strings.Join(lines[q:2*q], ""),
		strings.Join(lines[2*q:3*q], ""), strings.Join(lines[3*q:], "")}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	bad := gzipped(parts[2])
	bad[len(bad)-8] ^= 0xff // its CRC-32
	a := write("a.log", []byte(parts[0]))
	b := write("b.gz", append(gzipped(parts[1]), bad...))
	c := write("c.log", []byte(parts[3]))
	got := NewModel(Options{})
	res, err := Import(t.Context(), got, []string{a, b, c}, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(res[1].Err, gzip.ErrChecksum) || res[1].Stats.Lines != int64(q) {
		t.Errorf("b.gz: %v, %d lines; want a checksum error and the first member's %d lines", res[1].Err, res[1].Stats.Lines, q)
	}
	want := NewModel(Options{})
	good := write("b.log", []byte(parts[1]))
	if _, err := Import(t.Context(), want, []string{a, good, c}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	g, w := rowsOf(got.Table()), rowsOf(want.Table())
	for i := range g {
		g[i].Samples = nil
	}
	for i := range w {
		w[i].Samples = nil
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("the model holds the damaged member's text: %d conversations, want %d", len(g), len(w))
	}
}
