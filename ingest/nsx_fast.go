package ingest

import (
	"bytes"
	"net/netip"
)

// The words of a DFW packet log as ESXi writes nearly every IPv4 line of
// NSX-V, NSX-T and NSX 4 (log-formats.md §3), after the filter hash, one
// space apart:
//
//	INET match|TERM ACTION [RULESET/]RULE IN|OUT [LEN] TCP|UDP|ICMP [RST|FIN|TIMEOUT]
//	  a.b.c.d[/SPORT]->a.b.c.d[/DPORT] [FLAGS] [PKTS/PKTS BYTES/BYTES] [TAG]
//
// fastNSX reads exactly that shape in one pass, each word as it comes,
// with no cutting into words first and no look-up of a word in a list;
// any other shape (INET6, no action, PROTO n, an ICMP type and
// code, odd spacing, a bad value) is left to the general reader, which
// decides what it means. FuzzNSXFast checks that wherever the fast path
// succeeds the general one gives the same event.

// nsxFast is what fastNSX has read: ev is only written once the whole line
// is read.
type nsxFast struct {
	kind         Kind
	action       Action
	dir          Direction
	proto        uint8
	length       uint32
	sport, dport uint16
	src, dst     netip.Addr
	ruleSet      []byte
	rule         []byte
	close, flags []byte
	counted      bool
	counts       [4]uint64 // packets out and back, bytes out and back
	tag          []byte
}

// fastNSX reads b, an NSX payload from its address family word on, into ev
// when it has the usual shape, and reports whether it did; when not, ev is
// unchanged.
func (p *Parser) fastNSX(b []byte, ev *Event) bool {
	var f nsxFast
	if !f.read(b) {
		return false
	}
	f.fill(p, ev)
	return true
}

// read reads b as fastNSX does, into f only.
func (f *nsxFast) read(b []byte) bool {
	var ok bool
	if b, ok = f.verdict(b); !ok {
		return false
	}
	if b, ok = f.protocol(b); !ok {
		return false
	}
	if b, ok = f.tuple(b); !ok {
		return false
	}
	return f.tail(b)
}

// verdict reads "INET match|TERM ACTION [RULESET/]RULE IN|OUT ".
func (f *nsxFast) verdict(b []byte) ([]byte, bool) {
	switch {
	case prefix(b, "INET match "):
		f.kind, b = KindMatch, b[11:]
	case prefix(b, "INET TERM "):
		f.kind, b = KindTerm, b[10:]
	default:
		return nil, false
	}
	switch {
	case prefix(b, "PASS "):
		f.action, b = ActionAllow, b[5:]
	case prefix(b, "DROP "):
		f.action, b = ActionDrop, b[5:]
	default:
		var w []byte
		w, b = word(b)
		if f.action = ParseAction(string(w)); f.action == ActionUnknown || len(b) == 0 {
			return nil, false
		}
		b = b[1:]
	}
	var ok bool
	if b, ok = f.ruleWord(b); !ok {
		return nil, false
	}
	switch {
	case prefix(b, "IN "):
		f.dir, b = DirInbound, b[3:]
	case prefix(b, "OUT "):
		f.dir, b = DirOutbound, b[4:]
	default:
		return nil, false
	}
	return b, true
}

// ruleWord reads "[RULESET/]RULE ".
func (f *nsxFast) ruleWord(b []byte) ([]byte, bool) {
	w, b := word(b)
	if len(b) == 0 {
		return nil, false
	}
	if s := bytes.LastIndexByte(w, '/'); s >= 0 {
		f.ruleSet, w = w[:s], w[s+1:]
	}
	if _, n, ok := numberHead(w); !ok || n != len(w) {
		return nil, false
	}
	f.rule = w
	return b[1:], true
}

