package ingest

import (
	"bytes"
	"time"

	"github.com/influxdata/go-syslog/v3/rfc3164"
	"github.com/influxdata/go-syslog/v3/rfc5424"
)

// The header is everything on a line before the firewall payload. It only
// gives the reporting host and a time; it never decides what the line is.
// Forms (log-formats.md §1):
//
//	<PRI>1 TS HOST APP PROCID MSGID SD            RFC 5424
//	<PRI>Mmm dd hh:mm:ss HOST TAG:                RFC 3164
//	<PRI>YYYY-MM-DDThh:mm:ss.f+00:00 HOST TAG:    rsyslog/ESXi forward form (RFC 3339, no version)
//	YYYY-MM-DDThh:mm:ss.fZ HOST TAG:              rsyslog file (also "TS HOST TAG" without colon)
//	Mmm dd hh:mm:ss HOST TAG:                     rsyslog traditional file
//	YYYY-MM-DDThh:mm:ss.fZ No(13) TAG[PID]:       ESXi 7/8 local file
//	YYYY-MM-DDThh:mm:ss.fZ                        NSX local dfwpktlogs.log
//	IP⇥Date⇥Host⇥Facility⇥Priority⇥Tag⇥Message     Visual Syslog Server file (or Date⇥IP⇥… clipboard)
//	IP Mmm dd hh:mm:ss facility severity Message  Visual Syslog record with collapsed separators

type header struct {
	skipTime bool // the payload has its own time: do not read the header's
	time     time.Time
	host     []byte
	tag      []byte // syslog tag or APP-NAME, a hint for the NSX version only
}

// parseHeader reads h, best effort: what it cannot read stays empty.
func (p *Parser) parseHeader(h []byte, hd *header) {
	raw := h // Visual Syslog's empty last fields end in TABs: keep them
	h = trimSpace(h)
	if len(h) == 0 {
		return
	}
	if h[0] == '<' {
		if rest, ok := skipPRI(h); ok {
			if isRFC5424(rest) {
				if p.opts.library {
					p.libRFC5424(h, hd)
				} else {
					parseRFC5424Header(rest, hd)
				}
				return
			}
			pri := h[:len(h)-len(rest)]
			rest = trimSpace(rest)
			if p.opts.library && len(rest) > 0 && !isDigit(rest[0]) {
				p.libRFC3164(pri, rest, hd)
				return
			}
			p.parseInner(rest, hd)
			return
		}
	}
	if bytes.IndexByte(h, '\t') >= 0 && p.parseVisualSyslog(raw, hd) {
		return
	}
	if p.parseCollapsedVisualSyslog(h, hd) {
		return
	}
	p.parseInner(h, hd)
}

// skipPRI returns what follows a valid "<PRI>".
func skipPRI(h []byte) ([]byte, bool) {
	end := bytes.IndexByte(h, '>')
	if end < 2 || end > 4 {
		return nil, false
	}
	n, ok := atou(h[1:end])
	if !ok || n > 191 {
		return nil, false
	}
	return h[end+1:], true
}

// isRFC5424 reports whether b (after PRI) starts with a version and a space.
func isRFC5424(b []byte) bool {
	i := 0
	for i < len(b) && i < 3 && isDigit(b[i]) {
		i++
	}
	return i > 0 && i < len(b) && b[i] == ' ' && b[0] != '0'
}

// parseRFC5424Header reads "VERSION TS HOST APP …" after PRI.
func parseRFC5424Header(b []byte, hd *header) {
	_, b = token(b) // version
	ts, b := token(b)
	if t, n, ok := parseRFC3339(ts); !hd.skipTime && ok && n == len(ts) {
		hd.time = t
	}
	host, b := token(b)
	if string(host) != "-" {
		hd.host = host
	}
	if app, _ := token(b); string(app) != "-" {
		hd.tag = app
	}
}

