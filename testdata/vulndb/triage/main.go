// Command triage reads govulncheck -format json on standard input and says
// which vulnerabilities the code reaches. It fails for one in a module (the
// fix is a go.mod upgrade) unless the file named by -accept explains it,
// and names one in the standard library without failing: its fix is a newer
// Go toolchain, which the machine provides (GOTOOLCHAIN=local), and releases
// must be built with the version it names.
//
//	govulncheck -format json ./... | go run ./triage -accept accepted.txt
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// message is the part of a govulncheck JSON message triage reads
// (x/vuln internal/govulncheck, v1.10.0).
type message struct {
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
	Finding *struct {
		OSV          string  `json:"osv"`
		FixedVersion string  `json:"fixed_version"`
		Trace        []frame `json:"trace"`
	} `json:"finding"`
}

// reached is one vulnerability the code calls.
type reached struct {
	ID, Module, Version, Fixed, Summary string
	Calls                               []string
}

func main() {
	acceptFile := flag.String("accept", "", "a file of accepted vulnerabilities: lines 'ID module: why'")
	flag.Parse()
	accepted, err := readAccepted(*acceptFile)
	if err == nil {
		var failed bool
		failed, err = triage(os.Stdin, os.Stdout, accepted)
		if failed {
			os.Exit(1)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "triage:", err)
		os.Exit(2)
	}
}

// readAccepted reads the accepted vulnerabilities: ID → why.
func readAccepted(path string) (map[string]string, error) {
	out := map[string]string{}
	if path == "" {
		return out, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, why, _ := strings.Cut(line, " ")
		out[id] = why
	}
	return out, nil
}

// triage reports on the messages in r and returns whether a module's
// vulnerability is reached.
func triage(r io.Reader, w io.Writer, accepted map[string]string) (bool, error) {
	summaries := map[string]string{}
	found := map[string]*reached{}
	other := map[string]bool{}
	dec := json.NewDecoder(bufio.NewReader(r))
	for dec.More() {
		var m message
		if err := dec.Decode(&m); err != nil {
			return false, fmt.Errorf("read govulncheck's output: %w", err)
		}
		if m.OSV != nil {
			summaries[m.OSV.ID] = m.OSV.Summary
		}
		f := m.Finding
		if f == nil || len(f.Trace) == 0 {
			continue
		}
		if f.Trace[0].Function == "" { // imported or required, not called
			other[f.OSV] = true
			continue
		}
		v := found[f.OSV]
		if v == nil {
			t := f.Trace[0]
			v = &reached{ID: f.OSV, Module: t.Module, Version: goVersion(t.Module, t.Version), Fixed: goVersion(t.Module, f.FixedVersion)}
			found[f.OSV] = v
		}
		call := symbol(f.Trace[len(f.Trace)-1]) + " → " + symbol(f.Trace[0])
		if len(v.Calls) < 3 && !slices.Contains(v.Calls, call) {
			v.Calls = append(v.Calls, call)
		}
	}
	for id := range found {
		delete(other, id)
		found[id].Summary = summaries[id]
	}
	return report(w, found, len(other), accepted), nil
}

// report writes the reached vulnerabilities, modules' first, and returns
// whether any is a module's.
func report(w io.Writer, found map[string]*reached, other int, accepted map[string]string) bool {
	list := make([]*reached, 0, len(found))
	for _, v := range found {
		list = append(list, v)
	}
	slices.SortFunc(list, func(a, b *reached) int {
		if sa, sb := a.Module == "stdlib", b.Module == "stdlib"; sa != sb {
			if sa {
				return 1
			}
			return -1
		}
		return strings.Compare(a.ID, b.ID)
	})
	failed := false
	for _, v := range list {
		what := "FAIL: upgrade the module in go.mod, or explain it in the accepted file"
		switch why, ok := accepted[v.ID]; {
		case v.Module == "stdlib":
			what = "the Go toolchain's: build releases with " + v.Fixed + " or later"
		case ok:
			what = "accepted: " + why
		default:
			failed = true
		}
		fmt.Fprintf(w, "%s %s@%s, fixed in %s: %s\n    %s\n", v.ID, v.Module, v.Version, v.Fixed, v.Summary, what)
		for _, c := range v.Calls[:min(len(v.Calls), calls(v))] {
			fmt.Fprintf(w, "    e.g. %s\n", c)
		}
	}
	for id := range accepted {
		if found[id] == nil {
			fmt.Fprintf(w, "note: %s is accepted but no longer reached: remove its line\n", id)
		}
	}
	fmt.Fprintf(w, "govulncheck: %d vulnerabilities reached by the code (%d in modules), %d more in packages or modules it does not call\n",
		len(list), countModules(list), other)
	return failed
}

// frame is one call of a trace.
type frame = struct{ Module, Version, Package, Function, Receiver string }

// symbol names a frame's function as pkg.Recv.Func.
func symbol(f frame) string {
	if f.Receiver != "" {
		return f.Package + "." + strings.TrimPrefix(f.Receiver, "*") + "." + f.Function
	}
	return f.Package + "." + f.Function
}

// goVersion writes the standard library's versions as Go's (go1.26.8).
func goVersion(module, v string) string {
	if module == "stdlib" && strings.HasPrefix(v, "v") {
		return "go" + v[1:]
	}
	return v
}

// calls is how many of its calls to show of v: a module's three, the
// standard library's one (there are many, and the fix is the same).
func calls(v *reached) int {
	if v.Module == "stdlib" {
		return 1
	}
	return 3
}

func countModules(list []*reached) int {
	n := 0
	for _, v := range list {
		if v.Module != "stdlib" {
			n++
		}
	}
	return n
}
