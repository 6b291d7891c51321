package workspace

import (
	"bytes"
	stdflate "compress/flate"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/klauspost/compress/flate"
)

// linesRow is the lines of a conversation_samples row (encodeSplit's tail).
func linesRow(lines ...string) []byte {
	e := enc{}
	for _, l := range lines {
		e.s(l)
	}
	return e.b
}

// TestSampleBlockSchema6: blocks are written in S2 now, and the DEFLATE
// blocks of schema 6 still load, whether klauspost/compress wrote them
// (its writer) or the standard library (before it).
func TestSampleBlockSchema6(t *testing.T) {
	var w blockWriter
	want := linesRow(strings.Repeat("<134>2025-04-07T00:00:00.000000+00:00 ahv-0 SRC=10.0.0.1 DST=172.16.0.1 ", 40))
	w.add(0, want)
	w.add(7, linesRow("b"))
	blob, err := w.blob()
	if err != nil {
		t.Fatal(err)
	}
	if blob[0] != blockS2 {
		t.Fatalf("format %d, want S2 (%d)", blob[0], blockS2)
	}
	for name, blob := range map[string][]byte{"klauspost": flateBlob(t, w.raw, false), "standard library": flateBlob(t, w.raw, true)} {
		var b sampleBlock
		if err := b.load(10, 17, blob); err != nil {
			t.Fatalf("a DEFLATE block of %s: %v", name, err)
		}
		if got := b.lines(10); !bytes.Equal(got, want) {
			t.Errorf("%s: lines %q, want %q", name, got, want)
		}
		if got := b.lines(17); !bytes.Equal(got, linesRow("b")) {
			t.Errorf("%s: lines %q, want b", name, got)
		}
	}
}

