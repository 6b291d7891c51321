package ingest

import (
	"bytes"
	"net/netip"
)

var nutanixAnchor = []byte("] SRC=")

// The fields of a hit log as AHV writes nearly every line (log-formats.md
// §2), in this order, each group after ACTION optional:
//
//	SRC=a DST=b PROTO=p SPORT=n DPORT=n ACTION=w DIRECTION=w ORIG: PKTS=n BYTES=n REPLY: PKTS=n BYTES=n DESCRIPTION=…
//
// fastNutanixFields reads exactly that shape in one pass, with no
// tokenising and no look-up by key; any other shape (other order, IPv6,
// extras, a missing port, odd spacing, a bad value) is left to
// parseNutanixFields, which decides what it means. FuzzNutanixFast checks
// that wherever the fast path succeeds the general one gives the same
// event.

var (
	ntxDst       = []byte(" DST=")
	ntxProto     = []byte(" PROTO=")
	ntxSPort     = []byte(" SPORT=")
	ntxDPort     = []byte(" DPORT=")
	ntxAction    = []byte(" ACTION=")
	ntxDirection = []byte(" DIRECTION=")
	ntxOrig      = []byte(" ORIG: PKTS=")
	ntxBytes     = []byte(" BYTES=")
	ntxReply     = []byte(" REPLY: PKTS=")
	ntxDesc      = []byte(" DESCRIPTION=")
)

// ntxFast is what fastNutanixFields has read: ev is only written once the
// whole line is read.
type ntxFast struct {
	src, dst     netip.Addr
	proto        uint8
	sport, dport uint16
	action       Action
	dir          Direction
	counted      bool
	counts       [4]uint64
}

// fastNutanixFields reads b, the text after "] " that starts with "SRC=",
// into ev when it has the usual shape, and reports whether it did; when
// not, ev is unchanged.
func (p *Parser) fastNutanixFields(b []byte, ev *Event) bool {
	var f ntxFast
	var ok bool
	if !bytes.HasPrefix(b, nutanixAnchor[2:]) {
		return false
	}
	b = b[len(nutanixAnchor)-2:]
	if f.src, b, ok = fastIPv4(b); !ok {
		return false
	}
	if b, ok = skip(b, ntxDst); !ok {
		return false
	}
	if f.dst, b, ok = fastIPv4(b); !ok {
		return false
	}
	if b, ok = skip(b, ntxProto); !ok {
		return false
	}
	var w []byte
	w, b = word(b)
	if f.proto, ok = ParseProto(string(w)); !ok {
		return false
	}
	if f.sport, b, ok = fastPort(b, ntxSPort); !ok {
		return false
	}
	if f.dport, b, ok = fastPort(b, ntxDPort); !ok {
		return false
	}
	if b, ok = f.rest(b); !ok {
		return false
	}
	f.fill(ev)
	if len(b) > 0 {
		ev.Description = p.aside(trimSpace(b))
	}
	return true
}

// rest reads the optional groups after DPORT and returns the text of
// DESCRIPTION (nil without it).
func (f *ntxFast) rest(b []byte) ([]byte, bool) {
	var ok bool
	if b, ok = skip(b, ntxAction); ok {
		var w []byte
		w, b = word(b)
		if f.action = ParseAction(string(w)); f.action == ActionUnknown {
			return nil, false // an extra for the general reader
		}
	}
	if b, ok = skip(b, ntxDirection); ok {
		var w []byte
		w, b = word(b)
		if f.dir, ok = hitLogDirection(w); !ok {
			return nil, false
		}
	}
	if b, ok = skip(b, ntxOrig); ok {
		if b, ok = f.counters(b); !ok {
			return nil, false
		}
	}
	if len(b) == 0 {
		return nil, true
	}
	if b, ok = skip(b, ntxDesc); !ok {
		return nil, false
	}
	return b, true
}

// counters reads "n BYTES=n REPLY: PKTS=n BYTES=n" (after " ORIG: PKTS=").
func (f *ntxFast) counters(b []byte) ([]byte, bool) {
	seps := [4][]byte{nil, ntxBytes, ntxReply, ntxBytes}
	for i, sep := range seps {
		var ok bool
		if b, ok = skip(b, sep); !ok {
			return nil, false
		}
		var w []byte
		w, b = word(b)
		if f.counts[i], ok = atou(w); !ok {
			return nil, false
		}
	}
	f.counted = true
	return b, true
}

// fill writes what f read into ev.
func (f *ntxFast) fill(ev *Event) {
	ev.Src, ev.Dst, ev.Proto, ev.SPort, ev.DPort = f.src, f.dst, f.proto, f.sport, f.dport
	ev.Action, ev.Direction = f.action, f.dir
	if f.counted {
		ev.HasCounters = true
		ev.OrigPkts, ev.OrigBytes, ev.ReplyPkts, ev.ReplyBytes = f.counts[0], f.counts[1], f.counts[2], f.counts[3]
	}
}

// skip returns b after prefix, if b starts with it.
func skip(b, prefix []byte) ([]byte, bool) {
	if !bytes.HasPrefix(b, prefix) {
		return b, false
	}
	return b[len(prefix):], true
}

// word returns the run of b up to the first space, and b from that space on.
func word(b []byte) (w, rest []byte) {
	for i, c := range b {
		if c == ' ' {
			return b[:i], b[i:]
		}
	}
	return b, nil
}

// fastIPv4 reads the IPv4 address that b starts with, up to a space or the
// end, and returns b from there on.
func fastIPv4(b []byte) (netip.Addr, []byte, bool) {
	w, rest := word(b)
	a, ok := parseIPv4(w)
	return a, rest, ok
}

// fastPort reads a port after prefix.
func fastPort(b, prefix []byte) (uint16, []byte, bool) {
	b, ok := skip(b, prefix)
	if !ok {
		return 0, b, false
	}
	w, rest := word(b)
	n, ok := atoPort(w)
	return n, rest, ok
}

// hitLogDirection reads a hit log's DIRECTION value, for both Nutanix
// readers: INBOUND or OUTBOUND (anything else is not a direction there).
func hitLogDirection(v []byte) (Direction, bool) {
	switch string(v) {
	case "INBOUND":
		return DirInbound, true
	case "OUTBOUND":
		return DirOutbound, true
	}
	return DirUnknown, false
}
