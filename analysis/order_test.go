package analysis

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/ingest/demo"
)

// rotated writes a demo log split in three as logrotate leaves it: flow.log
// the newest part, flow.log.1 the one before, flow.log.2.gz the oldest.
func rotated(t *testing.T, vendor string) (all string, files []string) {
	t.Helper()
	var buf bytes.Buffer
	if _, _, err := demo.Generate(&buf, demo.Config{Vendor: vendor, Sessions: 3000, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	all = filepath.Join(dir, "all.log")
	os.WriteFile(all, buf.Bytes(), 0o644)
	lines := strings.SplitAfter(buf.String(), "\n")
	third := len(lines) / 3
	parts := []string{strings.Join(lines[2*third:], ""), strings.Join(lines[third:2*third], ""), strings.Join(lines[:third], "")}
	for i, name := range []string{"flow.log", "flow.log.1", "flow.log.2.gz"} {
		b := []byte(parts[i])
		if strings.HasSuffix(name, ".gz") {
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			zw.Write(b)
			zw.Close()
			b = z.Bytes()
		}
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		files = append(files, p)
	}
	return all, files
}

// TestInTimeOrder: rotated logs given newest first are read oldest first,
// and count what the unsplit log counts; without the ordering, connections
// straddling two files counted twice.
func TestInTimeOrder(t *testing.T) {
	for _, vendor := range []string{"nutanix", "nsxv", "nsxt"} {
		t.Run(vendor, func(t *testing.T) {
			all, files := rotated(t, vendor)
			want := []string{files[2], files[1], files[0]}
			if got := InTimeOrder(files); !slices.Equal(got, want) {
				t.Errorf("order %v, want %v", got, want)
			}
			whole, split := NewModel(Options{}), NewModel(Options{})
			if _, err := Import(t.Context(), whole, []string{all}, ImportOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := Import(t.Context(), split, files, ImportOptions{}); err != nil {
				t.Fatal(err)
			}
			if w, s := whole.Stats(), split.Stats(); w.Sessions != s.Sessions || w.Conversations != s.Conversations {
				t.Errorf("split: %d sessions, %d conversations; whole: %d, %d", s.Sessions, s.Conversations, w.Sessions, w.Conversations)
			}
		})
	}
	// Files without an event go last, in their order; stdin keeps the order.
	_, files := rotated(t, "nutanix")
	empty := filepath.Join(t.TempDir(), "empty.log")
	os.WriteFile(empty, []byte("not a firewall line\n"), 0o644)
	if got := InTimeOrder([]string{empty, files[0], files[2]}); !slices.Equal(got, []string{files[2], files[0], empty}) {
		t.Errorf("with an eventless file: %v", got)
	}
	if in := []string{files[0], "-", files[2]}; !slices.Equal(InTimeOrder(in), in) {
		t.Errorf("with stdin: %v", InTimeOrder(in))
	}
}
