package ingest

import (
	"bytes"
	"strings"
)

// headMemo is the last header of the form "<PRI>TIME REST" (an RFC 3339
// time), read for a payload without a time of its own: a sender repeats
// its PRI, host and tag on every line, so the next header is most often
// the same bytes but for its time. parseHeader reads such a header along
// one path whatever the time (skipPRI stops at the PRI's '>'; a time
// starts with four digits, so it is not an RFC 5424 version; parseInner
// reads the time, then only what follows it), so the host and tag it gave
// are those of every header with the same PRI and REST around another
// valid time of the same length.
type headMemo struct {
	pre, rest []byte // the header's bytes before and after its time
	tsLen     int
	host      string
	tag       tagKind
}

// keep remembers head, which gave host and tag, when it has the form.
func (m *headMemo) keep(head []byte, host string, tag tagKind) {
	m.tsLen = 0
	if len(head) == 0 || head[0] != '<' {
		return
	}
	after, ok := skipPRI(head)
	if !ok {
		return
	}
	pre := len(head) - len(after)
	_, n, ok := parseRFC3339(trimSpace(after))
	if !ok || !isDigit(after[0]) {
		return
	}
	m.pre = append(m.pre[:0], head[:pre]...)
	m.rest = append(m.rest[:0], head[pre+n:]...)
	m.tsLen, m.host, m.tag = n, host, tag
}

// reuse fills ev's time (read with clock) and host from head when it
// differs from the remembered header only by a valid time of the same
// length.
func (m *headMemo) reuse(head []byte, ev *Event, clock *minuteMemo) bool {
	pre := len(m.pre)
	if m.tsLen == 0 || len(head) != pre+m.tsLen+len(m.rest) ||
		string(head[:pre]) != string(m.pre) || string(head[pre+m.tsLen:]) != string(m.rest) {
		return false
	}
	if !isDigit(head[pre]) {
		return false
	}
	t, n, ok := clock.rfc3339(trimSpace(head[pre:]))
	if !ok || n != m.tsLen {
		return false
	}
	ev.Time, ev.Host = t, m.host
	return true
}

// version is nsxVersion for the remembered header's tag; ev must be NSX.
func (m *headMemo) version(ev *Event) Vendor {
	if !ev.Vendor.IsNSX() {
		return ev.Vendor
	}
	return nsxVersion(ev.RuleSet, m.tag)
}

// tagKind is what a syslog tag says of the NSX version.
type tagKind uint8

const (
	tagOther tagKind = iota
	tagNSXV          // dfwpktlogs
	tagNSX4          // FIREWALL-PKTLOG (hyphen)
)

func tagOf(tag []byte) tagKind {
	switch {
	case bytes.EqualFold(tag, []byte("dfwpktlogs")):
		return tagNSXV
	case bytes.EqualFold(tag, []byte("FIREWALL-PKTLOG")):
		return tagNSX4
	}
	return tagOther
}

// nsxVersion tells NSX-V, NSX-T and NSX 4 apart: domain-cNN rule sets and the
// dfwpktlogs tag are NSX-V, the FIREWALL-PKTLOG tag (hyphen) is NSX 4.
func nsxVersion(ruleSet string, tag tagKind) Vendor {
	switch {
	case strings.HasPrefix(ruleSet, "domain-c"), tag == tagNSXV:
		return NSXV
	case tag == tagNSX4:
		return NSX4
	}
	return NSXT
}
