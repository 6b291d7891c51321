package ingest

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// Parse reads one line (without its line ending) into ev and says which
// bucket it belongs to. The error is nil for Parsed and Skipped lines, and
// says why for Unsupported and Malformed ones; it wraps one of the Err
// sentinels. ev.Raw aliases line.
func (p *Parser) Parse(line []byte, ev *Event) (Bucket, error) {
	return p.parse(line, ev, bytes.IndexByte(line, 0) >= 0)
}

// parse is Parse for a caller that has looked for NUL bytes in line: nul
// says whether it holds any.
func (p *Parser) parse(line []byte, ev *Event, nul bool) (Bucket, error) {
	ev.reset()
	for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	ev.Raw = line
	line, b, err := p.text(line, nul)
	if b != Parsed {
		return b, err
	}
	return p.payload(line, ev)
}

// text returns the text of a line to parse: without NUL bytes (nul: it
// holds some), and the message of a JSON-wrapped line. It returns another
// bucket than Parsed for a line that is too long, blank, or JSON without a
// firewall line.
func (p *Parser) text(line []byte, nul bool) ([]byte, Bucket, error) {
	if len(line) > p.opts.maxLine {
		return nil, Malformed, ErrLineTooLong
	}
	if nul {
		p.scratch = append(p.scratch[:0], line...)
		line = bytes.ReplaceAll(p.scratch, []byte{0}, nil)
	}
	if len(trimSpace(line)) == 0 {
		return nil, Skipped, nil
	}
	if line[0] != '{' {
		return line, Parsed, nil
	}
	text, err := jsonText(line)
	if err != nil {
		if bytes.Contains(line, inetWord) || bytes.Contains(line, nutanixAnchor) {
			return nil, Malformed, err
		}
		return nil, Skipped, nil
	}
	return bytes.TrimRight(text, "\r\n"), Parsed, nil // the sender's line ending
}

// payload finds the vendor's payload in line and reads the line into ev.
func (p *Parser) payload(line []byte, ev *Event) (Bucket, error) {
	if s, anchor := findNutanix(line); s >= 0 {
		if err := p.parseNutanix(line[s:], s, anchor-s, ev); err != nil {
			return Malformed, err
		}
		p.finish(line[:s], ev)
		return checkTime(ev)
	}
	if s, inet := findNSX(line); s >= 0 {
		if gatewayPrefix(line, inet) {
			return Unsupported, ErrGatewayFirewall
		}
		hashLen := 0
		if s < inet {
			hashLen = inet - s - 1
		}
		b, err := p.parseNSX(line[s:], hashLen, s, ev)
		if b != Parsed {
			return b, err
		}
		p.finish(line[:s], ev)
		return checkTime(ev)
	}
	return Skipped, nil
}

// Event times are accepted from MinTime to MaxTime: every firewall
// FlowSleuth reads is younger, and later stamps are a sender's broken
// clock (year 9999 overflowed the nanosecond times of the model, and the
// epoch read as "no time").
var (
	MinTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC) // exclusive
)

// checkTime refuses an event whose time is out of range.
func checkTime(ev *Event) (Bucket, error) {
	if !ev.Time.IsZero() && (ev.Time.Before(MinTime) || !ev.Time.Before(MaxTime)) {
		return Malformed, ErrTimeRange
	}
	return Parsed, nil
}

// finish fills host, time and NSX version from the header before the payload.
func (p *Parser) finish(head []byte, ev *Event) {
	if ev.Time.IsZero() && p.head.reuse(head, ev, &p.minute) {
		ev.Vendor = p.head.version(ev)
		return
	}
	hd := header{skipTime: !ev.Time.IsZero()}
	p.parseHeader(head, &hd)
	if ev.Time.IsZero() {
		ev.Time = hd.time
	}
	if len(hd.host) > 0 {
		ev.Host = p.intern(hd.host)
	} else {
		ev.Host = p.opts.host
	}
	tag := tagOf(hd.tag)
	if !hd.skipTime && !p.opts.library {
		p.head.keep(head, ev.Host, tag)
	}
	if ev.Vendor.IsNSX() {
		ev.Vendor = nsxVersion(ev.RuleSet, tag)
	}
}

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

// jsonText unwraps a VMware Cloud log-forwarding record {"text": "…"}.
func jsonText(line []byte) ([]byte, error) {
	var rec struct {
		Text *string `json:"text"`
	}
	if err := json.Unmarshal(line, &rec); err != nil || rec.Text == nil {
		return nil, ErrBadJSON
	}
	return []byte(*rec.Text), nil
}
