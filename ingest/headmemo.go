package ingest

import (
	"bytes"
	"strings"
	"time"
)

// headMemo holds recent headers of the form "<PRI>TIME REST" (an RFC 3339
// time), read for a payload without a time of its own: a sender repeats
// its PRI, host and tag on every line, so a header is most often one seen
// a few lines before but for its time (the lines of a dozen hosts come
// interleaved). parseHeader reads such a header along one path whatever
// the time (skipPRI stops at the PRI's '>'; a time starts with four digits,
// so it is not an RFC 5424 version; parseInner reads the time, then only
// what follows it), so the host and tag it gave are those of every header
// with the same PRI and REST around another valid time of the same length.
// The headers kept share one PRI and time length; their RESTs are found by
// hash in sets of two, the one used last in a set and the latest other kept
// (with one slot per hash, two of a dozen hosts often shared one, and each
// of their lines missed: 8% of an NSX corpus's lines read their header anew).
type headMemo struct {
	pre   []byte // the headers' bytes before their time
	tsLen int    // the length of their time; 0: none kept
	sets  [headSets]headSet
}

const headSets = 128

// headSet holds the headers kept of one hash; last is the one used last.
type headSet struct {
	ways [2]headSlot
	last uint8
}

// headSlot is a header kept: the bytes after its time, what they gave.
type headSlot struct {
	rest []byte
	ok   bool
	host string
	tag  tagKind
}

// keep remembers head, which gave host and tag, when it has the form.
func (m *headMemo) keep(head []byte, host string, tag tagKind) {
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
	if n != m.tsLen || string(head[:pre]) != string(m.pre) {
		m.pre, m.tsLen = append(m.pre[:0], head[:pre]...), n
		for i := range m.sets {
			m.sets[i].ways[0].ok, m.sets[i].ways[1].ok = false, false
		}
	}
	rest := head[pre+n:]
	set := &m.sets[restSet(rest)]
	set.last ^= 1
	sl := &set.ways[set.last]
	sl.rest, sl.ok, sl.host, sl.tag = append(sl.rest[:0], rest...), true, host, tag
}

// reuse fills ev's time (read with clock) and host from head, and returns
// its tag's kind, when it differs from a header kept only by a valid time
// of the same length.
func (m *headMemo) reuse(head []byte, ev *Event, clock *minuteMemo) (tagKind, bool) {
	sec, nsec, sl := m.reuseUnix(head, clock)
	if sl == nil {
		return tagOther, false
	}
	ev.Time, ev.Host = time.Unix(sec, nsec).UTC(), sl.host
	return sl.tag, true
}

// reuseUnix is reuse giving the time in Unix seconds and nanoseconds and
// the header kept (its host and tag), or nil.
func (m *headMemo) reuseUnix(head []byte, clock *minuteMemo) (sec, nsec int64, sl *headSlot) {
	pre := len(m.pre)
	if m.tsLen == 0 || len(head) <= pre+m.tsLen || string(head[:pre]) != string(m.pre) || !isDigit(head[pre]) {
		return 0, 0, nil
	}
	rest := head[pre+m.tsLen:]
	set := &m.sets[restSet(rest)]
	sl = &set.ways[set.last]
	if !sl.ok || string(sl.rest) != string(rest) {
		if sl = &set.ways[set.last^1]; !sl.ok || string(sl.rest) != string(rest) {
			return 0, 0, nil
		}
		set.last ^= 1
	}
	sec, nsec, n, ok := clock.rfc3339Unix(trimSpace(head[pre:]))
	if !ok || n != m.tsLen {
		return 0, 0, nil
	}
	return sec, nsec, sl
}

// restSet returns the set of a header's bytes after its time: a fold of
// their 8-byte words (the last one overlapping the one before when their
// length is not a multiple of 8), each multiplied in. hash/maphash cost
// 19 ns a line, a tenth of reading an NSX line's header. Whoever writes the
// headers could make theirs share a set: they would only be read anew.
func restSet(b []byte) int {
	h := uint64(len(b)) * 0x9E3779B97F4A7C15
	n := len(b)
	if n < 8 {
		var x uint64
		for _, c := range b {
			x = x<<8 | uint64(c)
		}
		h = (h ^ x) * 0xBF58476D1CE4E5B9
	} else {
		for i := 0; i+8 < n; i += 8 {
			h = (h ^ le64(b[i:])) * 0xBF58476D1CE4E5B9
		}
		h = (h ^ le64(b[n-8:])) * 0xBF58476D1CE4E5B9
	}
	return int((h ^ h>>31) * 0x94D049BB133111EB >> (64 - 7)) // headSets = 128
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
