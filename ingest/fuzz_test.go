package ingest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// sentinels are the reasons every parser error wraps exactly one of.
var sentinels = []error{
	ingest.ErrLineTooLong, ingest.ErrTruncated, ingest.ErrBadTime, ingest.ErrTimeRange, ingest.ErrBadAddr, ingest.ErrBadPort,
	ingest.ErrBadProto, ingest.ErrBadCounter, ingest.ErrBadTuple, ingest.ErrBadField, ingest.ErrBadJSON,
	ingest.ErrIncomplete, ingest.ErrGatewayFirewall, ingest.ErrDatapathReason,
}

// tableInputs returns every input of the table tests.
func tableInputs() []string {
	var in []string
	for _, cs := range [][]parseCase{wrapperCases, payloadCases, malformedCases} {
		for _, tc := range cs {
			in = append(in, tc.In)
		}
	}
	for _, tc := range yearCases {
		in = append(in, tc.In)
	}
	return in
}

// result is what one Parse call gave, without Raw.
type result struct {
	Bucket ingest.Bucket
	Err    string
	Event  ingest.Event
}

func parse(p *ingest.Parser, line []byte) result {
	var ev ingest.Event
	b, err := p.Parse(line, &ev)
	ev.Raw = nil
	r := result{Bucket: b, Event: ev}
	if err != nil {
		r.Err = err.Error()
	}
	return r
}

// checkParse parses line and checks the parser's contract; it returns the result.
func checkParse(t *testing.T, line []byte, opts ...ingest.Option) result {
	t.Helper()
	opts = append([]ingest.Option{ingest.WithReferenceTime(goldenRef)}, opts...)
	p := ingest.NewParser(opts...)

	// Parse a copy, then scribble over the copy: nothing in the event may
	// change, since strings must not alias the input.
	buf := bytes.Clone(line)
	var ev ingest.Event
	b, err := p.Parse(buf, &ev)
	if len(ev.Raw) > 0 && &ev.Raw[0] != &buf[0] {
		t.Errorf("Raw does not alias the input")
	}
	for i := range buf {
		buf[i] = 'X'
	}
	ev.Raw = nil

	checkBucket(t, b, err)
	if b == ingest.Parsed {
		checkParsed(t, &ev)
	}

	got := result{Bucket: b, Event: ev}
	if err != nil {
		got.Err = err.Error()
	}
	// Deterministic: the same parser again, and a fresh one, agree.
	if again := parse(p, line); !reflect.DeepEqual(again, got) {
		t.Errorf("second parse differs:\n got %+v\nwant %+v", again, got)
	}
	if fresh := parse(ingest.NewParser(opts...), line); !reflect.DeepEqual(fresh, got) {
		t.Errorf("fresh parser differs (or the event aliased the input):\n got %+v\nwant %+v", fresh, got)
	}
	return got
}

// checkBucket checks that the error goes with the bucket, and that an error
// wraps exactly one sentinel.
func checkBucket(t *testing.T, b ingest.Bucket, err error) {
	t.Helper()
	switch b {
	case ingest.Parsed, ingest.Skipped:
		if err != nil {
			t.Errorf("bucket %v with error %v", b, err)
		}
	case ingest.Unsupported, ingest.Malformed:
		if err == nil {
			t.Errorf("bucket %v without an error", b)
		}
	default:
		t.Fatalf("bucket %d is none of the four", b)
	}
	if err == nil {
		return
	}
	n := 0
	for _, s := range sentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("error %q wraps %d sentinels, want 1", err, n)
	}
}

// checkParsed checks what every parsed event has.
func checkParsed(t *testing.T, ev *ingest.Event) {
	t.Helper()
	if !ev.Src.IsValid() || !ev.Dst.IsValid() {
		t.Errorf("parsed with src %v, dst %v", ev.Src, ev.Dst)
	}
	if ev.Vendor == ingest.VendorUnknown || ev.Kind == ingest.KindUnknown {
		t.Errorf("parsed with vendor %v, kind %v", ev.Vendor, ev.Kind)
	}
	if !ev.Time.IsZero() && ev.Time.Location() != time.UTC {
		t.Errorf("time %v is not UTC", ev.Time)
	}
}

func FuzzParse(f *testing.F) {
	for _, l := range sampleLines(f) {
		f.Add(l, false)
		f.Add(l, true)
	}
	for _, in := range tableInputs() {
		f.Add([]byte(in), false)
		f.Add([]byte(in), true)
	}
	f.Fuzz(func(t *testing.T, line []byte, lib bool) {
		checkParse(t, line, ingest.WithSyslogLibrary(lib))
	})
}

