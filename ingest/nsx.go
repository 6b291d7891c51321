package ingest

import (
	"bytes"
	"net/netip"
)

// NSX distributed firewall packet logs, every version (log-formats.md §3):
//
//	[HASH] AF REASON [ACTION] [RULESET/]RULE DIR [LEN] PROTO [CLOSE] [ICMPTYPE ICMPCODE]
//	  SRC[/SPORT]->DST[/DPORT] [FLAGS] [PKTS-IN/PKTS-OUT BYTES-IN/BYTES-OUT] [TAG…]
//
// The payload is found by its "INET"/"INET6" word, never by the syslog tag.

var inetWord = []byte("INET")

// findNSX returns the offset of the payload (the filter hash when there is
// one, else the INET word) and of the INET word itself, or -1, -1.
func findNSX(line []byte) (start, inet int) {
	for off := 0; off < len(line); {
		i := indexINET(line[off:])
		if i < 0 {
			return -1, -1
		}
		i += off
		off = i + 4
		if i > 0 && !isSpace(line[i-1]) { // a TAB ends Visual Syslog's tag field
			continue
		}
		j := i + 4
		if j < len(line) && line[j] == '6' {
			j++
		}
		if j >= len(line) || line[j] != ' ' {
			continue
		}
		start = i
		if i > 1 {
			k := i - 1
			for k > 0 && !isSpace(line[k-1]) {
				k--
			}
			if isHexWord(line[k : i-1]) {
				start = k
			}
		}
		return start, i
	}
	return -1, -1
}

// indexINET is bytes.Index(b, inetWord), looking for its N: the headers and
// tags before the payload mostly hold none (FIREWALL_PKTLOG holds an I),
// so that one look finds the word.
func indexINET(b []byte) int {
	for off := 1; off+3 <= len(b); {
		n := bytes.IndexByte(b[off:len(b)-2], 'N')
		if n < 0 {
			return -1
		}
		n += off
		if b[n-1] == 'I' && b[n+1] == 'E' && b[n+2] == 'T' {
			return n - 1
		}
		off = n + 1
	}
	return -1
}

func isHexWord(b []byte) bool {
	if len(b) == 0 || len(b) > 16 {
		return false
	}
	for _, c := range b {
		if !isHex(c) {
			return false
		}
	}
	return true
}

// gatewayPrefix reports whether the word before INET is the NSX Edge
// "<VRF UUID-halves>" marker of gateway firewall lines.
func gatewayPrefix(line []byte, inet int) bool {
	return inet > 1 && line[inet-2] == '>'
}

// nsxCursor walks the words of an NSX payload; pos is the offset in the
// line of what is left.
type nsxCursor struct {
	b   []byte
	pos int
}

// next returns the next word.
func (c *nsxCursor) next() []byte {
	tok, rest := token(c.b)
	c.pos += len(c.b) - len(rest)
	c.b = rest
	return tok
}

// col is the column of what is left, from 1.
func (c *nsxCursor) col() int { return c.pos + 1 }

// parseNSX reads a payload that starts at its hash (or INET word). hashLen is
// the length of the hash, 0 when absent; off is the payload's offset in the line.
func (p *Parser) parseNSX(b []byte, hashLen, off int, ev *Event) (Bucket, error) {
	ev.Vendor = NSXT
	if hashLen > 0 {
		ev.Filter = p.aside(b[:hashLen])
		b, off = b[hashLen+1:], off+hashLen+1
	}
	if p.fastNSX(b, ev) {
		return Parsed, nil
	}
	return p.nsxWords(b, off, ev)
}

// nsxWords reads a payload from its address family word on, word by word;
// off is its offset in the line.
func (p *Parser) nsxWords(b []byte, off int, ev *Event) (Bucket, error) {
	cur := &nsxCursor{b: b, pos: off}
	af := cur.next()
	if bucket, err := p.nsxRule(cur, ev); err != nil {
		return bucket, err
	}
	if err := nsxProto(cur, af, ev); err != nil {
		return Malformed, err
	}
	if err := p.nsxEndpoints(cur, ev); err != nil {
		return Malformed, err
	}
	if err := p.nsxTail(cur, ev); err != nil {
		return Malformed, err
	}
	return Parsed, nil
}

// nsxRule reads the reason, the action, [RULESET/]RULE and the direction.
func (p *Parser) nsxRule(cur *nsxCursor, ev *Event) (Bucket, error) {
	reason := cur.next()
	switch string(reason) {
	case "match":
		ev.Kind = KindMatch
	case "TERM":
		ev.Kind = KindTerm
	case "reason-match":
		return Unsupported, ErrGatewayFirewall
	default:
		return Unsupported, errAt(ErrDatapathReason, string(reason), cur.col())
	}
	c := cur.col()
	tok := cur.next()
	if a := ParseAction(string(tok)); a != ActionUnknown {
		ev.Action = a
		c = cur.col()
		tok = cur.next()
	}
	if s := bytes.LastIndexByte(tok, '/'); s >= 0 {
		ev.RuleSet = p.intern(tok[:s])
		tok = tok[s+1:]
	}
	if _, ok := atou(tok); !ok {
		return Malformed, errAt(ErrBadField, "rule ID", c)
	}
	ev.Rule = p.intern(tok)
	c = cur.col()
	switch string(cur.next()) {
	case "IN":
		ev.Direction = DirInbound
	case "OUT":
		ev.Direction = DirOutbound
	default:
		return Malformed, errAt(ErrBadField, "direction", c)
	}
	return Parsed, nil
}