// flateBlob returns the block of entries raw as schema 6 wrote it: DEFLATE
// at its fastest level, by klauspost/compress or by the standard library.
func flateBlob(t testing.TB, raw []byte, std bool) []byte {
	out := bytes.NewBuffer([]byte{blockFlate})
	var zw io.WriteCloser
	var err error
	if std {
		zw, err = stdflate.NewWriter(out, stdflate.BestSpeed)
	} else {
		zw, err = flate.NewWriter(out, flate.BestSpeed)
	}
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(raw)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestSampleBlockRoundTrip: a block gives back the lines of each id it
// was given, nil for the ids of its range it was not, nothing outside its
// range; and every cut of its blob, S2 or DEFLATE, or an unknown format, is
// an error, not a panic or other lines.
func TestSampleBlockRoundTrip(t *testing.T) {
	var w blockWriter
	want := map[int64][]byte{}
	for _, off := range []int64{0, 1, 5, 63} {
		want[100+off] = linesRow(fmt.Sprintf("<134>line %d SRC=10.0.0.%d", off, off), strings.Repeat("x", int(off)))
		w.add(off, want[100+off])
	}
	blob, err := w.blob()
	if err != nil {
		t.Fatal(err)
	}
	blob = bytes.Clone(blob)
	var b sampleBlock
	if err := b.load(100, 163, blob); err != nil {
		t.Fatal(err)
	}
	for id := int64(95); id <= 170; id++ {
		if got := b.lines(id); !bytes.Equal(got, want[id]) {
			t.Errorf("id %d: lines %q, want %q", id, got, want[id])
		}
	}
	if err := b.load(100, 162, blob); !errors.Is(err, errBadBlock) { // offset 63 is past its range
		t.Errorf("block loaded into too short a range: %v", err)
	}
	for _, blob := range [][]byte{blob, flateBlob(t, w.raw, false)} {
		for cut := 0; cut < len(blob); cut++ {
			if err := b.load(100, 163, blob[:cut]); !errors.Is(err, errBadBlock) {
				t.Fatalf("format %d: blob cut at %d of %d: %v, want errBadBlock", blob[0], cut, len(blob), err)
			}
		}
	}
	for _, format := range []byte{0, blockS2 + 1} {
		if err := b.load(100, 163, append([]byte{format}, blob[1:]...)); !errors.Is(err, errBadBlock) {
			t.Errorf("unknown format %d: %v", format, err)
		}
	}
	if b.covers(100) {
		t.Error("a block that failed to load still answers")
	}
	// Out of order offsets, and more bytes than a block may hold.
	w.reset()
	w.add(3, linesRow("b"))
	w.add(2, linesRow("a"))
	if blob, _ := w.blob(); !errors.Is(b.load(1, 10, blob), errBadBlock) {
		t.Error("offsets out of order: loaded")
	}
	w.reset()
	w.add(0, make([]byte, blockMaxRaw))
	if blob, _ := w.blob(); !errors.Is(b.load(1, 10, blob), errBadBlock) {
		t.Error("a block larger than blockMaxRaw: loaded")
	}
}

// FuzzSampleBlock: a blob read from a workspace is untrusted; loading any
// blob fails or gives lines within it, and never panics.
func FuzzSampleBlock(f *testing.F) {
	var w blockWriter
	w.add(0, linesRow("<134>2025-06-02T06:00:00Z ahv SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP DPORT=443"))
	w.add(2, linesRow("a", "b", "c"))
	blob, _ := w.blob()
	f.Add(bytes.Clone(blob), int64(1), int64(64))
	f.Add(flateBlob(f, w.raw, false), int64(1), int64(64))
	f.Add([]byte{blockFlate}, int64(1), int64(1))
	f.Add([]byte{blockS2}, int64(1), int64(1))
	f.Add([]byte{}, int64(0), int64(0))
	f.Fuzz(func(t *testing.T, blob []byte, first, last int64) {
		var b sampleBlock
		if err := b.load(first, last, blob); err != nil {
			return
		}
		for id := first; id <= min(last, first+80); id++ {
			if l := b.lines(id); len(l) > len(b.raw) {
				t.Fatalf("id %d: %d bytes of lines from %d decoded", id, len(l), len(b.raw))
			}
		}
	})
}

// taggedLog returns a log of n conversations of k Nutanix lines each, every
// conversation's lines one after the other, in increasing order of their
// keys: as distinct.awk and tagged.awk write them. A drain at the end of
// a batch cuts the conversation of its last lines in two.
func taggedLog(n, k int) []byte {
	var b bytes.Buffer
	for i := range n {
		for j := range k {
			fmt.Fprintf(&b, "<134>2025-04-%02dT10:%02d:%02d.000000+00:00 ahv-%d Genesis_1: INFO:2025/04/%02d 10:%02d:%02d  "+
				"[ff16a6fb-ff89-4c2d-a9c8-%012d] Policy-%d [Destroy] SRC=10.%d.%d.%d DST=172.16.0.1 PROTO=TCP SPORT=%d "+
				"DPORT=443 ACTION=MONITOR DIRECTION=INBOUND ORIG: PKTS=1 BYTES=60 REPLY: PKTS=1 BYTES=%d\n",
				7+j, i/60%60, i%60, j, 7+j, i/60%60, i%60, i, j, i>>16&255, i>>8&255, i&255, 32768+j, i)
		}
	}
	return b.Bytes()
}

// TestBlocksThroughDrains imports a log of conversations cut in two by
// drains (a drain at every batch): each cut conversation is stored from
// one drain and merged from the next, while the batches between are
// stored in blocks. Its sample lines are those of the log read into a
// model, read whole, lazily and by Top. (A reader that remembered which ids
// no block held lost the first part's lines of every cut conversation
// whose block came after such a look-up.)
func TestBlocksThroughDrains(t *testing.T) {
	log := filepath.Join(t.TempDir(), "tagged.log")
	if err := os.WriteFile(log, taggedLog(6000, 4), 0o644); err != nil { // 5.7 MB: 5 batches
		t.Fatal(err)
	}
	read := func(drainAt int) (*Workspace, []analysistest.Conversation) {
		defer func(n int) { drainConversations = n }(drainConversations)
		drainConversations = drainAt
		ws := openTemp(t)
		if _, err := ws.Import(ctx, []string{log}, ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		rows, err := analysistest.RowsOf(ws.Conversations(ctx, Query{}))
		if err != nil {
			t.Fatal(err)
		}
		return ws, rows
	}
	want := inMemory(t, log) // not through the workspace's code
	ws, got := read(1)
	var blocks, rows int
	if err := ws.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM sample_blocks),
		(SELECT count(*) FROM conversation_samples)`).Scan(&blocks, &rows); err != nil {
		t.Fatal(err)
	}
	if len(got) != 6000 || blocks < 6000/blockMaxEntries/2 || rows > 6000/4 {
		t.Fatalf("%d conversations, %d blocks, %d rows of lines: want 6000 conversations, most of their lines in blocks",
			len(got), blocks, rows)
	}
	sameSamples(t, "read whole", got, want)
	tb, err := ws.Table(ctx, Query{})
	if err != nil {
		t.Fatal(err)
	}
	lazy := analysistest.Rows(tb)
	sameSamples(t, "read lazily", lazy, want)
	sameTopSamples(t, ws, want)
	states, err := ws.States(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, st := range states {
		n += len(st.Samples)
	}
	if n != 6000*3 {
		t.Errorf("States: %d sample lines, want %d", n, 6000*3)
	}
}

// sameTopSamples fails unless Top reads the sample lines of want's
// conversations, in its order (by bytes, not by id).
func sameTopSamples(t *testing.T, ws *Workspace, want []analysistest.Conversation) {
	t.Helper()
	top, err := analysistest.RowsOf(ws.Top(ctx, 500))
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string][]string{}
	for _, c := range want {
		byKey[c.Src.String()+" "+c.Dst.String()] = c.Samples
	}
	for _, c := range top {
		if w := byKey[c.Src.String()+" "+c.Dst.String()]; len(w) == 0 || !reflect.DeepEqual(c.Samples, w) {
			t.Fatalf("Top: %s → %s: samples %q, want %q", c.Src, c.Dst, c.Samples, w)
		}
	}
}

// sameSamples fails unless got and want have the same sample lines, row
// by row.
func sameSamples(t *testing.T, how string, got, want []analysistest.Conversation) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d conversations, want %d", how, len(got), len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i].Samples, want[i].Samples) {
			t.Fatalf("%s: conversation %d (%s → %s): samples %q, want %q", how, i, got[i].Src, got[i].Dst,
				got[i].Samples, want[i].Samples)
		}
	}
}

// TestBlockLinesUpdated: conversations stored with one sample line each,
// in blocks, then given more by a second import keep their first line and
// gain the next ones, as an import of both files at once has them: the
// changed lines go to conversation_samples, which comes before the block.
func TestBlockLinesUpdated(t *testing.T) {
	dir := t.TempDir()
	all := strings.SplitAfter(strings.TrimSuffix(string(taggedLog(300, 4)), "\n"), "\n")
	var first, second []string
	for i, l := range all {
		if i%4 == 0 {
			first = append(first, l)
		} else {
			second = append(second, l)
		}
	}
	f1, f2, both := filepath.Join(dir, "1.log"), filepath.Join(dir, "2.log"), filepath.Join(dir, "all.log")
	os.WriteFile(f1, []byte(strings.Join(first, "")), 0o644)
	os.WriteFile(f2, []byte(strings.Join(second, "")), 0o644)
	os.WriteFile(both, []byte(strings.Join(all, "")), 0o644)
	ws := openTemp(t)
	for _, f := range []string{f1, f2} {
		if _, err := ws.Import(ctx, []string{f}, ImportOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var blocks, rows int
	if err := ws.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM sample_blocks),
		(SELECT count(*) FROM conversation_samples)`).Scan(&blocks, &rows); err != nil {
		t.Fatal(err)
	}
	if blocks == 0 || rows != 300 {
		t.Fatalf("%d blocks, %d rows of lines; want the first import's blocks and 300 rows of the lines changed", blocks, rows)
	}
	got, err := analysistest.RowsOf(ws.Conversations(ctx, Query{}))
	if err != nil {
		t.Fatal(err)
	}
	sameSamples(t, "after two imports", got, inMemory(t, both))
}

