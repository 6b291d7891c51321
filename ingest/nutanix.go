package ingest

import (
	"bytes"
	"time"
)

// Nutanix Flow Network Security policy hit logs (log-formats.md §2):
//
//	INFO:2025/04/10 10:11:55  [ff16a6fb-…] Discover-Traffic [Update] SRC=10.48.52.240 DST=20.10.31.115
//	  PROTO=TCP SPORT=49873 DPORT=443 ACTION=MONITOR DIRECTION=OUTBOUND ORIG: PKTS=995 BYTES=85031
//	  REPLY: PKTS=585 BYTES=101450 [DESCRIPTION=free text to end of line]
//
// The payload is found by its own anchor, "LEVEL:YYYY/MM/DD hh:mm:ss", never
// by the syslog tag, which changes between releases.

// findNutanix returns the offset of the level word that starts a Nutanix hit
// log payload in line, or -1, and the offset of the line's first anchor.
func findNutanix(line []byte) (int, int) {
	end := bytes.Index(line, nutanixAnchor)
	if end < 0 {
		return -1, -1
	}
	return findLevel(line[:end]), end
}

// levelFrom returns findNutanix's level offset for a line whose level word
// starts where the Nutanix line before's did, at, or else -1. When the
// header before at holds neither a slash nor an anchor, the level word
// there is the first findLevel finds, and the first anchor of the line is
// the first after the policy UUID or before it is the UUID's ']'
// (a policy name that starts with "SRC="): either way the one policyEvent
// finds from the policy name on. findNutanix looks for the anchor through
// the whole line, and for the level's slash through the header: 0.5 s of
// the 6.8 s of CPU flows took on short hit logs.
func levelFrom(line []byte, at int) int {
	if at < 0 || at+21 > len(line) {
		return -1
	}
	c := at
	for c < len(line) && isUpper(line[c]) {
		c++
	}
	if c == len(line) || line[c] != ':' || levelAt(line, c) != at {
		return -1
	}
	if at > 0 && (bytes.IndexByte(line[:at], '/') >= 0 || holdsAnchor(line[:at])) {
		return -1
	}
	return at
}

// findLevel returns the offset in head of the level word followed by a
// Nutanix date, or -1. It looks at the slashes, not the colons: the date's
// first one is 5 bytes after the colon, and a syslog header's times have
// colons but no slash (five colons before the level in rsyslog's form, none
// of them the one).
func findLevel(head []byte) int {
	if len(head) < 21 { // a colon after the line's first byte, then the date
		return -1
	}
	for off := 5; ; {
		i := bytes.IndexByte(head[off:], '/')
		if i < 0 {
			return -1
		}
		c := off + i - 5 // the colon before the date, if this is its first slash
		off += i + 1
		if head[c] == ':' {
			if s := levelAt(head, c); s >= 0 {
				return s
			}
		}
	}
}

// levelAt returns the offset of the level word that ends at head[c], a
// colon followed by a Nutanix date, or -1: upper-case letters at the
// start of head or after a space or a colon.
func levelAt(head []byte, c int) int {
	if c == 0 || len(head)-c < 20 || !isNutanixDate(head[c+1:c+20]) {
		return -1
	}
	s := c
	for s > 0 && isUpper(head[s-1]) {
		s--
	}
	if s == c || (s > 0 && !isSpace(head[s-1]) && head[s-1] != ':') {
		return -1
	}
	return s
}

// isNutanixDate checks "YYYY/MM/DD hh:mm:ss" shape (19 bytes).
func isNutanixDate(b []byte) bool {
	return b[4] == '/' && b[7] == '/' && b[10] == ' ' && b[13] == ':' && b[16] == ':' &&
		isDigit(b[0]) && isDigit(b[3]) && isDigit(b[5]) && isDigit(b[8]) && isDigit(b[11]) &&
		isDigit(b[14]) && isDigit(b[17]) && isDigit(b[18])
}

// ntxHead is what a hit log says before its fields: "LEVEL:date
// [uuid] policy name [Event] " (log-formats.md §2).
type ntxHead struct {
	level    int   // offset of the colon that ends the level word
	sec      int64 // the event's time, in Unix seconds
	policyID string
	policy   string
	kind     Kind
	fields   int // offset of the fields ("SRC=…")
}

