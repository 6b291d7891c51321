package ingest

import (
	"bytes"
	"encoding/json"
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
	line = trimEOL(line)
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

// trimEOL returns line without the newlines and carriage returns it ends
// with.
func trimEOL(line []byte) []byte {
	for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	return line
}

// payload finds the vendor's payload in line and reads the line into ev.
func (p *Parser) payload(line []byte, ev *Event) (Bucket, error) {
	if p.nsxLast && p.nsxFirst(line, ev) {
		return checkTime(ev)
	}
	if s, anchor := findNutanix(line); s >= 0 {
		p.nsxLast, p.ntxAt = false, s
		if err := p.parseNutanix(line[s:], s, anchor-s, ev); err != nil {
			return Malformed, err
		}
		p.finish(line[:s], ev)
		return checkTime(ev)
	}
	if s, inet := findNSX(line); s >= 0 {
		p.nsxLast, p.ntxLast = true, false
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

// nsxFirst reads line into ev as payload does, when it is an NSX line that
// the fast path (fastNSX) reads and that holds no Nutanix anchor, and
// reports whether it did (when not, ev is unchanged). payload looks for a
// Nutanix payload first, through the whole line; NSX lines mostly come
// after NSX lines, and the fast path's words cannot hold the anchor (it
// has a space, and the words around the only spaces a word can be
// followed by are IN/OUT, TCP/UDP/ICMP and the like), so that only the
// header before the payload and the tag after it are looked through.
func (p *Parser) nsxFirst(line []byte, ev *Event) bool {
	var f nsxFast
	s, inet, ok := fastNSXLine(line, &f)
	if !ok {
		return false
	}
	ev.Vendor = NSXT
	if s < inet {
		ev.Filter = p.aside(line[s : inet-1])
	}
	f.fill(p, ev)
	p.finish(line[:s], ev)
	return true
}

// fastNSXLine reads line into f when it is an NSX line that the fast path
// reads and that holds no Nutanix anchor (nsxFirst), and returns where its
// payload (the filter hash, else INET) and its INET word start.
func fastNSXLine(line []byte, f *nsxFast) (start, inet int, ok bool) {
	start, inet = findNSX(line)
	if start < 0 || gatewayPrefix(line, inet) || holdsAnchor(line[:start]) {
		return 0, 0, false
	}
	if !f.read(line[inet:]) || holdsAnchor(f.tag) {
		return 0, 0, false
	}
	return start, inet, true
}

// Event times are accepted from MinTime to MaxTime: every firewall
// FlowSleuth reads is younger, and later stamps are a sender's broken
// clock (year 9999 overflowed the nanosecond times of the model, and the
// epoch read as "no time").
var (
	MinTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC) // exclusive
)

// minUnix and maxUnix are MinTime and MaxTime in seconds: both fall on a
// second, so a time is in range exactly when its second is.
var minUnix, maxUnix = MinTime.Unix(), MaxTime.Unix()

// inTimeRange reports whether a time of sec Unix seconds is accepted.
func inTimeRange(sec int64) bool { return sec >= minUnix && sec < maxUnix }

// checkTime refuses an event whose time is out of range.
func checkTime(ev *Event) (Bucket, error) {
	if ev.Time.IsZero() {
		return Parsed, nil
	}
	if !inTimeRange(ev.Time.Unix()) {
		return Malformed, ErrTimeRange
	}
	return Parsed, nil
}

// finish fills host, time and NSX version from the header before the payload.
func (p *Parser) finish(head []byte, ev *Event) {
	tag, reused := tagOther, false
	if ev.Time.IsZero() {
		tag, reused = p.head.reuse(head, ev, &p.minute)
	}
	if !reused {
		tag = p.readHead(head, ev)
	}
	if ev.Vendor.IsNSX() {
		ev.Vendor = nsxVersion(ev.RuleSet, tag)
	}
}

// readHead reads host and time (unless ev has one) from head, keeps it in
// the header memo when it read its time, and returns its tag's kind.
func (p *Parser) readHead(head []byte, ev *Event) tagKind {
	hd := header{skipTime: !ev.Time.IsZero()}
	p.parseHeader(head, &hd)
	if ev.Time.IsZero() {
		ev.Time = hd.time
	}
	ev.Host = p.hostOf(&hd)
	tag := tagOf(hd.tag)
	if !hd.skipTime && !p.opts.library {
		p.head.keep(head, ev.Host, tag)
	}
	return tag
}

// hostOf returns the host header hd names, or else WithDefaultHost's.
func (p *Parser) hostOf(hd *header) string {
	if len(hd.host) > 0 {
		return p.intern(hd.host)
	}
	return p.opts.host
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
