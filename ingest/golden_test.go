package ingest_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// Run "go test ./ingest -run Golden -update" to rewrite the golden files, then
// check the diff by hand against log-formats.md.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files in testdata")
	}
}

// updating reports whether -update was given.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// goldenRef is the reference time of golden and table tests, so RFC 3164
// stamps (which carry no year) always land in the same year.
var goldenRef = time.Date(2026, time.June, 1, 0, 0, 0, 0, time.UTC)

// goldenLine is one input line's outcome as stored in a .golden.json file.
type goldenLine struct {
	Line   int          `json:"line"`
	Bucket string       `json:"bucket"`
	Err    string       `json:"err,omitempty"`
	Event  *goldenEvent `json:"event,omitempty"`
}

// goldenEvent is an ingest.Event without Raw, in a form that reads well as
// JSON: addresses as text, time as RFC 3339 UTC, enums by name.
type goldenEvent struct {
	Vendor    string `json:"vendor"`
	Kind      string `json:"kind"`
	Time      string `json:"time,omitempty"`
	Host      string `json:"host,omitempty"`
	Src       string `json:"src"`
	Dst       string `json:"dst"`
	Proto     uint8  `json:"proto"`
	SPort     uint16 `json:"sport,omitempty"`
	DPort     uint16 `json:"dport,omitempty"`
	Action    string `json:"action,omitempty"`
	Direction string `json:"direction"`

	Counters *goldenCounters `json:"counters,omitempty"`

	PolicyID    string `json:"policy_id,omitempty"`
	Policy      string `json:"policy,omitempty"`
	Level       string `json:"level,omitempty"`
	Description string `json:"description,omitempty"`
	Extra       string `json:"extra,omitempty"`

	Filter  string      `json:"filter,omitempty"`
	RuleSet string      `json:"ruleset,omitempty"`
	Rule    string      `json:"rule,omitempty"`
	Tag     string      `json:"tag,omitempty"`
	Length  uint32      `json:"length,omitempty"`
	Flags   string      `json:"flags,omitempty"`
	Close   string      `json:"close,omitempty"`
	ICMP    *goldenICMP `json:"icmp,omitempty"`
}

type goldenCounters struct {
	OrigPkts   uint64 `json:"orig_pkts"`
	OrigBytes  uint64 `json:"orig_bytes"`
	ReplyPkts  uint64 `json:"reply_pkts"`
	ReplyBytes uint64 `json:"reply_bytes"`
}

type goldenICMP struct {
	Type uint8 `json:"type"`
	Code uint8 `json:"code"`
}

// addrString renders an address, or "" when it is not set.
func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func toGolden(ev *ingest.Event) *goldenEvent {
	g := &goldenEvent{
		Vendor:      ev.Vendor.String(),
		Kind:        ev.Kind.String(),
		Host:        ev.Host,
		Src:         addrString(ev.Src),
		Dst:         addrString(ev.Dst),
		Proto:       ev.Proto,
		SPort:       ev.SPort,
		DPort:       ev.DPort,
		Action:      ev.Action.String(),
		Direction:   ev.Direction.String(),
		PolicyID:    ev.PolicyID,
		Policy:      ev.Policy,
		Level:       ev.Level,
		Description: ev.Description,
		Extra:       ev.Extra,
		Filter:      ev.Filter,
		RuleSet:     ev.RuleSet,
		Rule:        ev.Rule,
		Tag:         ev.Tag,
		Length:      ev.Length,
		Flags:       ev.Flags,
		Close:       ev.Close,
	}
	if !ev.Time.IsZero() {
		g.Time = ev.Time.UTC().Format(time.RFC3339Nano)
	}
	if ev.HasCounters {
		g.Counters = &goldenCounters{ev.OrigPkts, ev.OrigBytes, ev.ReplyPkts, ev.ReplyBytes}
	}
	if ev.HasICMP {
		g.ICMP = &goldenICMP{ev.ICMPType, ev.ICMPCode}
	}
	return g
}

// sampleFiles returns the sample logs in testdata/samples.
func sampleFiles(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "samples", "*.log"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Fatal("no sample logs in testdata/samples")
	}
	return files
}

// fileLines returns the lines of a file without their line endings.
func fileLines(tb testing.TB, name string) [][]byte {
	tb.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	data = bytes.TrimSuffix(data, []byte("\n"))
	if len(data) == 0 {
		return nil
	}
	return bytes.Split(data, []byte("\n"))
}

// sampleLines returns every line of every sample log.
func sampleLines(tb testing.TB) [][]byte {
	tb.Helper()
	var all [][]byte
	for _, f := range sampleFiles(tb) {
		all = append(all, fileLines(tb, f)...)
	}
	return all
}

func goldenFor(p *ingest.Parser, lines [][]byte) []goldenLine {
	out := make([]goldenLine, 0, len(lines))
	for i, line := range lines {
		var ev ingest.Event
		b, err := p.Parse(line, &ev)
		g := goldenLine{Line: i + 1, Bucket: b.String()}
		if err != nil {
			g.Err = err.Error()
		}
		if b == ingest.Parsed {
			g.Event = toGolden(&ev)
		}
		out = append(out, g)
	}
	return out
}

func TestGolden(t *testing.T) {
	for _, file := range sampleFiles(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".log")
		t.Run(name, func(t *testing.T) {
			lines := fileLines(t, file)
			got, err := json.MarshalIndent(goldenFor(ingest.NewParser(ingest.WithReferenceTime(goldenRef)), lines), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := strings.TrimSuffix(file, ".log") + ".golden.json"
			if updating() {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the parser's output; run with -update and check the diff by hand\n got: %s", golden, got)
			}

			// The go-syslog header path must give the same golden output.
			lib, err := json.MarshalIndent(goldenFor(ingest.NewParser(ingest.WithReferenceTime(goldenRef), ingest.WithSyslogLibrary(true)), lines), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			if lib = append(lib, '\n'); !bytes.Equal(lib, want) {
				t.Errorf("WithSyslogLibrary(true) output differs from %s\n got: %s", golden, lib)
			}
		})
	}
}