// parseNutanix reads a payload that starts at its level word. off is the
// payload's offset in the whole line, for error columns; anchor is the
// offset in b of its first "] SRC=".
func (p *Parser) parseNutanix(b []byte, off, anchor int, ev *Event) error {
	ev.Vendor = Nutanix
	p.ntxLast = false
	var h ntxHead
	if err := p.nutanixHead(b, off, anchor, &h); err != nil {
		return err
	}
	ev.Level = p.aside(b[:h.level])
	ev.Time = time.Unix(h.sec, 0).UTC()
	ev.PolicyID, ev.Policy, ev.Kind = h.policyID, h.policy, h.kind
	// ntxFlow reads the next line when the fast path reads this one: a
	// log of lines it does not read (IPv6, extras) is not read twice.
	if p.ntxLast = p.fastNutanixFields(b[h.fields:], ev); p.ntxLast {
		return nil
	}
	return p.parseNutanixFields(b[h.fields:], off+h.fields, ev)
}

// nutanixHead reads into h the part of payload b before its fields, for
// parseNutanix (off and anchor are its own) and ntxFlow, which may not know
// where the anchor is (-1: policyEvent looks for it).
func (p *Parser) nutanixHead(b []byte, off, anchor int, h *ntxHead) error {
	c := bytes.IndexByte(b, ':')
	h.level = c
	d := b[c+1:]
	// findNutanix checked the shape but not every digit ("20x5/04/10").
	sec, ok := p.minute.dateTime(d)
	if !ok {
		return errAt(ErrBadTime, "event time", off+c+2)
	}
	h.sec = sec

	i := c + 20
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	if i >= len(b) || b[i] != '[' {
		return errAt(ErrBadField, "policy UUID", off+i+1)
	}
	j := bytes.IndexByte(b[i:], ']')
	if j < 2 || bytes.IndexByte(b[i:i+j], ' ') >= 0 {
		return errAt(ErrBadField, "policy UUID", off+i+1)
	}
	h.policyID = p.intern(b[i+1 : i+j])
	i += j + 1
	if i >= len(b) || b[i] != ' ' {
		return errAt(ErrBadField, "policy name", off+i+1)
	}
	a, err := p.policyEvent(b, i+1, off, anchor, h)
	h.fields = a + 2
	return err
}

// policyEvent reads "policy name [Event]" from b[i:] into h and returns the
// offset of the "] SRC=" that ends it. The policy name may hold spaces; it
// ends at " [Event] SRC=", the first anchor after i: anchor when it is not
// before i (findNutanix found the first of the line; -1: not known).
func (p *Parser) policyEvent(b []byte, i, off, anchor int, h *ntxHead) (int, error) {
	a := anchor
	if a < i {
		if a = bytes.Index(b[i:], nutanixAnchor); a < 0 {
			return 0, errAt(ErrBadField, "policy name", off+i+1)
		}
		a += i
	}
	o := bytes.LastIndexByte(b[i:a], '[')
	if o < 0 || i+o == i || b[i+o-1] != ' ' || i+o+1 == a {
		return 0, errAt(ErrBadField, "event", off+a+1)
	}
	o += i
	h.policy = p.intern(b[i : o-1])
	h.kind = nutanixKind(b[o+1 : a])
	return a, nil
}

func nutanixKind(w []byte) Kind {
	switch string(w) {
	case "New", "Create":
		return KindNew
	case "Destroy":
		return KindDestroy
	}
	return KindUpdate
}

// ntxFields is what parseNutanixFields has read so far of one line.
type ntxFields struct {
	haveSrc, haveDst, haveProto, haveDPort bool
	extra                                  []byte
	// The ORIG: or REPLY: prefix in force (0 or 1, -1: none): an index,
	// not a pointer into f, so that f stays on the stack.
	side     int
	origSeen bool
	counts   [2][2]uint64 // ORIG and REPLY packets and bytes
	given    [2]int       // counter fields read after ORIG: and REPLY:
}

// parseNutanixFields reads "SRC=… DST=… …" to the end of the line.
func (p *Parser) parseNutanixFields(b []byte, off int, ev *Event) error {
	f := ntxFields{side: -1}
	pos := 0
	for len(b) > 0 {
		cur := b
		tok, eq, rest := field(b)
		col := off + pos + 1
		pos += len(tok) + 1
		b = rest
		switch {
		case len(tok) == 0:
		case eq < 0:
			f.word(tok)
		case string(tok[:eq]) == "DESCRIPTION":
			// Free text to the end of the line.
			ev.Description = p.aside(trimSpace(cur[eq+1:]))
			b = nil
		default:
			if err := f.keyed(tok, eq, col, ev); err != nil {
				return err
			}
		}
	}
	return f.finish(ev)
}

