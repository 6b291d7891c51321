package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis/clickhouse/chtest"
	"github.com/flowsleuth/flowsleuth/analysis/workspace"
	"github.com/flowsleuth/flowsleuth/export"
)

// splitByHost writes the lines of corpus whose reporting host is one of
// hosts to a, the others to b, each cut into parts consecutive files
// (connections straddle them), and returns the files.
func splitByHost(t *testing.T, dir, corpus string, parts int, hosts ...string) (a, b []string) {
	t.Helper()
	data, err := os.ReadFile(corpus)
	if err != nil {
		t.Fatal(err)
	}
	var la, lb []string
	for _, l := range strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n") {
		fields := strings.Fields(l)
		if len(fields) > 1 && slices.Contains(hosts, fields[1]) {
			la = append(la, l)
		} else {
			lb = append(lb, l)
		}
	}
	if len(la) == 0 || len(lb) == 0 {
		t.Fatalf("split by %v: %d and %d lines", hosts, len(la), len(lb))
	}
	write := func(name string, lines []string) []string {
		var files []string
		for i := 0; i < parts; i++ {
			f := filepath.Join(dir, fmt.Sprintf("%s-%d.log", name, i+1))
			part := strings.Join(lines[i*len(lines)/parts:(i+1)*len(lines)/parts], "")
			if !strings.HasSuffix(part, "\n") {
				part += "\n"
			}
			if err := os.WriteFile(f, []byte(part), 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		return files
	}
	return write(filepath.Base(corpus)+"-a", la), write(filepath.Base(corpus)+"-b", lb)
}

// newStoreURL makes a store in a new database of the test server.
func newStoreURL(t *testing.T, bin string) string {
	t.Helper()
	_, url := chtest.Need(t)
	runBin(t, bin, nil, "store", "init", url)
	return url
}

// runCollectors imports each list of files into its own workspace with
// --store, the collectors running at once as separate processes.
func runCollectors(t *testing.T, bin, dir, url string, lists ...[]string) {
	t.Helper()
	var cmds []*exec.Cmd
	var outs []*strings.Builder
	for i, files := range lists {
		ws := filepath.Join(dir, fmt.Sprintf("collector%d.flowsleuth", i+1))
		cmd := childCommand(bin, append([]string{"import", "-q", "--workspace", ws, "--store", url}, files...)...)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, &out)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("collector %d: %v\n%s", i+1, err, outs[i])
		}
	}
}

// TestStoreParity is the acceptance of the shared store: a corpus split
// across two collectors (two processes at once, two sets of reporting
// hosts, the same week, each part in three files) written to ClickHouse
// gives 'flows --store' byte-equal to 'flows' of the whole corpus imported
// into one workspace and read in memory, for Nutanix and NSX; the two ends
// of a connection, logged by hosts of different collectors, count once.
// JSON output is equal too, but for the evidence lines each reader kept.
func TestStoreParity(t *testing.T) {
	t.Parallel() // subprocesses and files of its own: overlaps the other long end-to-end tests
	bin := binary(t)
	for _, tc := range []struct {
		vendor string
		hosts  []string
	}{{"nutanix", []string{"ahv-node-1"}}, {"nsxv", []string{"esx-01", "esx-03"}}, {"nsxt", []string{"esx-02"}}} {
		t.Run(tc.vendor, func(t *testing.T) {
			dir := t.TempDir()
			corpus := filepath.Join(dir, tc.vendor+".log")
			runBin(t, bin, nil, "demo", "--vendor", tc.vendor, "--sessions", "20000", "--seed", "11", "--out", corpus)
			a, b := splitByHost(t, dir, corpus, 3, tc.hosts...)
			url := newStoreURL(t, bin)
			runCollectors(t, bin, dir, url, a, b)
			whole := filepath.Join(dir, "whole.flowsleuth")
			runBin(t, bin, nil, "import", "-q", "--workspace", whole, corpus)
			reader := filepath.Join(dir, "reader.flowsleuth") // never created: the store's reader has no workspace
			for _, format := range []string{"table", "csv"} {
				want := runBin(t, bin, nil, "flows", "--format", format, "--workspace", whole)
				if mem := runBin(t, bin, nil, "flows", "--format", format, corpus); mem != want {
					t.Fatalf("%s: workspace and in-memory flows differ:\n%s", format, lineDiff(mem, want))
				}
				got := runBin(t, bin, nil, "flows", "--format", format, "--store", url, "--workspace", reader)
				if got != want {
					t.Fatalf("%s: flows --store differs from flows of the whole corpus:\n%s", format, lineDiff(got, want))
				}
			}
			sameJSONFlows(t, runBin(t, bin, nil, "flows", "--format", "json", "--store", url, "--workspace", reader),
				runBin(t, bin, nil, "flows", "--format", "json", "--workspace", whole))
			if rules, wantRules := runBin(t, bin, nil, "rules", "--store", url, "--workspace", reader),
				runBin(t, bin, nil, "rules", "--workspace", whole); rules != wantRules {
				t.Fatalf("rules --store differs:\n%s", lineDiff(rules, wantRules))
			}
			if _, err := os.Stat(reader); err == nil {
				t.Error("reading a store created the reader's workspace")
			}
			if tc.vendor == "nsxv" { // check reads the store through the same source, beside a workspace
				ws, err := workspace.Open(reader)
				if err != nil {
					t.Fatal(err)
				}
				ws.Close()
				policy := filepath.Join(dir, "nsx.json")
				runBin(t, bin, nil, "export", "--workspace", whole, "--nsx", policy)
				if got, want := checkOutput(t, bin, "--store", url, "--workspace", reader, "--policy", policy),
					checkOutput(t, bin, "--workspace", whole, "--policy", policy); got != want {
					t.Fatalf("check --store differs:\n%s", lineDiff(got, want))
				}
			}
		})
	}
}

