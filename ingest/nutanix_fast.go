package ingest

import (
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

// The separators of the fields, constants so that each comparison is a
// few word-sized ones rather than a call (a tenth of the line's time went
// to comparing them, and to finding each value's end before reading it).
const (
	ntxDst       = " DST="
	ntxProto     = " PROTO="
	ntxSPort     = " SPORT="
	ntxDPort     = " DPORT="
	ntxAction    = " ACTION="
	ntxDirection = " DIRECTION="
	ntxOrig      = " ORIG: PKTS="
	ntxBytes     = " BYTES="
	ntxReply     = " REPLY: PKTS="
	ntxDesc      = " DESCRIPTION="
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
	desc, ok := f.read(b)
	if !ok {
		return false
	}
	f.fill(ev)
	if len(desc) > 0 {
		ev.Description = p.aside(trimSpace(desc))
	}
	return true
}

// read reads b, as fastNutanixFields, and returns the text of its
// DESCRIPTION (nil without it).
func (f *ntxFast) read(b []byte) ([]byte, bool) {
	var ok bool
	if b, ok = f.addresses(b); !ok {
		return nil, false
	}
	if b, ok = f.ports(b); !ok {
		return nil, false
	}
	return f.rest(b)
}

// addresses reads "SRC=a DST=b".
func (f *ntxFast) addresses(b []byte) ([]byte, bool) {
	var ok bool
	if !prefix(b, "SRC=") {
		return nil, false
	}
	if f.src, b, ok = fastIPv4(b[4:]); !ok {
		return nil, false
	}
	if !prefix(b, ntxDst) {
		return nil, false
	}
	f.dst, b, ok = fastIPv4(b[len(ntxDst):])
	return b, ok
}

// ports reads " PROTO=p SPORT=n DPORT=n".
func (f *ntxFast) ports(b []byte) ([]byte, bool) {
	var ok bool
	if !prefix(b, ntxProto) {
		return nil, false
	}
	if f.proto, b, ok = fastProto(b[len(ntxProto):]); !ok {
		return nil, false
	}
	if !prefix(b, ntxSPort) {
		return nil, false
	}
	if f.sport, b, ok = fastPort(b[len(ntxSPort):]); !ok {
		return nil, false
	}
	if !prefix(b, ntxDPort) {
		return nil, false
	}
	f.dport, b, ok = fastPort(b[len(ntxDPort):])
	return b, ok
}

// rest reads the optional groups after DPORT and returns the text of
// DESCRIPTION (nil without it).
func (f *ntxFast) rest(b []byte) ([]byte, bool) {
	if prefix(b, ntxAction) {
		var w []byte
		w, b = word(b[len(ntxAction):])
		if f.action = ParseAction(string(w)); f.action == ActionUnknown {
			return nil, false // an extra for the general reader
		}
	}
	if prefix(b, ntxDirection) {
		var w []byte
		var ok bool
		w, b = word(b[len(ntxDirection):])
		if f.dir, ok = hitLogDirection(w); !ok {
			return nil, false
		}
	}
	if prefix(b, ntxOrig) {
		var ok bool
		if b, ok = f.counters(b[len(ntxOrig):]); !ok {
			return nil, false
		}
	}
	if len(b) == 0 {
		return nil, true
	}
	if !prefix(b, ntxDesc) {
		return nil, false
	}
	return b[len(ntxDesc):], true
}

// counters reads "n BYTES=n REPLY: PKTS=n BYTES=n" (after " ORIG: PKTS=").
func (f *ntxFast) counters(b []byte) ([]byte, bool) {
	var ok bool
	if f.counts[0], b, ok = number(b); !ok {
		return nil, false
	}
	if !prefix(b, ntxBytes) {
		return nil, false
	}
	if f.counts[1], b, ok = number(b[len(ntxBytes):]); !ok {
		return nil, false
	}
	if !prefix(b, ntxReply) {
		return nil, false
	}
	if f.counts[2], b, ok = number(b[len(ntxReply):]); !ok {
		return nil, false
	}
	if !prefix(b, ntxBytes) {
		return nil, false
	}
	if f.counts[3], b, ok = number(b[len(ntxBytes):]); !ok {
		return nil, false
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

// word returns the run of b up to the first space, and b from that space on.
func word(b []byte) (w, rest []byte) {
	for i, c := range b {
		if c == ' ' {
			return b[:i], b[i:]
		}
	}
	return b, nil
}

// fastPort reads the port b starts with, as number.
func fastPort(b []byte) (uint16, []byte, bool) {
	n, rest, ok := number(b)
	if !ok || n > 65535 {
		return 0, b, false
	}
	return uint16(n), rest, true
}

// fastProto reads the protocol word b starts with: TCP and UDP at once,
// any other word as ParseProto does.
func fastProto(b []byte) (uint8, []byte, bool) {
	switch {
	case prefix(b, "TCP "):
		return ProtoTCP, b[3:], true
	case prefix(b, "UDP "):
		return ProtoUDP, b[3:], true
	}
	w, rest := word(b)
	p, ok := ParseProto(string(w))
	return p, rest, ok
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
