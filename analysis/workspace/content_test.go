package workspace

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
)

// gzLevel compresses b at a compression level.
func gzLevel(b []byte, level int) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, level)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func fileOf(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// withStdin makes standard input the bytes b while fn runs.
func withStdin(t *testing.T, b []byte, fn func()) {
	t.Helper()
	f, err := os.Open(fileOf(t, "stdin", b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old }()
	fn()
}

func sessions(convs []analysistest.Conversation) (n uint64) {
	for _, c := range convs {
		n += c.Sessions
	}
	return n
}

// TestSameTextCountsOnce: the workspace recognises a log by its text, not by
// its bytes on disk: gzipped or not, at any compression level, a copy under
// another name or piped on standard input, the same log counts once and a
// longer copy adds only its tail. A damaged gzip member commits nothing of
// what it holds, so a good copy imported afterwards counts once too.
func TestSameTextCountsOnce(t *testing.T) {
	path, _ := demoLog(t, "nutanix", 2000)
	text, _ := os.ReadFile(path)
	want := inMemory(t, path)
	half := text[:bytes.IndexByte(text[len(text)/2:], '\n')+len(text)/2+1]
	badCRC := gzLevel(text, 6)
	badCRC[len(badCRC)-8] ^= 0xff
	whole := gzLevel(text, 6)
	garbage := gzLevel(text, 6)
	for i := len(garbage) / 2; i < len(garbage)/2+64; i++ {
		garbage[i] ^= 0x5a
	}
	plain := func(b []byte) func(*testing.T) string {
		return func(t *testing.T) string { return fileOf(t, "x.log", b) }
	}
	gzipped := func(b []byte, level int) func(*testing.T) string {
		return func(t *testing.T) string { return fileOf(t, "x.log.gz", gzLevel(b, level)) }
	}
	raw := func(b []byte) func(*testing.T) string {
		return func(t *testing.T) string { return fileOf(t, "y.gz", b) }
	}
	stdin := func(b []byte) func(*testing.T) string {
		return func(t *testing.T) string { return "-\x00" + string(b) } // read by importAll
	}
	for _, tc := range []struct {
		name    string
		imports []func(*testing.T) string
		damaged int // index of the import that must report damage, or -1
	}{
		{"gzip, then the unzipped log", []func(*testing.T) string{gzipped(text, 6), plain(text)}, -1},
		{"the log, then gzipped", []func(*testing.T) string{plain(text), gzipped(text, 9)}, -1},
		{"gzipped at two levels", []func(*testing.T) string{gzipped(text, 1), gzipped(text, 9)}, -1},
		{"half gzipped, then the whole log", []func(*testing.T) string{gzipped(half, 6), plain(text)}, -1},
		{"standard input twice", []func(*testing.T) string{stdin(text), stdin(text)}, -1},
		{"half on standard input, then all", []func(*testing.T) string{stdin(half), stdin(text)}, -1},
		{"a file, then the same on standard input", []func(*testing.T) string{plain(text), stdin(text)}, -1},
		{"gzip on standard input, then the log", []func(*testing.T) string{stdin(gzLevel(text, 6)), plain(text)}, -1},
		{"a gzip failing its CRC, then a good copy", []func(*testing.T) string{raw(badCRC), gzipped(text, 6)}, 0},
		{"a truncated gzip, then the log", []func(*testing.T) string{raw(whole[:len(whole)/2]), plain(text)}, 0},
		{"a corrupt gzip, then the log", []func(*testing.T) string{raw(garbage), plain(text)}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := openTemp(t)
			for i, mk := range tc.imports {
				res, err := importOne(t, ws, mk(t))
				if err != nil {
					t.Fatalf("import %d: %v", i, err)
				}
				if damaged := res.Err != nil; damaged != (i == tc.damaged) {
					t.Errorf("import %d: error %v", i, res.Err)
				}
			}
			got, _ := analysistest.RowsOf(ws.Conversations(ctx, Query{}))
			if sessions(got) != sessions(want) {
				t.Errorf("%d sessions, want %d", sessions(got), sessions(want))
			}
			analysistest.SameConversations(t, got, want)
		})
	}
}

// importOne imports a file, or standard input given as "-\x00" + its bytes.
func importOne(t *testing.T, ws *Workspace, name string) (FileResult, error) {
	t.Helper()
	var res []FileResult
	var err error
	if len(name) > 1 && name[:2] == "-\x00" {
		withStdin(t, []byte(name[2:]), func() { res, err = ws.Import(ctx, []string{"-"}, ImportOptions{}) })
	} else {
		res, err = ws.Import(ctx, []string{name}, ImportOptions{})
	}
	if err != nil {
		return FileResult{}, err
	}
	return res[0], nil
}

// TestDamagedGzipKeepsVerifiedMembers: of a gzip of several members whose
// last is damaged, the members that checked are imported, and nothing of
// the damaged one.
func TestDamagedGzipKeepsVerifiedMembers(t *testing.T) {
	path, lines := demoLog(t, "nsxt", 2000)
	cut := len(lines) / 2
	first := []byte(joinLines(lines[:cut]))
	second := gzLevel([]byte(joinLines(lines[cut:])), 6)
	second[len(second)-6] ^= 0xff // the length in the trailer
	file := fileOf(t, "two.gz", append(gzLevel(first, 6), second...))
	ws := openTemp(t)
	res, err := importOne(t, ws, file)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(res.Err, gzip.ErrChecksum) || res.Stats.Lines != int64(cut) {
		t.Errorf("err %v, %d lines; want a checksum error and the %d lines of the first member", res.Err, res.Stats.Lines, cut)
	}
	want := inMemory(t, fileOf(t, "first.log", first))
	got, _ := analysistest.RowsOf(ws.Conversations(ctx, Query{}))
	analysistest.SameConversations(t, got, want)
	// The whole log afterwards adds exactly the rest.
	if _, err := importOne(t, ws, path); err != nil {
		t.Fatal(err)
	}
	got, _ = analysistest.RowsOf(ws.Conversations(ctx, Query{}))
	analysistest.SameConversations(t, got, inMemory(t, path))
}

func joinLines(lines []string) string {
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l)
	}
	return b.String()
}

