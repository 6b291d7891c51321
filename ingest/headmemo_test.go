package ingest_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// headerPairs are headers a parser reads one after the other: the second
// often differs from the first only in its time, which the parser reads
// from the first one's remembered host and tag (and must not when anything
// else differs).
var headerPairs = [][2]string{
	{"<14>2025-06-02T06:00:00.008Z esxi-prod-01 FIREWALL_PKTLOG: ", "<14>2025-06-02T06:00:00.107Z esxi-prod-01 FIREWALL_PKTLOG: "},
	{"<14>2025-06-02T06:00:00.008Z esxi-prod-01 FIREWALL_PKTLOG: ", "<14>2025-06-02T06:00:01.008Z esxi-prod-02 FIREWALL_PKTLOG: "},
	{"<14>2025-06-02T06:00:00.008Z esxi-prod-01 FIREWALL_PKTLOG: ", "<13>2025-06-02T06:00:01.008Z esxi-prod-01 FIREWALL_PKTLOG: "},
	{"<14>2025-06-02T06:00:00.008Z esxi-01 dfwpktlogs: ", "<14>2025-06-02t06:00:00.009Z esxi-01 dfwpktlogs: "},
	{"<14>2025-06-02T06:00:00.008Z esxi-01 FIREWALL-PKTLOG: ", "<14>2025-06-02 06:00:00.009Z esxi-01 FIREWALL-PKTLOG: "},
	{"<14>2025-06-02T06:00:00.008Z esx ", "<14>2025-06-02T06:00:00.0081Z esx "},
	{"<14>2025-06-02T06:00:00.0081Z esx ", "<14>2025-06-02T06:00:00.008Z  esx "},
	{"<14>2025-06-02T06:00:00+01:00 esx ", "<14>2025-06-02T06:00:00-05:30 esx "},
	{"<14>2025-02-28T06:00:00Z esx ", "<14>2025-02-30T06:00:00Z esx "},
	{"<14>2025-02-28T06:00:00Z esx ", "<14>1999-12-31T23:59:59Z esx "},
	{"<14>2025-02-28T06:00:00Z esx ", "<14>2025-02-28T06:00:00Zzesx "},
	{"<14>2025-02-28T06:00:00Z esx ", "<14> 025-02-28T06:00:00Z esx "},
	{"<14>2025-02-28T06:00:00Z esx ", "<14>1 25-02-28T06:00:00Z esx "},
	{"<14>2025-06-02T06:00:00.008Z ", "<14>2025-06-02T06:00:00.009Z "},
	{"<14>2025-06-02T06:00:00.008Z esx ", "<14>2025-06-02T06:00:00Zabcd esx "},
	{"<14>2025-06-02T06:00:00+01:000 esx ", "<14> 2025-06-02T06:00:00+01:00 esx "},
	{"<14> 2025-06-02T06:00:00Z esx ", "<14>2025-06-02T06:00:01ZZ esx "},
	{"<14>2025-06-02T06:00:00.008Z No(13) FIREWALL-PKTLOG[1]: ", "<14>2025-06-02T06:00:00.009Z No(13) FIREWALL-PKTLOG[1]: "},
	{"<14>2025-06-02T06:00:00.008Z esx\tFIREWALL_PKTLOG: ", "<14>2025-06-02T06:00:01.008Z esx\tFIREWALL_PKTLOG: "},
	{"2025-06-02T06:00:00.008Z esx FIREWALL_PKTLOG: ", "2025-06-02T06:00:00.009Z esx FIREWALL_PKTLOG: "},
	{"<14>Jun  2 06:00:00 esx dfwpktlogs: ", "<14>Jun  2 06:00:01 esx dfwpktlogs: "},
}

// memoPayloads are the payloads the pairs are tried with: a time of their
// own (Nutanix) leaves the header's unread.
var memoPayloads = []string{nsxPayload, nsxVPay, "INET match PASS 4100 IN 60 TCP 100.64.0.1/1024->10.60.10.1/443 S SG-WEB", nuPayload}

// TestHeaderMemo checks that a parser that has read a line reads the next
// as a fresh parser does.
func TestHeaderMemo(t *testing.T) {
	for _, pair := range headerPairs {
		for i := range memoPayloads {
			for j := range memoPayloads {
				checkAfter(t, pair[0]+memoPayloads[i], pair[1]+memoPayloads[j])
			}
		}
	}
}

// TestHeaderMemoHosts reads the lines of more hosts than the parser keeps
// headers, interleaved, twice: each as a fresh parser reads it.
func TestHeaderMemoHosts(t *testing.T) {
	opts := []ingest.Option{ingest.WithReferenceTime(goldenRef)}
	p := ingest.NewParser(opts...)
	for i := range 400 {
		line := fmt.Sprintf("<14>2025-06-02T06:%02d:%02d.%03dZ esx-%03d FIREWALL_PKTLOG: %s", i/60, i%60, i, i%200, memoPayloads[i%2])
		got := parse(p, []byte(line))
		if want := parse(ingest.NewParser(opts...), []byte(line)); !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got %+v\nwant %+v", line, got, want)
		}
	}
}

// checkAfter parses first, then second with the same parser, and compares
// the second's result with a fresh parser's, with and without the syslog
// library.
func checkAfter(t *testing.T, first, second string) {
	t.Helper()
	for _, lib := range []bool{false, true} {
		opts := []ingest.Option{ingest.WithReferenceTime(goldenRef), ingest.WithSyslogLibrary(lib)}
		p := ingest.NewParser(opts...)
		parse(p, []byte(first))
		got := parse(p, []byte(second))
		if want := parse(ingest.NewParser(opts...), []byte(second)); !reflect.DeepEqual(got, want) {
			t.Errorf("after %q (library %v), %q:\n got %+v\nwant %+v", first, lib, second, got, want)
		}
	}
}

func FuzzHeaderMemo(f *testing.F) {
	for i, pair := range headerPairs {
		f.Add([]byte(pair[0]), []byte(pair[1]), uint8(i))
	}
	f.Fuzz(func(t *testing.T, first, second []byte, n uint8) {
		if len(first) > 4096 || len(second) > 4096 {
			return
		}
		payload := memoPayloads[int(n)%len(memoPayloads)]
		checkAfter(t, string(first)+payload, string(second)+payload)
	})
}
