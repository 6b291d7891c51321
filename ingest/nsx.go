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
		i := bytes.Index(line[off:], inetWord)
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

// parseNSX reads a payload that starts at its hash (or INET word). hashLen is
// the length of the hash, 0 when absent; off is the payload's offset in the line.
func (p *Parser) parseNSX(b []byte, hashLen, off int, ev *Event) (Bucket, error) {
	ev.Vendor = NSXT
	if hashLen > 0 {
		ev.Filter = p.intern(b[:hashLen])
		b, off = b[hashLen+1:], off+hashLen+1
	}
	pos := off
	next := func() []byte {
		tok, rest := token(b)
		pos += len(b) - len(rest)
		b = rest
		return tok
	}
	col := func() int { return pos + 1 }

	af := next()
	reason := next()
	switch string(reason) {
	case "match":
		ev.Kind = KindMatch
	case "TERM":
		ev.Kind = KindTerm
	case "reason-match":
		return Unsupported, ErrGatewayFirewall
	default:
		return Unsupported, errAt(ErrDatapathReason, string(reason), col())
	}

	c := col()
	tok := next()
	if a := ParseAction(string(tok)); a != ActionUnknown {
		ev.Action = a
		c = col()
		tok = next()
	}
	// [RULESET/]RULE
	if s := bytes.LastIndexByte(tok, '/'); s >= 0 {
		ev.RuleSet = p.intern(tok[:s])
		tok = tok[s+1:]
	}
	if _, ok := atou(tok); !ok {
		return Malformed, errAt(ErrBadField, "rule ID", c)
	}
	ev.Rule = p.intern(tok)

	c = col()
	switch string(next()) {
	case "IN":
		ev.Direction = DirInbound
	case "OUT":
		ev.Direction = DirOutbound
	default:
		return Malformed, errAt(ErrBadField, "direction", c)
	}

	c = col()
	tok = next()
	if n, ok := atou(tok); ok {
		if n > 1<<20 {
			return Malformed, errAt(ErrBadField, "length", c)
		}
		ev.Length = uint32(n)
		c = col()
		tok = next()
	}
	if string(tok) == "PROTO" {
		c = col()
		n, ok := atou(next())
		if !ok || n > 255 {
			return Malformed, errAt(ErrBadProto, "PROTO", c)
		}
		ev.Proto = uint8(n)
	} else if pr, ok := ParseProto(string(tok)); ok && len(tok) > 0 && isUpper(tok[0]) {
		ev.Proto = pr
	} else {
		return Malformed, errAt(ErrBadProto, "protocol", c)
	}
	if string(af) == "INET6" && ev.Proto == ProtoICMP {
		ev.Proto = ProtoICMPv6
	}

	c = col()
	tok = next()
	switch string(tok) {
	case "RST", "FIN", "TIMEOUT":
		ev.Close = p.intern(tok)
		c = col()
		tok = next()
	}
	if t, ok := atou(tok); ok && t < 256 {
		c = col()
		code, ok := atou(next())
		if !ok || code > 255 {
			return Malformed, errAt(ErrBadField, "ICMP code", c)
		}
		ev.HasICMP, ev.ICMPType, ev.ICMPCode = true, uint8(t), uint8(code)
		c = col()
		tok = next()
	}
	if err := parseTuple(tok, c, ev); err != nil {
		return Malformed, err
	}

	// Optional words: TCP flags (match lines), counters (TERM lines), tag.
	if len(b) == 0 {
		return Parsed, nil
	}
	if ev.Kind == KindMatch && ev.Proto == ProtoTCP {
		if f, rest := token(b); isTCPFlags(f) {
			ev.Flags = p.intern(f)
			pos += len(b) - len(rest)
			b = rest
		}
	}
	// Counters start with a digit; any other word with a '/' is the tag.
	if pk, rest := token(b); len(pk) > 0 && isDigit(pk[0]) && bytes.IndexByte(pk, '/') > 0 {
		by, rest2 := token(rest)
		c = col()
		o, r, ok1 := splitCounter(pk)
		ob, rb, ok2 := splitCounter(by)
		if !ok1 || !ok2 {
			return Malformed, errAt(ErrBadCounter, "counters", c)
		}
		ev.HasCounters = true
		ev.OrigPkts, ev.ReplyPkts, ev.OrigBytes, ev.ReplyBytes = o, r, ob, rb
		b = rest2
	}
	if t := trimSpace(b); len(t) > 0 {
		ev.Tag = p.intern(t)
	}
	return Parsed, nil
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

func splitCounter(b []byte) (x, y uint64, ok bool) {
	s := bytes.IndexByte(b, '/')
	if s < 0 {
		return 0, 0, false
	}
	x, ok1 := atou(b[:s])
	y, ok2 := atou(b[s+1:])
	return x, y, ok1 && ok2
}

func isTCPFlags(b []byte) bool {
	if len(b) == 0 || len(b) > 8 {
		return false
	}
	for _, c := range b {
		switch c {
		case 'S', 'A', 'F', 'R', 'P', 'U', 'E', 'W', 'C':
		default:
			return false
		}
	}
	return true
}