// TestUpgradeSchema5 upgrades a workspace the previous version but one
// wrote at schema 5 (testdata/schema5.flowsleuth: demoLog("nutanix", 150)
// imported, the lines of its 88 conversations in conversation_samples) and
// imports into it that log again, which it finds imported, and another
// (upgradeAndImport): the old conversations keep their lines in their rows,
// the new ones' go to blocks, the rows are gone (schema 8), and the whole reads as a model of both logs.
func TestUpgradeSchema5(t *testing.T) {
	ws, logs := upgradeAndImport(t, "schema5.flowsleuth", 5)
	var blocks, rows, tables int
	err := ws.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM sample_blocks), (SELECT count(*) FROM conversation_samples),
		(SELECT count(*) FROM sqlite_schema WHERE name = 'conversations')`).Scan(&blocks, &rows, &tables)
	if err != nil || blocks == 0 || rows != 88 || tables != 0 {
		t.Fatalf("%d blocks, %d rows of lines, %d conversations tables (%v); want blocks, 88 rows, none", blocks, rows, tables, err)
	}
	sameAsInMemory(t, ws, logs)
}

// TestUpgradeSchema6 does the same with a workspace the previous version
// wrote at schema 6 (testdata/schema6.flowsleuth: the same log imported,
// the lines of its 88 conversations in two DEFLATE blocks): the new
// conversations' lines go to S2 blocks, and the whole reads as a model of
// both logs, lines included.
func TestUpgradeSchema6(t *testing.T) {
	ws, logs := upgradeAndImport(t, "schema6.flowsleuth", 6)
	var deflate, s2 int
	err := ws.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM sample_blocks WHERE substr(lines, 1, 1) = ?),
		(SELECT count(*) FROM sample_blocks WHERE substr(lines, 1, 1) = ?)`, []byte{blockFlate}, []byte{blockS2}).Scan(&deflate, &s2)
	if err != nil || deflate != 2 || s2 == 0 {
		t.Fatalf("%d DEFLATE and %d S2 blocks (%v); want 2 and some", deflate, s2, err)
	}
	sameAsInMemory(t, ws, logs)
}