// parseInner reads the header forms that carry no PRI.
func (p *Parser) parseInner(h []byte, hd *header) {
	var rest []byte
	if hd.skipTime && len(h) > 20 && h[4] == '-' && h[10] == 'T' && h[13] == ':' {
		i := bytes.IndexByte(h, ' ') // an RFC 3339 stamp whose value is not needed
		if i < 0 {
			return
		}
		rest = h[i:]
	} else if t, n, ok := p.minute.rfc3339(h); ok {
		hd.time = t
		rest = h[n:]
	} else if t, ok := p.bsdTime(h); ok {
		hd.time = t
		rest = h[15:]
	} else {
		return
	}
	rest = trimSpace(rest)
	if len(rest) == 0 {
		return // NSX local file: timestamp only
	}
	first, rest := token(rest)
	if isESXiSeverity(first) { // "No(13) FIREWALL-PKTLOG[1069031]:"
		hd.tag = tagWord(rest)
		return
	}
	if len(first) > 0 && first[len(first)-1] == ':' { // "TS TAG:" without host
		hd.tag = tagWord(first)
		return
	}
	hd.host = first
	hd.tag = tagWord(rest)
}

// tagWord returns the syslog tag at the start of b without "[pid]" or ':'.
func tagWord(b []byte) []byte {
	t, _ := token(b)
	for i, c := range t {
		if c == '[' || c == ':' {
			return t[:i]
		}
	}
	return t
}

// isESXiSeverity matches ESXi's "No(13)", "In(14)", "Wa(180)" words.
func isESXiSeverity(b []byte) bool {
	if len(b) < 5 || len(b) > 7 || !isUpper(b[0]) || b[2] != '(' || b[len(b)-1] != ')' {
		return false
	}
	_, ok := atou(b[3 : len(b)-1])
	return ok
}

// bsdTime reads an RFC 3164 stamp at the start of h. It has no year: the
// configured one is used, else the reference time's, moved back a year when
// that would put the stamp more than a month in the future.
func (p *Parser) bsdTime(h []byte) (time.Time, bool) {
	mo, d, sod, _, ok := parseStamp(h)
	if !ok {
		return time.Time{}, false
	}
	return p.stampTime(mo, d, sod)
}

func (p *Parser) stampTime(mo, d, sod int) (time.Time, bool) {
	y := p.opts.year
	if y == 0 {
		y = p.opts.ref.Year()
	}
	t := time.Date(y, time.Month(mo), d, 0, 0, sod, 0, p.opts.loc)
	if p.opts.year == 0 && t.After(p.opts.ref.AddDate(0, 1, 0)) {
		y--
		t = time.Date(y, time.Month(mo), d, 0, 0, sod, 0, p.opts.loc)
	}
	for p.opts.year == 0 && mo == 2 && d == 29 && t.Day() != d { // Feb 29: the last leap year
		y--
		t = time.Date(y, time.Month(mo), d, 0, 0, sod, 0, p.opts.loc)
	}
	if t.Day() != d { // Feb 30 and the like
		return time.Time{}, false
	}
	return t.UTC(), true
}

// parseVisualSyslog reads a Visual Syslog Server record: seven TAB-separated
// fields, source IP first in files and date first in clipboard copies. The
// message field keeps the sender's own header (PRI stripped), read again here.
func (p *Parser) parseVisualSyslog(h []byte, hd *header) bool {
	var f [7][]byte
	rest := h
	for i := 0; i < 6; i++ {
		t := bytes.IndexByte(rest, '\t')
		if t < 0 {
			return false
		}
		f[i], rest = rest[:t], rest[t+1:]
	}
	f[6] = rest
	ip, date := trimSpace(f[0]), trimSpace(f[1])
	if _, ok := parseAddr(ip); !ok {
		ip, date = date, ip
		if _, ok := parseAddr(ip); !ok {
			return false
		}
	}
	p.parseInner(trimSpace(f[6]), hd)
	if len(hd.host) == 0 {
		hd.host = trimSpace(f[2])
	}
	if len(hd.host) == 0 {
		hd.host = ip
	}
	if len(hd.tag) == 0 {
		hd.tag = trimSpace(f[5])
	}
	if hd.time.IsZero() {
		hd.time, _ = p.bsdTime(trimSpace(date))
	}
	return true
}

