package analysis

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
	"github.com/flowsleuth/flowsleuth/ingest/demo"
)

// TestAddFarSameAsAdd holds the batch path (addAhead: keys computed
// keyAhead lines before they are applied, conversations looked up
// convAhead lines before), with and without the table slots asked for, to
// the line-by-line one, on every vendor's demo log, with sweeps and expiry.
func TestAddFarSameAsAdd(t *testing.T) {
	for _, vendor := range []string{"nutanix", "nsxv", "nsxt", "nsx4"} {
		evs := demoEvents(t, vendor, 3000, 5)
		for _, opts := range []Options{{}, {Records: true, IdleTimeout: 20 * time.Minute, MaxOpen: 64}} {
			one := NewModel(opts)
			for i := range evs {
				one.Add(&evs[i])
			}
			fs, names, data := flowsOf(evs)
			idx := splitFlows(fs)
			for _, far := range []bool{false, true} {
				ahead := NewModel(opts)
				for s := range ahead.shards {
					ahead.shards[s].useNames(names)
					ahead.shards[s].addAhead(fs, idx[s], data, far)
				}
				if got, want := ahead.Stats(), one.Stats(); got != want {
					t.Errorf("%s %+v far %v: stats %+v, want %+v", vendor, opts, far, got, want)
				}
				if got, want := ahead.States(), one.States(); !reflect.DeepEqual(got, want) {
					t.Errorf("%s %+v far %v: conversation states differ:\n got %+v\nwant %+v", vendor, opts, far, got, want)
				}
			}
		}
	}
}

// flowsOf returns the Flows of the events that have both addresses, as
// ingest.Read's WithFlows makes them, their names and the text their
// RawOff index: the events' lines one after another.
func flowsOf(evs []ingest.Event) ([]ingest.Flow, []string, []byte) {
	var fs []ingest.Flow
	var data []byte
	names := []string{""}
	for i := range evs {
		var f ingest.Flow
		if evs[i].SetFlow(&f, uint32(len(data)), &names) {
			fs = append(fs, f)
		}
		data = append(data, evs[i].Raw...)
	}
	return fs, names, data
}

// demoEvents returns the events of a demo log of vendor with sessions
// sessions, made with seed.
func demoEvents(t *testing.T, vendor string, sessions int, seed int64) []ingest.Event {
	t.Helper()
	var buf bytes.Buffer
	if _, _, err := demo.Generate(&buf, demo.Config{Vendor: vendor, Sessions: sessions, Seed: seed}); err != nil {
		t.Fatal(err)
	}
	return parseAll(t, strings.Split(strings.TrimSpace(buf.String()), "\n"))
}

// parseAll parses lines into events, keeping each line's text.
func parseAll(t *testing.T, lines []string) []ingest.Event {
	t.Helper()
	p := ingest.NewParser()
	evs := make([]ingest.Event, 0, len(lines))
	for _, l := range lines {
		var ev ingest.Event
		if b, _ := p.Parse([]byte(l), &ev); b == ingest.Parsed {
			evs = append(evs, ev)
		}
	}
	if len(evs) == 0 {
		t.Fatal("no events")
	}
	return evs
}
