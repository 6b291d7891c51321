package workspace

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
)

// gzipTo writes b gzipped to a new file.
func gzipTo(t *testing.T, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	path := filepath.Join(t.TempDir(), "rotated.log.1.gz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCompressedCopyCountsOnce: a log imported plain and later compressed
// (logrotate, the listener's archive) is recognised by its content: the
// compressed copy adds nothing, and a compressed copy of the log grown since
// adds only what was not read, as if the whole log had been imported once.
func TestCompressedCopyCountsOnce(t *testing.T) {
	path, _ := demoLog(t, "nutanix", 3000)
	full, _ := os.ReadFile(path)
	small := full[:bytes.IndexByte(full[20000:], '\n')+20001] // under 64 KiB: hashed whole
	half := bytes.IndexByte(full[len(full)/2:], '\n') + len(full)/2 + 1
	for _, tc := range []struct {
		name      string
		plain, gz []byte // imported plain first, then compressed
		want      Outcome
	}{
		{"same content", full, full, Already},
		{"small file", small, small, Already},
		{"grown since", full[:len(full)/2+9], full, Tail}, // cut mid-line: the partial line is read again
		{"grown, cut at a line end", small, full, Tail},
		{"another log", full[:half], full[half:], Imported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := openTemp(t)
			plain := filepath.Join(t.TempDir(), "flow.log")
			os.WriteFile(plain, tc.plain, 0o644)
			if _, err := ws.Import(ctx, []string{plain}, ImportOptions{}); err != nil {
				t.Fatal(err)
			}
			gz := gzipTo(t, tc.gz)
			res, err := ws.Import(ctx, []string{gz}, ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res[0].Outcome != tc.want {
				t.Fatalf("outcome %q, want %q (%+v)", res[0].Outcome, tc.want, res[0])
			}
			if tc.want == Already && res[0].SameAs != plain {
				t.Errorf("same as %q, want %q", res[0].SameAs, plain)
			}
			// The workspace holds what one import of everything would.
			want := inMemory(t, gz)
			if tc.want == Imported {
				want = inMemory(t, plain, gz)
			}
			got, _ := analysistest.RowsOf(ws.Conversations(ctx, Query{}))
			analysistest.SameConversations(t, got, want)
			// And again: nothing more.
			res, err = ws.Import(ctx, []string{gz}, ImportOptions{})
			if err != nil || res[0].Outcome != Already {
				t.Errorf("second import of the gzip: %+v %v", res, err)
			}
		})
	}
}