// protocol reads "[LEN ]TCP|UDP|ICMP [RST |FIN |TIMEOUT ]".
func (f *nsxFast) protocol(b []byte) ([]byte, bool) {
	if n, i, ok := numberHead(b); ok {
		if n > 1<<20 || i >= len(b) || b[i] != ' ' {
			return nil, false
		}
		f.length, b = uint32(n), b[i+1:]
	}
	switch {
	case prefix(b, "TCP "):
		f.proto, b = ProtoTCP, b[4:]
	case prefix(b, "UDP "):
		f.proto, b = ProtoUDP, b[4:]
	case prefix(b, "ICMP "):
		f.proto, b = ProtoICMP, b[5:]
	default:
		return nil, false
	}
	if len(b) > 0 && isUpper(b[0]) {
		switch {
		case prefix(b, "FIN ") || prefix(b, "RST "):
			f.close, b = b[:3], b[4:]
		case prefix(b, "TIMEOUT "):
			f.close, b = b[:7], b[8:]
		default:
			return nil, false
		}
	}
	return b, true
}

// tuple reads "a.b.c.d[/SPORT]->a.b.c.d[/DPORT]" and the space after it, if
// any: TCP and UDP need a destination port.
func (f *nsxFast) tuple(b []byte) ([]byte, bool) {
	var ok bool
	var i int
	if f.src, i, ok = ipv4Head(b); !ok {
		return nil, false
	}
	b = b[i:]
	if len(b) > 0 && b[0] == '/' {
		if f.sport, b, ok = portHead(b[1:]); !ok {
			return nil, false
		}
	}
	if len(b) < 2 || b[0] != '-' || b[1] != '>' {
		return nil, false
	}
	if f.dst, i, ok = ipv4Head(b[2:]); !ok {
		return nil, false
	}
	b = b[2+i:]
	if len(b) > 0 && b[0] == '/' {
		if f.dport, b, ok = portHead(b[1:]); !ok {
			return nil, false
		}
	} else if f.proto != ProtoICMP {
		return nil, false
	}
	switch {
	case len(b) == 0:
		return b, true
	case b[0] == ' ':
		return b[1:], true
	}
	return nil, false
}

// portHead reads the port b starts with and returns b after it.
func portHead(b []byte) (uint16, []byte, bool) {
	n, i, ok := numberHead(b)
	if !ok || n > 65535 {
		return 0, nil, false
	}
	return uint16(n), b[i:], true
}

// tail reads what may follow the tuple: the TCP flags of a match line, a
// TERM line's counters, the tag.
func (f *nsxFast) tail(b []byte) bool {
	if len(b) == 0 {
		return true
	}
	if f.kind == KindMatch && f.proto == ProtoTCP {
		if w, rest := token(b); isTCPFlags(w) {
			f.flags, b = w, rest
		}
	}
	if len(b) > 0 && isDigit(b[0]) {
		pk, rest := token(b)
		if bytes.IndexByte(pk, '/') > 0 {
			by, rest2 := token(rest)
			var ok1, ok2 bool
			f.counts[0], f.counts[1], ok1 = splitCounter(pk)
			f.counts[2], f.counts[3], ok2 = splitCounter(by)
			if !ok1 || !ok2 {
				return false
			}
			f.counted, b = true, rest2
		}
	}
	f.tag = trimSpace(b)
	return true
}

// fill writes what f read into ev, interning its words.
func (f *nsxFast) fill(p *Parser, ev *Event) {
	ev.Kind, ev.Action, ev.Direction = f.kind, f.action, f.dir
	ev.RuleSet = p.intern(f.ruleSet)
	ev.Rule = p.intern(f.rule)
	ev.Length, ev.Proto = f.length, f.proto
	if f.close != nil {
		ev.Close = p.aside(f.close)
	}
	ev.Src, ev.SPort, ev.Dst, ev.DPort = f.src, f.sport, f.dst, f.dport
	if f.flags != nil {
		ev.Flags = p.aside(f.flags)
	}
	if f.counted {
		ev.HasCounters = true
		ev.OrigPkts, ev.ReplyPkts, ev.OrigBytes, ev.ReplyBytes = f.counts[0], f.counts[1], f.counts[2], f.counts[3]
	}
	if len(f.tag) > 0 {
		ev.Tag = p.intern(f.tag)
	}
}

// splitCounter reads a pair of counters "x/y", for both NSX readers.
func splitCounter(b []byte) (x, y uint64, ok bool) {
	s := bytes.IndexByte(b, '/')
	if s < 0 {
		return 0, 0, false
	}
	x, ok1 := atou(b[:s])
	y, ok2 := atou(b[s+1:])
	return x, y, ok1 && ok2
}

// isTCPFlags reports whether b is a word of TCP flags, for both NSX readers.
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