// nsxProto reads the optional length and the protocol; af is the address
// family word (INET, INET6).
func nsxProto(cur *nsxCursor, af []byte, ev *Event) error {
	c := cur.col()
	tok := cur.next()
	if n, ok := atou(tok); ok {
		if n > 1<<20 {
			return errAt(ErrBadField, "length", c)
		}
		ev.Length = uint32(n)
		c = cur.col()
		tok = cur.next()
	}
	if string(tok) == "PROTO" {
		c = cur.col()
		n, ok := atou(cur.next())
		if !ok || n > 255 {
			return errAt(ErrBadProto, "PROTO", c)
		}
		ev.Proto = uint8(n)
	} else if pr, ok := ParseProto(string(tok)); ok && len(tok) > 0 && isUpper(tok[0]) {
		ev.Proto = pr
	} else {
		return errAt(ErrBadProto, "protocol", c)
	}
	if string(af) == "INET6" && ev.Proto == ProtoICMP {
		ev.Proto = ProtoICMPv6
	}
	return nil
}

// nsxEndpoints reads the optional close reason, the optional ICMP type and
// code, and SRC->DST.
func (p *Parser) nsxEndpoints(cur *nsxCursor, ev *Event) error {
	c := cur.col()
	tok := cur.next()
	switch string(tok) {
	case "RST", "FIN", "TIMEOUT":
		ev.Close = p.aside(tok)
		c = cur.col()
		tok = cur.next()
	}
	if t, ok := atou(tok); ok && t < 256 {
		c = cur.col()
		code, ok := atou(cur.next())
		if !ok || code > 255 {
			return errAt(ErrBadField, "ICMP code", c)
		}
		ev.HasICMP, ev.ICMPType, ev.ICMPCode = true, uint8(t), uint8(code)
		c = cur.col()
		tok = cur.next()
	}
	return parseTuple(tok, c, ev)
}

// nsxTail reads the optional words: TCP flags (match lines), counters (TERM
// lines), the tag.
func (p *Parser) nsxTail(cur *nsxCursor, ev *Event) error {
	if len(cur.b) == 0 {
		return nil
	}
	if ev.Kind == KindMatch && ev.Proto == ProtoTCP {
		if f, rest := token(cur.b); isTCPFlags(f) {
			ev.Flags = p.aside(f)
			cur.pos += len(cur.b) - len(rest)
			cur.b = rest
		}
	}
	// Counters start with a digit; any other word with a '/' is the tag.
	if pk, rest := token(cur.b); len(pk) > 0 && isDigit(pk[0]) && bytes.IndexByte(pk, '/') > 0 {
		by, rest2 := token(rest)
		c := cur.col()
		o, r, ok1 := splitCounter(pk)
		ob, rb, ok2 := splitCounter(by)
		if !ok1 || !ok2 {
			return errAt(ErrBadCounter, "counters", c)
		}
		ev.HasCounters = true
		ev.OrigPkts, ev.ReplyPkts, ev.OrigBytes, ev.ReplyBytes = o, r, ob, rb
		cur.b = rest2
	}
	if t := trimSpace(cur.b); len(t) > 0 {
		ev.Tag = p.intern(t)
	}
	return nil
}

// parseTuple reads SRC[/SPORT]->DST[/DPORT]. The port follows the last '/'.
func parseTuple(tok []byte, col int, ev *Event) error {
	arrow := bytes.Index(tok, []byte("->"))
	if arrow < 0 {
		return errAt(ErrBadTuple, "SRC->DST", col)
	}
	var ok bool
	if ev.Src, ev.SPort, ok = parseEndpoint(tok[:arrow]); !ok {
		return errAt(ErrBadTuple, "source", col)
	}
	if ev.Dst, ev.DPort, ok = parseEndpoint(tok[arrow+2:]); !ok {
		return errAt(ErrBadTuple, "destination", col+arrow+2)
	}
	if (ev.Proto == ProtoTCP || ev.Proto == ProtoUDP) && bytes.IndexByte(tok[arrow:], '/') < 0 {
		return errAt(ErrBadTuple, "destination port", col+arrow+2)
	}
	return nil
}

func parseEndpoint(b []byte) (netip.Addr, uint16, bool) {
	var port uint16
	if s := bytes.LastIndexByte(b, '/'); s >= 0 {
		p, ok := atoPort(b[s+1:])
		if !ok {
			return netip.Addr{}, 0, false
		}
		port, b = p, b[:s]
	}
	a, ok := parseAddr(b)
	return a, port, ok
}