// Wrappers put in front of a payload. Each ends in a space or TAB and holds
// no anchor, and no colon that could start a Nutanix date in the payload.
var wrappers = []string{
	"",
	"<134>2025-04-10T10:12:51.646697+00:00 GSO-EVERGLADE01-4-1 Genesis_1: ",
	"<99>2020-05-15T09:08:27.965Z ip-10-23-254-72 FIREWALL_PKTLOG: ",
	"<99>2020-05-15T09:08:27Z esx FIREWALL_PKTLOG ",
	"<13>1 2024-05-15T19:41:25.001Z vcf-w1c1-esxi05 FIREWALL-PKTLOG - - - ",
	"<14>1 2025-04-10T10:12:51.646697+00:00 ahv-1 Genesis_1 4711 HIT [meta seq=\"1\"] ",
	"<134>Apr 10 10:12:51 ahv-host-1 Genesis_1: ",
	"<144> Sep 17 09:41:50 esxi-01 dfwpktlogs: ",
	"<14>Sep 17 09:41:50 esxi-01 dfwpktlogs[2101]: ",
	"2025-12-11T12:51:08.857757+00:00 ahv-host-1 ahv ",
	"2017-04-11T21:09:59.877Z ESXi_FQDN dfwpktlogs: ",
	"2026-03-03T00:02:11.678Z No(13) FIREWALL-PKTLOG[1069031]: ",
	"2016-09-17T10:34:55.004Z ",
	"Sep 17 09:41:50 esx-2 dfwpktlogs: ",
	"10.48.52.230\tApr 10 11:12:46\t\tlocal0\tinfo\t\t2025-04-10T10:12:51.646697+00:00 GSO-EVERGLADE01-4-1 Genesis_1: ",
	"Apr 10 11:12:46\t10.48.52.230\tahv-1\tlocal0\tinfo\tGenesis_1\t",
	"10.48.52.230 Apr 10 11:12:46 local0 info 2025-04-10T10:12:51.646697+00:00 GSO-EVERGLADE01-4-1 Genesis_1: ",
	"10.0.0.5 Sep 17 09:41:50 user notice ",
}

// payloadView is the part of a result a wrapper must not change: the host,
// and for NSX the time and version, come from the header.
func payloadView(r result) result {
	r.Event.Host = ""
	if r.Event.Vendor.IsNSX() {
		r.Event.Vendor, r.Event.Time = ingest.NSXT, time.Time{}
	}
	return r
}

// sameOutcome reports whether a and b agree on all the payload says.
func sameOutcome(a, b result) bool {
	a, b = payloadView(a), payloadView(b)
	return a.Bucket == b.Bucket && a.Err == b.Err && reflect.DeepEqual(a.Event, b.Event)
}

// jsonWrap wraps line as VMware Cloud log forwarding does, '/' escaped.
func jsonWrap(line string) string {
	text, _ := json.Marshal(line)
	return `{"sddc_id":"037c42e3","text":` + string(bytes.ReplaceAll(text, []byte("/"), []byte(`\/`))) + `,"timestamp":1.589533710199E12}`
}

// fuzzWrapped parses payload bare and inside wrapper w: both must keep the
// contract, and agree on everything the payload says.
func fuzzWrapped(t *testing.T, payload []byte, w uint8, withJSON bool) {
	bare := checkParse(t, payload)
	if len(payload) > ingest.DefaultMaxLineLength-300 || bytes.HasPrefix(payload, []byte("{")) {
		return // the wrapper would make it too long; JSON is unwrapped first
	}
	n := len(wrappers)
	if withJSON {
		n++
	}
	i := int(w) % n
	var line string
	if i < len(wrappers) {
		line = wrappers[i] + string(payload)
	} else {
		if !utf8.Valid(payload) || bytes.ContainsFunc(payload, func(r rune) bool { return r < ' ' }) {
			return
		}
		line = jsonWrap(wrappers[2] + string(payload))
	}
	wrapped := checkParse(t, []byte(line))
	if !sameOutcome(bare, wrapped) {
		t.Errorf("wrapped in %q:\n bare    %+v\n wrapped %+v", line[:len(line)-len(payload)], bare, wrapped)
	}
}

// payloads returns the payloads of the sample and table lines that have one
// of the given anchors, without their wrappers.
func payloads(f testing.TB, anchor *regexp.Regexp) [][]byte {
	var out [][]byte
	add := func(line []byte) {
		if bytes.HasPrefix(line, []byte("{")) {
			var rec struct{ Text string }
			if json.Unmarshal(line, &rec) != nil {
				return
			}
			line = []byte(rec.Text)
		}
		if m := anchor.FindIndex(line); m != nil {
			out = append(out, line[m[0]:])
		}
	}
	for _, l := range sampleLines(f) {
		add(l)
	}
	for _, in := range tableInputs() {
		add([]byte(in))
	}
	if len(out) == 0 {
		f.Fatal("no seed payloads")
	}
	return out
}

