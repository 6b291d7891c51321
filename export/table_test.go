package export

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/flowsleuth/flowsleuth/analysis/analysistest"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/ingest"
)

func TestSummarise(t *testing.T) {
	var addrs []string
	for i := range 25 {
		addrs = append(addrs, fmt.Sprintf("20.10.31.%d", 115+i))
	}
	for _, tc := range []struct {
		Name, In, Sep string
		Limit         int
		Want          string
	}{
		{"short enough", "10.0.0.1, 10.0.0.2", ", ", 32, "10.0.0.1, 10.0.0.2"},
		{"25 addresses", strings.Join(addrs, ", "), ", ", 24, "20.10.31.115 +24 more"},
		{"two fit", strings.Join(addrs, ", "), ", ", 36, "20.10.31.115, 20.10.31.116 +23 more"},
		{"one long item", strings.Repeat("x", 40), ", ", 32, strings.Repeat("x", 40)},
		{"semicolons", "esx-01;esx-02;esx-03;esx-04;esx-05;esx-06", ";", 21, "esx-01;esx-02 +4 more"},
	} {
		if got, _ := summarise(tc.In, tc.Sep, tc.Limit); got != tc.Want {
			t.Errorf("%s: %q, want %q", tc.Name, got, tc.Want)
		}
	}
	if got := clip("Web tier → DNS (53/udp)", 10); got != "Web tier …" {
		t.Errorf("clip: %q", got)
	}
}

// bigRule is a rule whose destination lists 25 addresses, with a long
// description: the line that was ~800 characters wide.
func bigRules() rules.Set {
	var prefixes []netip.Prefix
	var names []string
	for i := range 25 {
		a := netip.AddrFrom4([4]byte{20, 10, 31, byte(115 + i)})
		prefixes = append(prefixes, netip.PrefixFrom(a, 32))
		names = append(names, a.String())
	}
	dst := rules.Endpoint{Name: strings.Join(names, ", "), Kind: rules.KindAddresses, Prefixes: prefixes}
	r := rules.Rule{ID: "r-0123456789", Name: "SGTSWEB to many", Direction: ingest.DirOutbound,
		Src: rules.Endpoint{Name: "SGTSWEB", Kind: rules.KindGroup, Group: "SGTSWEB"}, Dst: dst,
		Service:     rules.Service{Proto: ingest.ProtoTCP, Ports: []rules.PortRange{{From: 443, To: 443}, {From: 8443, To: 8443}}},
		Description: "SGTSWEB → " + dst.Name + " 443, 8443/tcp — 1,234 sessions, 2025-04-07 → 2025-04-13"}
	return rules.Set{Rules: []rules.Rule{r}}
}

// TestRulesTableFits: in a 100-column terminal no line is wider, the long
// destination reads "20.10.31.115 +24 more" and a note says how to see
// everything; --wide and a pipe keep the full text.
func TestRulesTableFits(t *testing.T) {
	rs := bigRules()
	var b bytes.Buffer
	if err := WriteRulesTable(&b, rs, TableOptions{Width: 100}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if n := utf8.RuneCountInString(l); n > 100 {
			t.Errorf("a %d-character line in a 100-column terminal: %q", n, l)
		}
	}
	for _, want := range []string{"20.10.31.115 +24 more", "--wide shows all", "SOURCE", "DESTINATION PORT", "without id"} {
		if !strings.Contains(out, want) {
			t.Errorf("fitted table lacks %q:\n%s", want, out)
		}
	}
	for _, o := range []TableOptions{{Width: 100, Wide: true}, {}} {
		b.Reset()
		WriteRulesTable(&b, rs, o)
		if !strings.Contains(b.String(), rs.Rules[0].Description) || strings.Contains(b.String(), "more") {
			t.Errorf("%+v: not the full text:\n%s", o, b.String())
		}
	}
}

// TestTableLikeTabwriter: without a width the table is what text/tabwriter
// wrote before (the golden files depend on it).
func TestTableLikeTabwriter(t *testing.T) {
	rows := [][]string{{"a", "bb", "ccc"}, {"dddd", "", "é"}}
	var want bytes.Buffer
	tw := tabwriter.NewWriter(&want, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "X\tY\tZ\t")
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t")+"\t")
	}
	tw.Flush()
	var got bytes.Buffer
	cols := []tableCol{{title: "X"}, {title: "Y"}, {title: "Z"}}
	textTable(&got, cols, len(rows), func(i int, cells []string) { copy(cells, rows[i]) }, TableOptions{})
	if got.String() != want.String() {
		t.Errorf("got\n%q\nwant\n%q", got.String(), want.String())
	}
}

// TestFitLeavesColumnsOut: a terminal too narrow for every column at its
// minimum shows the first ones whole and names the others in a note no
// wider than the terminal.
func TestFitLeavesColumnsOut(t *testing.T) {
	c := analysistest.Conversation{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), Proto: 6, DPort: 443}
	var b bytes.Buffer
	tb := analysistest.Table([]analysistest.Conversation{c})
	WriteFlowsTable(&b, tb, tb.All(), TableOptions{Width: 60})
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	for _, l := range lines {
		if utf8.RuneCountInString(l) > 60 {
			t.Errorf("line of %d: %q", utf8.RuneCountInString(l), l)
		}
	}
	// The titles, the row, then the note, wrapped to the width.
	if note := strings.Join(lines[2:], " "); !strings.Contains(note, "without") || !strings.Contains(note, "hosts") {
		t.Errorf("note %q", note)
	}
	if !strings.Contains(lines[1], "10.0.0.1") || !strings.Contains(lines[1], "10.0.0.2") {
		t.Errorf("addresses cut: %q", lines[1])
	}
}

// TestEndpointFitted: a fitted table summarises an endpoint's members, not
// its name, whose commas are not a list's ("DNS, Kerberos servers").
func TestEndpointFitted(t *testing.T) {
	var six []netip.Prefix
	for i := range 6 {
		six = append(six, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 10, 0, byte(10 + i)}), 32))
	}
	for _, tc := range []struct {
		Name string
		E    rules.Endpoint
		Want string
	}{
		{"named, two members", rules.Endpoint{Name: "DNS, Kerberos servers", Kind: rules.KindIPSet, Prefixes: six[:2]},
			"DNS, Kerberos servers (10.10.0.10, 10.10.0.11)"},
		{"named, six members", rules.Endpoint{Name: "DNS, Kerberos servers", Kind: rules.KindIPSet, Prefixes: six},
			"DNS, Kerberos servers (10.10.0.10, 10.10.0.11 +4 more)"},
		{"a name for many", rules.Endpoint{Name: "web-01, web-02, web-03, web-04 and 5 more", Kind: rules.KindIPSet,
			Prefixes: append(append([]netip.Prefix{}, six...), six...)}, "web-01, web-02, web-03, web-04 and 5 more"},
		{"unnamed", rules.Endpoint{Kind: rules.KindAddresses, Prefixes: six}, "10.10.0.10, 10.10.0.11 +4 more"},
		{"group", rules.Endpoint{Name: "SGTSWEB", Kind: rules.KindGroup, Group: "SGTSWEB"}, "SGTSWEB"},
	} {
		if got, _ := endpointFitted(tc.E); got != tc.Want {
			t.Errorf("%s: %q, want %q", tc.Name, got, tc.Want)
		}
	}
}