// word reads a word without '=': a counter prefix, or an extra.
func (f *ntxFields) word(tok []byte) {
	switch string(tok) {
	case "ORIG:":
		f.side, f.origSeen = 0, true
	case "REPLY:":
		f.side = 1
	default:
		f.extra = appendExtra(f.extra, tok)
	}
}

// keyed reads the field KEY=VALUE in tok (eq is the offset of '='), which
// starts at column col.
func (f *ntxFields) keyed(tok []byte, eq, col int, ev *Event) error {
	key, val := tok[:eq], tok[eq+1:]
	switch string(key) {
	case "SRC", "DST", "PROTO", "SPORT", "DPORT":
		return f.tuple(key, val, col, ev)
	case "ACTION":
		if ev.Action = ParseAction(string(val)); ev.Action == ActionUnknown {
			f.extra = appendExtra(f.extra, tok)
		}
	case "DIRECTION":
		f.direction(tok, val, ev)
	case "PKTS", "BYTES":
		return f.counter(tok, key, val, col)
	default:
		f.extra = appendExtra(f.extra, tok)
	}
	return nil
}

// tuple reads one of the fields of the 5-tuple; a bad value leaves ev as it
// was and returns the error.
func (f *ntxFields) tuple(key, val []byte, col int, ev *Event) error {
	switch string(key) {
	case "SRC", "DST":
		a, ok := parseAddr(val)
		if !ok {
			return errAt(ErrBadAddr, string(key), col)
		}
		if key[0] == 'S' {
			ev.Src, f.haveSrc = a, true
		} else {
			ev.Dst, f.haveDst = a, true
		}
	case "PROTO":
		pr, ok := ParseProto(string(val))
		if !ok {
			return errAt(ErrBadProto, "PROTO", col)
		}
		ev.Proto, f.haveProto = pr, true
	default: // SPORT, DPORT
		n, ok := atoPort(val)
		if !ok {
			return errAt(ErrBadPort, string(key), col)
		}
		if key[0] == 'S' {
			ev.SPort = n
		} else {
			ev.DPort, f.haveDPort = n, true
		}
	}
	return nil
}

// direction reads DIRECTION=val; tok is the whole field.
func (f *ntxFields) direction(tok, val []byte, ev *Event) {
	if d, ok := hitLogDirection(val); ok {
		ev.Direction = d
	} else {
		f.extra = appendExtra(f.extra, tok)
	}
}

// counter reads PKTS= or BYTES= after ORIG: or REPLY:; without either it is
// an extra.
func (f *ntxFields) counter(tok, key, val []byte, col int) error {
	if f.side < 0 {
		f.extra = appendExtra(f.extra, tok)
		return nil
	}
	n, ok := atou(val)
	if !ok {
		return errAt(ErrBadCounter, string(key), col)
	}
	if key[0] == 'P' {
		f.counts[f.side][0] = n
	} else {
		f.counts[f.side][1] = n
	}
	f.given[f.side]++
	return nil
}

// finish checks that the line had what every line has and fills the
// counters and extras of ev.
func (f *ntxFields) finish(ev *Event) error {
	switch {
	case !f.haveSrc:
		return errAt(ErrIncomplete, "SRC", 0)
	case !f.haveDst:
		return errAt(ErrIncomplete, "DST", 0)
	case !f.haveProto:
		return errAt(ErrIncomplete, "PROTO", 0)
	case !f.haveDPort && (ev.Proto == ProtoTCP || ev.Proto == ProtoUDP):
		return errAt(ErrIncomplete, "DPORT", 0)
	}
	if (f.origSeen && f.given[0] != 2) || (f.side == 1 && f.given[1] != 2) {
		return errAt(ErrIncomplete, "ORIG/REPLY counters", 0)
	}
	if f.origSeen {
		ev.HasCounters = true
		ev.OrigPkts, ev.OrigBytes = f.counts[0][0], f.counts[0][1]
		ev.ReplyPkts, ev.ReplyBytes = f.counts[1][0], f.counts[1][1]
	}
	if len(f.extra) > 0 {
		ev.Extra = string(f.extra)
	}
	return nil
}

func appendExtra(extra, tok []byte) []byte {
	if len(extra) > 0 {
		extra = append(extra, ' ')
	}
	return append(extra, tok...)
}