// sameJSONFlows fails unless two flows --format json outputs are equal but
// for their evidence lines, which every conversation must have.
func sameJSONFlows(t *testing.T, got, want string) {
	t.Helper()
	var g, w []map[string]any
	for text, dst := range map[string]*[]map[string]any{got: &g, want: &w} {
		if err := json.Unmarshal([]byte(text), dst); err != nil {
			t.Fatal(err)
		}
		for _, c := range *dst {
			if s, _ := c["samples"].([]any); len(s) == 0 {
				t.Fatalf("a conversation without evidence lines: %v", c)
			}
			delete(c, "samples")
		}
	}
	if len(g) == 0 || !reflect.DeepEqual(g, w) {
		t.Fatal("flows --format json --store differs from the whole corpus's (samples aside)")
	}
}

// checkOutput runs check (exit 0, or 1 when traffic would be blocked) and
// returns its output.
func checkOutput(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := childCommand(bin, append([]string{"check"}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); (err != nil && (!ok || ee.ExitCode() != exitFailure)) || len(out) == 0 {
		t.Fatalf("check %v: %v\n%s", args, err, stderr.String())
	}
	return string(out)
}

// TestStoreSurvivesKill kills a collector with SIGKILL while it imports
// and sends (at several moments, and with the failpoints: after the store
// acknowledged an insert but before the journal dropped it, and inside the
// workspace's commit), restarts it, and checks the store is still exact.
func TestStoreSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("imports ~100 MB a dozen times")
	}
	t.Parallel() // subprocesses and files of its own: overlaps the other long end-to-end tests
	bin := binary(t)
	dir := t.TempDir()
	corpus := filepath.Join(dir, "nutanix.log")
	runBin(t, bin, nil, "demo", "--vendor", "nutanix", "--sessions", "150000", "--seed", "12", "--out", corpus)
	a, b := splitByHost(t, dir, corpus, 2, "ahv-node-1", "ahv-node-2")
	whole := filepath.Join(dir, "whole.flowsleuth")
	runBin(t, bin, nil, "import", "-q", "--workspace", whole, corpus)
	want := runBin(t, bin, nil, "flows", "--format", "csv", "--workspace", whole)

	// The uninterrupted collector of part b, timed, sets the kill moments.
	url := newStoreURL(t, bin)
	start := time.Now()
	runCollectors(t, bin, dir, url, b)
	full := time.Since(start)
	t.Logf("uninterrupted collector: %v", full)

	type kill struct {
		name  string
		after time.Duration
		fail  string
	}
	kills := []kill{{"mid-insert", 0, "store-insert"}, {"after the store's ack", 0, "store-ack"},
		{"inside the commit", 0, "commit:1"}}
	for _, f := range []float64{0.3, 0.6, 0.85, 0.95} {
		kills = append(kills, kill{name: fmt.Sprintf("at %.0f%%", f*100), after: time.Duration(f * float64(full))})
	}
	for i, k := range kills {
		t.Run(k.name, func(t *testing.T) {
			url := newStoreURL(t, bin)
			ws := filepath.Join(dir, fmt.Sprintf("k%d.flowsleuth", i))
			args := append([]string{"import", "-q", "--workspace", ws, "--store", url}, a...)
			killed(t, bin, args, k.after, k.fail)
			runBin(t, bin, nil, args...) // the restart: same command
			other := filepath.Join(dir, fmt.Sprint("other", i))
			os.MkdirAll(other, 0o755)
			runCollectors(t, bin, other, url, b)
			got := runBin(t, bin, nil, "flows", "--format", "csv", "--store", url, "--workspace", filepath.Join(dir, "none"))
			if got != want {
				t.Errorf("after a kill %s and a restart, flows --store differ:\n%s", k.name, lineDiff(got, want))
			}
		})
	}
}

