package app

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/services"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// TextQuery is the flow filter's text, parsed: a conversation matches when
// every term does (see ParseText).
type TextQuery struct{ terms []textTerm }

// textTerm is one word of the text filter.
type textTerm struct {
	prefix netip.Prefix // valid: either end is inside it
	port   int          // >= 0: the destination port
	word   string       // else: part of a VM name, tag, service or host, lower case
}

// TextHelp says how the text filter reads its words, for people.
const TextHelp = "Filter: 10.55.1.7, 10.55.1.0/24, 10.55.1 (whole numbers: 10.55.1.x, not 10.55.199.x), " +
	"a port, a VM, tag, service or host; every word must match (Ctrl+F)"

// ParseText reads the flow filter's text. Words are separated by spaces or
// commas, and every one must match:
//
//   - an address (10.55.1.7, 2001:db8::1) matches conversations with it at
//     either end, exactly;
//   - a CIDR (10.55.1.0/24) matches either end inside it;
//   - one to three whole IPv4 numbers (10.55.1, or 10.55.1.) are the prefix
//     of those octets: 10.55.1 is 10.55.1.0/24, so it matches 10.55.1.7
//     and never 10.55.199.7;
//   - a number alone (443) is the destination port;
//   - any other word is part of a VM name, tag, service ("https",
//     "53/udp") or reporting host, in any case.
func ParseText(s string) TextQuery {
	var q TextQuery
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' }) {
		q.terms = append(q.terms, parseTerm(w))
	}
	return q
}

func parseTerm(w string) textTerm {
	if p, err := netip.ParsePrefix(w); err == nil {
		return textTerm{prefix: p.Masked(), port: -1}
	}
	if a, err := netip.ParseAddr(w); err == nil {
		return textTerm{prefix: netip.PrefixFrom(a, a.BitLen()), port: -1}
	}
	if p, ok := octetPrefix(w); ok {
		return textTerm{prefix: p, port: -1}
	}
	if n, err := strconv.ParseUint(w, 10, 16); err == nil {
		return textTerm{port: int(n)}
	}
	return textTerm{word: strings.ToLower(w), port: -1}
}

// octetPrefix reads "10", "10.55." or "10.55.1" with at least one dot as
// the prefix of those whole octets.
func octetPrefix(w string) (netip.Prefix, bool) {
	if !strings.Contains(w, ".") {
		return netip.Prefix{}, false
	}
	parts := strings.Split(strings.TrimSuffix(w, "."), ".")
	if len(parts) > 3 {
		return netip.Prefix{}, false
	}
	var b [4]byte
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 8)
		if err != nil || len(p) > 3 {
			return netip.Prefix{}, false
		}
		b[i] = byte(n)
	}
	return netip.PrefixFrom(netip.AddrFrom4(b), 8*len(parts)), true
}

// compile returns the query's test on the rows of t: every term must
// match. A word is looked for, in any case, in the names of the row's VMs,
// its service ("dns 53/udp"), its tags and its reporting hosts, each
// interned list of which is searched once.
func (q TextQuery) compile(t *analysis.Table) func(i int) bool {
	tests := make([]func(i int) bool, len(q.terms))
	for k, term := range q.terms {
		switch {
		case term.prefix.IsValid():
			p := term.prefix
			tests[k] = func(i int) bool { return p.Contains(t.Src(i)) || p.Contains(t.Dst(i)) }
		case term.port >= 0:
			port := uint16(term.port)
			tests[k] = func(i int) bool {
				return t.DPort(i) == port && (t.Proto(i) == ingest.ProtoTCP || t.Proto(i) == ingest.ProtoUDP)
			}
		default:
			tests[k] = wordTest(t, term.word)
		}
	}
	return func(i int) bool {
		for _, test := range tests {
			if !test(i) {
				return false
			}
		}
		return true
	}
}

// wordTest returns whether row i has word (lower case) in a VM name, its
// service, a tag or a reporting host.
func wordTest(t *analysis.Table, word string) func(i int) bool {
	has := func(s string) bool { return strings.Contains(strings.ToLower(s), word) }
	vms := setTest(t.VMLabels(), func(n int) bool { return has(t.VMLabelOf(n).VM) })
	tags := setTest(t.TagSets(), func(n int) bool {
		return slices.ContainsFunc(t.TagSetOf(n), func(tg analysis.Tag) bool { return has(tg.Name) })
	})
	hosts := setTest(t.HostSets(), func(n int) bool { return slices.ContainsFunc(t.HostSetOf(n), has) })
	known := map[uint32]bool{}
	return func(i int) bool {
		if vms[t.SrcLabel(i)] || vms[t.DstLabel(i)] || tags[t.TagSet(i)] || hosts[t.HostSet(i)] {
			return true
		}
		k := uint32(t.Proto(i))<<16 | uint32(t.DPort(i))
		ok, seen := known[k]
		if !seen {
			ok = has(services.Label(t.Proto(i), t.DPort(i)))
			known[k] = ok
		}
		return ok
	}
}

// setTest answers test once for each of n interned lists.
func setTest(n int, test func(n int) bool) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = test(i)
	}
	return out
}
