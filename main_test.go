package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis/clickhouse/chtest"
	"github.com/flowsleuth/flowsleuth/app/message"
	"github.com/flowsleuth/flowsleuth/ingest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// flowsleuth runs the CLI in-process and returns its exit code and output.
func flowsleuth(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// binary builds the real flowsleuth binary once per test run; tests that
// run in parallel may ask for it at once.
var (
	binaryMu   sync.Mutex
	binaryPath string
)

func binary(t *testing.T) string {
	t.Helper()
	binaryMu.Lock()
	defer binaryMu.Unlock()
	if binaryPath != "" {
		return binaryPath
	}
	dir, err := os.MkdirTemp("", "flowsleuth-bin")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "flowsleuth")
	if out, err := exec.Command("go", "build", "-o", path, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	binaryPath = path
	return path
}

func TestMain(m *testing.M) {
	// The default workspace lives under the user's configuration directory:
	// point it at a scratch directory so tests never touch the real one.
	cfg, err := os.MkdirTemp("", "flowsleuth-config")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CONFIG_HOME", cfg)
	os.Setenv(message.LogEnv, filepath.Join(cfg, "flowsleuth.log")) // errors are logged there, not in the user's cache
	defer os.RemoveAll(cfg)
	code := chtest.Main(m) // a private ClickHouse server for the store's tests
	if binaryPath != "" {
		os.RemoveAll(filepath.Dir(binaryPath))
	}
	os.RemoveAll(cfg)
	os.Exit(code)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n got:\n%s\nwant:\n%s", name, got, want)
	}
}

func samples(t *testing.T) []string {
	files, err := filepath.Glob("ingest/testdata/samples/*.log")
	if err != nil || len(files) < 6 {
		t.Fatalf("reference samples missing in ingest/testdata/samples: %v %v", files, err)
	}
	return files
}

func TestFlowsSamplesGolden(t *testing.T) {
	for _, format := range []string{"csv", "json", "table"} {
		code, out, errs := flowsleuth(t, "", append([]string{"flows", "--format", format}, samples(t)...)...)
		if code != exitOK {
			t.Fatalf("flows --format %s: exit %d: %s", format, code, errs)
		}
		golden(t, "samples-flows."+format, out)
	}
}

// TestMalformedCorpus checks that every line of a file of bad input lands in
// the expected bucket, for the expected reason, at the expected line.
func TestMalformedCorpus(t *testing.T) {
	f, err := os.Open("testdata/malformed.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := ingest.Read(context.Background(), f, "malformed.log", func(*ingest.Batch) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if st.Lines != 19 || st.Events != 4 || st.Skipped != 3 || st.Unsupported != 2 || st.Malformed != 10 || st.NULLines != 1 {
		t.Errorf("lines %d events %d skipped %d unsupported %d malformed %d NUL %d; want 19 4 3 2 10 1",
			st.Lines, st.Events, st.Skipped, st.Unsupported, st.Malformed, st.NULLines)
	}
	wantLines := map[int64]error{6: ingest.ErrBadAddr, 7: ingest.ErrBadPort, 8: ingest.ErrIncomplete,
		9: ingest.ErrBadTime, 10: ingest.ErrBadTuple, 11: ingest.ErrBadCounter, 12: ingest.ErrBadField,
		15: ingest.ErrLineTooLong, 18: ingest.ErrBadJSON, 19: ingest.ErrTruncated}
	for _, pe := range st.MalformedSamples {
		want, ok := wantLines[pe.Line]
		if !ok || ingest.Reason(pe.Err) != want {
			t.Errorf("line %d: %v; want %v", pe.Line, pe.Err, want)
		}
		delete(wantLines, pe.Line)
	}
	for line, want := range wantLines {
		t.Errorf("line %d: not reported as malformed (%v)", line, want)
	}
	if n := st.UnsupportedReasons[ingest.ErrDatapathReason.Error()]; n != 1 {
		t.Errorf("datapath reasons: %d, want 1", n)
	}
	if n := st.UnsupportedReasons[ingest.ErrGatewayFirewall.Error()]; n != 1 {
		t.Errorf("gateway lines: %d, want 1", n)
	}

	// The same through the CLI, flags after the file name.
	code, out, errs := flowsleuth(t, "", "import", "testdata/malformed.log", "--show-malformed", "20", "--no-workspace")
	if code != exitOK {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	for _, re := range []string{`lines\s+19\b`, `events\s+4\b`, `skipped\s+3\b`, `unsupported\s+2\b`, `malformed\s+10\b`,
		`malformed.log:6:147: bad address in SRC`, `malformed.log:19: truncated last line`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("import output lacks %q:\n%s", re, out)
		}
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		Name    string
		Args    []string
		Code    int
		Message string
	}{
		{"no command, no display", nil, exitUsage, "no display"}, // with one: the app (TestBareBinaryOpensWindow)
		{"--help", []string{"--help"}, exitOK, "with no command: open the desktop app"},
		{"-h", []string{"-h"}, exitOK, "Usage"},
		{"help", []string{"help"}, exitOK, "Usage:"},
		{"unknown command", []string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"no files", []string{"import"}, exitUsage, "no input files"},
		{"no workspace", []string{"flows", "--workspace", "testdata/none.flowsleuth"}, exitFailure, "no workspace at testdata/none.flowsleuth"},
		{"foreign workspace", []string{"import", "--workspace", "testdata/malformed.log", "testdata/malformed.log"}, exitFailure, "not a FlowSleuth workspace"},
		{"top with files", []string{"flows", "--top", "5", "testdata/malformed.log"}, exitUsage, "give no FILE"},
		{"since with files", []string{"rules", "--since", "2025-01-01", "testdata/malformed.log"}, exitUsage, "give no FILE"},
		{"rules bad format", []string{"rules", "--format", "xml"}, exitUsage, "--format must be"},
		{"bad since", []string{"flows", "--since", "yesterday"}, exitUsage, "--since"},
		{"workspace no verb", []string{"workspace"}, exitUsage, "say info, export, monitor or compact"},
		{"missing file", []string{"flows", "testdata/nope.log"}, exitFailure, "testdata/nope.log: no such file"},
		{"a directory", []string{"import", "testdata"}, exitFailure, "is a directory"},
		{"bad flag", []string{"flows", "--frob", "x"}, exitUsage, "flag provided but not defined"},
		{"bad format", []string{"flows", "--format", "xml", "x"}, exitUsage, "--format must be"},
		{"bad monitored", []string{"flows", "--monitored", "10.0.0.0/33", "testdata/malformed.log"}, exitUsage, "--monitored"},
		{"flag help", []string{"flows", "-h"}, exitOK, "Usage: flowsleuth flows"},
		{"version", []string{"version"}, exitOK, ""},
	}
	t.Setenv("DISPLAY", "") // a terminal: no command must not open a window here
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			code, _, errs := flowsleuth(t, "", tc.Args...)
			if code != tc.Code || !strings.Contains(errs, tc.Message) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errs, tc.Code, tc.Message)
			}
		})
	}
}