// upgradeAndImport copies the fixture name, a workspace of schema from
// holding demoLog("nutanix", 150), checks it is behind, opens it (which
// upgrades it) and imports that log, which it finds imported, and a tagged
// log of 300 conversations, which it imports. It returns the workspace
// and both logs.
func upgradeAndImport(t *testing.T, name string, from int) (*Workspace, []string) {
	t.Helper()
	dir := t.TempDir()
	path := fixtureCopy(t, dir, name)
	if v, to, ok := Behind(path); !ok || v != from || to != len(migrations) {
		t.Fatalf("Behind = %d, %d, %v; want %d, %d, true", v, to, ok, from, len(migrations))
	}
	first, _ := demoLog(t, "nutanix", 150)
	second := filepath.Join(dir, "tagged.log")
	if err := os.WriteFile(second, taggedLog(300, 4), 0o644); err != nil {
		t.Fatal(err)
	}
	ws, err := Open(path) // upgrades it
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	for i, f := range []string{first, second} {
		res, err := ws.Import(ctx, []string{f}, ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if want := []Outcome{Already, Imported}[i]; len(res) != 1 || res[0].Outcome != want {
			t.Fatalf("import %d: %+v, want %v", i+1, res, want)
		}
	}
	return ws, []string{first, second}
}

// sameAsInMemory checks that ws reads as a model of logs, lines included.
func sameAsInMemory(t *testing.T, ws *Workspace, logs []string) {
	t.Helper()
	got, err := analysistest.RowsOf(ws.Conversations(ctx, Query{}))
	if err != nil {
		t.Fatal(err)
	}
	want := inMemory(t, logs...)
	analysistest.SameConversations(t, got, want)
	sameSamples(t, "after the upgrade", got, want)
	if n := checkBlocks(t, ws); n != len(want) {
		t.Errorf("%d conversations in blocks, want %d", n, len(want))
	}
}