// killed runs the binary with args and kills it with SIGKILL after a
// while, or lets the failpoint fail (FLOWSLEUTH_FAILPOINT) kill it.
func killed(t *testing.T, bin string, args []string, after time.Duration, fail string) {
	t.Helper()
	cmd := childCommand(bin, args...)
	if fail != "" {
		cmd.Env = append(os.Environ(), "FLOWSLEUTH_FAILPOINT="+fail)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if after > 0 {
		time.Sleep(after)
		cmd.Process.Signal(syscall.SIGKILL)
	}
	err := cmd.Wait()
	if fail != "" {
		if st, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || st.Signal() != syscall.SIGKILL {
			t.Fatalf("the failpoint %s did not kill the collector: %v", fail, err)
		}
	}
}

// TestListenStore: a listener collector (killed with SIGKILL mid-stream,
// restarted, stopped with SIGTERM) and an import collector fill one store
// with exactly the flows of the whole corpus.
func TestListenStore(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	corpus := filepath.Join(dir, "nsxt.log")
	runBin(t, bin, nil, "demo", "--vendor", "nsxt", "--sessions", "20000", "--seed", "13", "--out", corpus)
	a, b := splitByHost(t, dir, corpus, 1, "esx-01")
	whole := filepath.Join(dir, "whole.flowsleuth")
	runBin(t, bin, nil, "import", "-q", "--workspace", whole, corpus)
	want := runBin(t, bin, nil, "flows", "--format", "csv", "--workspace", whole)
	url := newStoreURL(t, bin)
	runCollectors(t, bin, dir, url, a)

	data, err := os.ReadFile(b[0])
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
	ws, archive := filepath.Join(dir, "listener.flowsleuth"), filepath.Join(dir, "archive")
	l := startStoreListener(t, bin, ws, archive, url)
	l.send(t, lines[:len(lines)/2])
	waitArchived(t, archive, len(lines)/2)
	time.Sleep(300 * time.Millisecond) // a few commits and forwards
	l.cmd.Process.Signal(syscall.SIGKILL)
	l.cmd.Wait()

	l = startStoreListener(t, bin, ws, archive, url) // recovers the archive, forwards it
	l.send(t, lines[len(lines)/2:])
	deadline := time.Now().Add(30 * time.Second)
	for countArchived(archive) < len(lines) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	l.cmd.Process.Signal(syscall.SIGTERM)
	if err := l.cmd.Wait(); err != nil {
		t.Fatalf("listener: %v\n%s", err, l.stderr.String())
	}
	if !strings.Contains(l.stderr.String(), "session records sent") {
		t.Errorf("the listener's summary does not say what it sent:\n%s", l.stderr.String())
	}
	got := runBin(t, bin, nil, "flows", "--format", "csv", "--store", url, "--workspace", filepath.Join(dir, "none"))
	if got != want {
		t.Errorf("flows --store of a listener and an import collector differ:\n%s", lineDiff(got, want))
	}
}

// countArchived counts the lines of every archive segment, compressed ones included.
func countArchived(dir string) int {
	out, _ := exec.Command("sh", "-c", "cat "+dir+"/*.log 2>/dev/null | wc -l; zcat "+dir+"/*.gz 2>/dev/null | wc -l").Output()
	n := 0
	for _, f := range strings.Fields(string(out)) {
		var k int
		fmt.Sscan(f, &k)
		n += k
	}
	return n
}

func startStoreListener(t *testing.T, bin, ws, archive, url string) *listener {
	t.Helper()
	return launchListener(t, bin, ws, archive, []string{"--store", url})
}

// TestStoreUsage: a collector's workspace must be empty at first, --store
// needs a workspace, and a store must be made first.
func TestStoreUsage(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	_, url := chtest.Need(t)
	log := filepath.Join(dir, "x.log")
	runBin(t, bin, nil, "demo", "--sessions", "50", "--out", log)
	for _, tc := range []struct {
		Name string
		Args []string
		Code int
		Want string
	}{
		{"store not made", []string{"flows", "--store", url}, exitFailure, "store init"},
		{"bad URL", []string{"store", "info", "http://x/y"}, exitUsage, "clickhouse://"},
		{"no workspace", []string{"import", "--no-workspace", "--store", url, log}, exitUsage, "--store needs the workspace"},
		{"files with store", []string{"flows", "--store", url, log}, exitUsage, "give no FILE"},
	} {
		t.Run(tc.Name, func(t *testing.T) {
			code, _, stderr := flowsleuth(t, "", tc.Args...)
			if code != tc.Code || !strings.Contains(stderr, tc.Want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tc.Code, tc.Want)
			}
		})
	}
	runBin(t, bin, nil, "store", "init", url)
	var code int
	var stderr string
	used := filepath.Join(dir, "used.flowsleuth")
	runBin(t, bin, nil, "import", "-q", "--workspace", used, log)
	code, _, stderr = flowsleuth(t, "", "import", "--workspace", used, "--store", url, log)
	if code != exitFailure || !strings.Contains(stderr, "starts empty") {
		t.Errorf("attach a used workspace: exit %d, %q", code, stderr)
	}
	// A collector whose store is down still imports; its records wait.
	down := filepath.Join(dir, "down.flowsleuth")
	ws, err := workspace.Open(down)
	if err != nil {
		t.Fatal(err)
	}
	const closed = "clickhouse://127.0.0.1:1/flows"
	if _, err := ws.Attach(context.Background(), closed); err != nil {
		t.Fatal(err)
	}
	ws.Close()
	code, stdout, stderr := flowsleuth(t, "", "import", "-q", "--workspace", down, "--store", closed, log)
	if code != exitFailure || !strings.Contains(stderr, "wait in the workspace") || !strings.Contains(stdout, "50 sessions") {
		t.Errorf("import while the store is down: exit %d\n%s\n%s", code, stdout, stderr)
	}
	info := runBin(t, bin, nil, "store", "info", url)
	if !strings.Contains(info, "schema 1") {
		t.Errorf("store info:\n%s", info)
	}
}

// TestStoreSourceForApp: the store the app opens (gui --store, or the
// Sources view) gives the conversations flows --store prints.
func TestStoreSourceForApp(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	corpus := filepath.Join(dir, "nsxv.log")
	runBin(t, bin, nil, "demo", "--vendor", "nsxv", "--sessions", "3000", "--seed", "14", "--out", corpus)
	url := newStoreURL(t, bin)
	runCollectors(t, bin, dir, url, []string{corpus})
	src, err := openStoreSource(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	tab, err := src.Conversations(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	if err := export.WriteFlowsCSV(&got, tab, tab.All()); err != nil {
		t.Fatal(err)
	}
	if want := runBin(t, bin, nil, "flows", "--format", "csv", corpus); got.String() != want {
		t.Errorf("the app's store conversations differ:\n%s", lineDiff(got.String(), want))
	}
	if src.String() != url {
		t.Errorf("source named %q, want %q", src, url)
	}
	for i := range tab.Len() {
		if tab.SampleCount(i) == 0 {
			t.Fatalf("no evidence lines for the Flows view: %v→%v", tab.Src(i), tab.Dst(i))
		}
	}
}