// TestDivergingTextIsNew: a text that begins as an imported one and then
// differs (or ends early) is imported whole, whether planning must open a
// gzip file again or read a stream again from what it kept.
func TestDivergingTextIsNew(t *testing.T) {
	path, lines := demoLog(t, "nutanix", 3000)
	text, _ := os.ReadFile(path)
	other, _ := demoLog(t, "nsxt", 500)
	otherText, _ := os.ReadFile(other)
	cut := len(joinLines(lines[:len(lines)/3]))
	diverging := append(bytes.Clone(text[:cut]), otherText...)
	shorter := text[:cut]
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"diverging", diverging},
		// A prefix of an imported text is not recognised either: rows keep
		// no hash of their text at the shorter one's end (README).
		{"shorter", shorter},
	} {
		want := inMemory(t, path, fileOf(t, "b.log", tc.b))
		for _, how := range []string{"gzip", "stdin"} {
			t.Run(tc.name+"/"+how, func(t *testing.T) {
				ws := openTemp(t)
				if _, err := importOne(t, ws, path); err != nil {
					t.Fatal(err)
				}
				name := "-\x00" + string(tc.b)
				if how == "gzip" {
					name = fileOf(t, "b.gz", gzLevel(tc.b, 6))
				}
				res, err := importOne(t, ws, name)
				if err != nil || res.Outcome != Imported || res.Stats.Bytes != int64(len(tc.b)) {
					t.Fatalf("%+v %v: want the whole text imported", res, err)
				}
				got, _ := analysistest.RowsOf(ws.Conversations(ctx, Query{}))
				analysistest.SameConversations(t, got, want)
			})
		}
	}
}

// TestOverlongLastLineOnce: a log whose last line, still being written, is
// longer than a read chunk is held back like any partial line: once the
// file grows, it is counted once, at its own line number, and so are the
// lines after it.
func TestOverlongLastLineOnce(t *testing.T) {
	path, lines := demoLog(t, "nutanix", 300)
	head := joinLines(lines[:100])
	long := "INFO:" + string(bytes.Repeat([]byte("x"), 3<<20))
	grow := fileOf(t, "growing.log", []byte(head+long[:2<<20]))
	ws := openTemp(t)
	if _, err := importOne(t, ws, grow); err != nil {
		t.Fatal(err)
	}
	rest := long[2<<20:] + "\n" + joinLines(lines[100:]) + "\n"
	f, _ := os.OpenFile(grow, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(rest)
	f.Close()
	res, err := importOne(t, ws, grow)
	if err != nil || res.Outcome != Tail {
		t.Fatalf("%+v %v", res, err)
	}
	src, _ := ws.Sources(ctx)
	st := src[0].Stats
	if st.Lines != int64(len(lines))+1 || st.Malformed != 1 || len(src[0].Malformed) != 1 || src[0].Malformed[0].Line != 101 {
		t.Errorf("lines %d (want %d), malformed %d (want 1), samples %+v (want line 101)", st.Lines, len(lines)+1, st.Malformed, src[0].Malformed)
	}
	want := inMemory(t, path)
	got, _ := analysistest.RowsOf(ws.Conversations(ctx, Query{}))
	analysistest.SameConversations(t, got, want)
}

// TestGzipTrailingBytesReported: bytes after the last gzip member that are
// not gzip (padding) are not read, and the import says how many.
func TestGzipTrailingBytesReported(t *testing.T) {
	path, _ := demoLog(t, "nsxt", 300)
	text, _ := os.ReadFile(path)
	ws := openTemp(t)
	res, err := importOne(t, ws, fileOf(t, "padded.gz", append(gzLevel(text, 6), make([]byte, 1000)...)))
	if err != nil || res.Err != nil || res.Trailing != 1000 {
		t.Errorf("trailing %d, %v %v; want 1000 bytes reported", res.Trailing, res.Err, err)
	}
	got, _ := analysistest.RowsOf(ws.Conversations(ctx, Query{}))
	analysistest.SameConversations(t, got, inMemory(t, path))
}