var (
	nutanixStart = regexp.MustCompile(`[A-Z]+:\d{4}/\d\d/\d\d \d\d:\d\d:\d\d`)
	nsxStart     = regexp.MustCompile(`(?:[0-9a-f]{1,16} )?INET6? `)
)

// TestWrappedPayloads runs every seed payload in every wrapper.
func TestWrappedPayloads(t *testing.T) {
	for _, anchor := range []*regexp.Regexp{nutanixStart, nsxStart} {
		for _, p := range payloads(t, anchor) {
			for w := 0; w <= len(wrappers); w++ {
				fuzzWrapped(t, p, uint8(w), true)
			}
		}
	}
}

func FuzzNutanixPayload(f *testing.F) {
	for i, p := range payloads(f, nutanixStart) {
		f.Add(p, uint8(i))
	}
	f.Fuzz(func(t *testing.T, payload []byte, w uint8) {
		fuzzWrapped(t, payload, w, false)
	})
}

func FuzzNSXPayload(f *testing.F) {
	for i, p := range payloads(f, nsxStart) {
		f.Add(p, uint8(i))
	}
	f.Fuzz(func(t *testing.T, payload []byte, w uint8) {
		fuzzWrapped(t, payload, w, true)
	})
}

// headerPayloads are valid payloads FuzzHeader puts arbitrary bytes before.
var headerPayloads = []string{
	nuPayload,
	"INFO:2020/05/31 12:42:06 [7847abb0-285b-4ff9-bb40-271df1a0c229] test [Destroy] SRC=10.55.7.26 DST=10.55.7.140 PROTO=UDP SPORT=45214 DPORT=10514",
	nsxPayload,
	nsxVPay,
	"INET match DROP domain-c46/1005 OUT 78 UDP 10.2.5.10/137->10.2.5.255/137",
	"028cd586 INET6 match DROP mainrs/1027 OUT 143 UDP fe80:0:0:0:68c2:8472:2364:9be/546->ff02:0:0:0:0:0:1:2/547",
	"INET TERM PASS 5096 OUT TCP RST 10.10.10.11/60517->10.10.10.10/443 9/8 1461/4677 DR-Allow",
}

// nutanixDate is what findNutanix takes for the start of a payload.
var nutanixDate = regexp.MustCompile(`(?:^|[ \t:])[A-Z]+:\d..\d/\d./\d. \d.:\d.:\d\d`)

// hasAnchor reports whether prefix (as the parser sees it, NULs removed)
// could itself be taken for a payload or change how one is found.
func hasAnchor(prefix []byte) bool {
	p := bytes.ReplaceAll(prefix, []byte{0}, nil)
	return bytes.Contains(p, []byte("INET")) || bytes.Contains(p, []byte("SRC=")) ||
		bytes.HasPrefix(p, []byte("{")) || bytes.HasSuffix(p, []byte(">")) ||
		nutanixDate.Match(append(p, ' '))
}

func FuzzHeader(f *testing.F) {
	for i, w := range wrappers {
		f.Add([]byte(w), uint8(i))
	}
	for i, junk := range []string{"", "<13>", "\t\t\t", "\x00", "::::", "]]] [", "<1 5:5>", "deadbeef", "No(13)"} {
		f.Add([]byte(junk), uint8(i))
	}
	f.Fuzz(func(t *testing.T, prefix []byte, n uint8) {
		if len(prefix) > 4096 || hasAnchor(prefix) {
			return
		}
		payload := headerPayloads[int(n)%len(headerPayloads)]
		want := parse(ingest.NewParser(), []byte(payload))
		got := checkParse(t, append(append(bytes.Clone(prefix), ' '), payload...))
		if strings.Contains(got.Err, ingest.ErrTimeRange.Error()) {
			return // the prefix is a header time before 2000 or after 2199 (UTC): refused, as it should be
		}
		if got.Bucket != ingest.Parsed {
			t.Fatalf("prefix %q: bucket %v (%s), want parsed", prefix, got.Bucket, got.Err)
		}
		g, w := got.Event, want.Event
		if g.Src != w.Src || g.Dst != w.Dst || g.SPort != w.SPort || g.DPort != w.DPort || g.Proto != w.Proto ||
			g.Rule != w.Rule || g.Policy != w.Policy || g.Kind != w.Kind {
			t.Errorf("prefix %q:\n got %v\nwant %v", prefix, describe(g), describe(w))
		}
	})
}

func describe(e ingest.Event) string {
	return fmt.Sprintf("%v %v %v:%d->%v:%d proto %d rule %q policy %q",
		e.Vendor, e.Kind, e.Src, e.SPort, e.Dst, e.DPort, e.Proto, e.Rule, e.Policy)
}