// TestBinaryGzipStdin runs the real binary: gzip input, read from a file and
// from standard input, gives the same flows as the plain files.
func TestBinaryGzipStdin(t *testing.T) {
	bin := binary(t)
	var plain bytes.Buffer
	for _, f := range samples(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		plain.Write(b)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain.Bytes())
	zw.Close()
	dir := t.TempDir()
	gzPath := filepath.Join(dir, "samples.log.1") // no .gz suffix: detected by content
	if err := os.WriteFile(gzPath, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	want, err := childCommand(bin, append([]string{"flows", "--format", "csv"}, samples(t)...)...).Output()
	if err != nil {
		t.Fatal(err)
	}
	got, err := childCommand(bin, "flows", "--format", "csv", gzPath).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("gzip file gives other flows:\n%s\nwant\n%s", got, want)
	}
	cmd := childCommand(bin, "flows", "--format", "csv", "-")
	cmd.Stdin = bytes.NewReader(gz.Bytes())
	got, err = cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("gzip on stdin gives other flows:\n%s\nwant\n%s", got, want)
	}

	// A cut-off gzip fails with a clear message, and keeps nothing of the
	// member whose end is missing (its text cannot be checked).
	cut := filepath.Join(dir, "cut.gz")
	os.WriteFile(cut, gz.Bytes()[:gz.Len()*2/3], 0o644)
	cmd = childCommand(bin, "import", cut)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if code := cmd.ProcessState.ExitCode(); code != exitFailure || !strings.Contains(stderr.String(), "unexpected EOF") ||
		!strings.Contains(string(out), "gzip data damaged") || !strings.Contains(string(out), "0 conversations, 0 sessions") {
		t.Errorf("cut gzip: exit %d (%v), stderr %q, stdout:\n%s", code, err, stderr.String(), out)
	}
}

// TestDemoRoundTrip is the end-to-end check: for every vendor and wrapper,
// the logs `demo` writes, read back by `flows`, give exactly the table the
// generator knows to be true (computed from its simulation, not by parsing).
func TestDemoRoundTrip(t *testing.T) {
	code, list, _ := flowsleuth(t, "", "demo", "-list-wraps")
	if code != exitOK {
		t.Fatal("demo -list-wraps failed")
	}
	sessions := "1500"
	if testing.Short() {
		sessions = "300"
	}
	pairs := 0
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		f := strings.Fields(line)
		for _, wrap := range f[1:] {
			vendor := f[0]
			pairs++
			t.Run(vendor+"/"+wrap, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				logf, truth := filepath.Join(dir, "demo.log"), filepath.Join(dir, "truth.csv")
				if code, _, errs := flowsleuth(t, "", "demo", "--vendor", vendor, "--wrap", wrap,
					"--sessions", sessions, "--seed", "3", "--out", logf, "--truth", truth); code != exitOK {
					t.Fatalf("demo: exit %d: %s", code, errs)
				}
				code, got, errs := flowsleuth(t, "", "flows", "--format", "csv", logf)
				if code != exitOK || errs != "" {
					t.Fatalf("flows: exit %d: %s", code, errs)
				}
				want, err := os.ReadFile(truth)
				if err != nil {
					t.Fatal(err)
				}
				if got != string(want) {
					t.Errorf("flows differ from the truth:\n%s", lineDiff(got, string(want)))
				}
			})
		}
	}
	if pairs < 30 {
		t.Errorf("only %d vendor/wrapper pairs listed", pairs)
	}
}

// lineDiff lists the lines only in got (-) or only in want (+), at most 20.
func lineDiff(got, want string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	g, w := in(got), in(want)
	var out []string
	for _, l := range strings.Split(got, "\n") {
		if !w[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range strings.Split(want, "\n") {
		if !g[l] {
			out = append(out, "+ "+l)
		}
	}
	if len(out) > 20 {
		out = append(out[:20], "…")
	}
	return strings.Join(out, "\n")
}
