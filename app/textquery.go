package app

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/flowsleuth/flowsleuth/analysis"
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

// Match reports whether c matches every term; text is SearchText(c).
func (q TextQuery) Match(c *analysis.Conversation, text string) bool {
	for _, t := range q.terms {
		switch {
		case t.prefix.IsValid():
			if !t.prefix.Contains(c.Src) && !t.prefix.Contains(c.Dst) {
				return false
			}
		case t.port >= 0:
			if c.DPort != uint16(t.port) || c.Proto != ingest.ProtoTCP && c.Proto != ingest.ProtoUDP {
				return false
			}
		case !strings.Contains(text, t.word):
			return false
		}
	}
	return true
}

// needsText reports whether matching needs SearchText.
func (q TextQuery) needsText() bool {
	for _, t := range q.terms {
		if !t.prefix.IsValid() && t.port < 0 {
			return true
		}
	}
	return false
}

// SearchText is what the text filter's words look into, in lower case:
// VM names, the service, tags and reporting hosts (addresses and ports are
// matched as numbers, see ParseText).
func SearchText(c *analysis.Conversation) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(c.SrcVM + " " + c.DstVM + " " + analysis.ServiceLabel(c.Proto, c.DPort)))
	for _, t := range c.Tags {
		b.WriteString(" " + strings.ToLower(t.Name))
	}
	for _, h := range c.Hosts {
		b.WriteString(" " + strings.ToLower(h))
	}
	return b.String()
}