var (
	facilityWords = []string{"kernel", "kern", "user", "mail", "system", "daemon", "security", "auth",
		"internal", "syslog", "lpr", "printer", "news", "uucp", "clock", "cron", "authpriv", "ftp",
		"ntp", "audit", "alert", "clock2", "local0", "local1", "local2", "local3", "local4",
		"local5", "local6", "local7"}
	severityWords = []string{"emerg", "emergency", "alert", "crit", "critical", "err", "error",
		"warning", "warn", "notice", "info", "debug"}
)

func oneOf(b []byte, words []string) bool {
	for _, w := range words {
		if string(b) == w {
			return true
		}
	}
	return false
}

// parseCollapsedVisualSyslog reads "IP Mmm dd hh:mm:ss facility severity MSG",
// the Visual Syslog record whose TABs became spaces and whose empty Host and
// Tag fields vanished ("IP Mmm dd hh:mm:ss HOST facility severity TAG MSG"
// when they were not empty).
func (p *Parser) parseCollapsedVisualSyslog(h []byte, hd *header) bool {
	ipw, rest := token(h)
	ip, ok := parseIPv4(ipw)
	if !ok {
		return false
	}
	mo, d, sod, n, ok := parseStamp(rest)
	if !ok {
		return false
	}
	rest = trimSpace(rest[n:])
	fac, rest := token(rest)
	var host []byte
	if !oneOf(fac, facilityWords) { // the Host field was not empty
		host = fac
		fac, rest = token(rest)
	}
	sev, rest := token(rest)
	if !oneOf(fac, facilityWords) || !oneOf(sev, severityWords) {
		return false
	}
	p.parseInner(trimSpace(rest), hd)
	if len(hd.host) == 0 {
		hd.host = host
	}
	if len(hd.host) == 0 {
		hd.host = []byte(ip.String())
	}
	if hd.time.IsZero() {
		hd.time, _ = p.stampTime(mo, d, sod)
	}
	return true
}

// libRFC5424 reads the header with go-syslog's RFC 5424 machine.
func (p *Parser) libRFC5424(line []byte, hd *header) {
	if p.m5424 == nil {
		p.m5424 = rfc5424.NewMachine(rfc5424.WithBestEffort())
	}
	msg, _ := p.m5424.Parse(line)
	m, ok := msg.(*rfc5424.SyslogMessage)
	if !ok || m == nil {
		return
	}
	if m.Timestamp != nil {
		hd.time = m.Timestamp.UTC()
	}
	if m.Hostname != nil {
		hd.host = []byte(*m.Hostname)
	}
	if m.Appname != nil {
		hd.tag = []byte(*m.Appname)
	}
}

// libRFC3164 reads a BSD header ("<PRI>", then the rest after it with the
// spaces around it trimmed) with go-syslog's RFC 3164 machine.
func (p *Parser) libRFC3164(pri, rest []byte, hd *header) {
	if p.m3164 == nil {
		// No year or zone options: the machine leaves the stamp in year 0
		// and UTC, and stampTime applies the same rules as the fast path.
		// (Its WithTimezone converts the UTC instant rather than reading
		// the wall clock in the zone.)
		p.m3164 = rfc3164.NewMachine(rfc3164.WithBestEffort())
	}
	// The machine wants the stamp right after "<PRI>" (SC4S puts a space
	// there) and a space after the hostname.
	p.hbuf = append(append(append(p.hbuf[:0], pri...), rest...), ' ')
	msg, _ := p.m3164.Parse(p.hbuf)
	m, ok := msg.(*rfc3164.SyslogMessage)
	if !ok || m == nil {
		return
	}
	if m.Timestamp != nil {
		t := *m.Timestamp
		hd.time, _ = p.stampTime(int(t.Month()), t.Day(), t.Hour()*3600+t.Minute()*60+t.Second())
	}
	if m.Hostname != nil {
		hd.host = []byte(*m.Hostname)
	}
	if m.Appname != nil {
		hd.tag = []byte(*m.Appname)
	}
}
