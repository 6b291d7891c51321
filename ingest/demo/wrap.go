package demo

import (
	"strconv"
)

// Syslog wrappers around the payload, as log-formats.md §1 and §4 show them.

const (
	wForward      wrapper = iota // <PRI>RFC3339 HOST TAG: (AHV rsyslog forward, ESXi vmsyslogd)
	wRsyslog                     // syslog server file: RFC3339 HOST TAG
	wRFC5424                     // <PRI>1 TS HOST APP - - -
	wRFC3164                     // <PRI>Mmm dd hh:mm:ss HOST TAG:
	wVSS                         // Visual Syslog Server file record: 7 TAB fields, CRLF
	wVSSCollapsed                // the same record with TABs turned to single spaces
	wJSON                        // {"text": …} (VMware Cloud on AWS for NSX)
	wBare                        // payload only
	wLocal                       // NSX local dfwpktlogs.log: RFC3339 PAYLOAD
	wESXiLocal                   // ESXi 7/8 local file: RFC3339 No(13) TAG[PID]:
)

var wrapNames = [...]string{
	wForward: "forward", wRsyslog: "rsyslog", wRFC5424: "rfc5424", wRFC3164: "rfc3164",
	wVSS: "vss", wVSSCollapsed: "vss-collapsed", wJSON: "json", wBare: "bare",
	wLocal: "local", wESXiLocal: "esxi-local",
}

var (
	nutanixWraps = []wrapper{wForward, wRsyslog, wRFC5424, wRFC3164, wVSS, wVSSCollapsed, wJSON, wBare}
	nsxWraps     = []wrapper{wForward, wLocal, wESXiLocal, wRFC5424, wRFC3164, wRsyslog, wJSON, wVSS}
)

func parseWrap(v vendor, s string) (wrapper, bool) {
	ws := nutanixWraps
	if v != vNutanix {
		ws = nsxWraps
	}
	if s == "" {
		return ws[0], true
	}
	for _, w := range ws {
		if wrapNames[w] == s {
			return w, true
		}
	}
	return 0, false
}

// wrapHasHost reports whether lines in wrapper w name their reporting host.
func wrapHasHost(w wrapper) bool { return w != wBare && w != wLocal && w != wESXiLocal }

// NSX syslog tags, by version.
var nsxTag = [...]string{vNSXV: "dfwpktlogs", vNSXT: "FIREWALL_PKTLOG", vNSX4: "FIREWALL-PKTLOG"}

// Delivery delay of AHV lines: the header time is 1 to 6 s after the event,
// drifting slowly (a 2 h triangle wave, slope 1/720) so that header times stay
// in order whenever event times are.
func delay(ns int64) int64 {
	const period = 2 * 3600 * second
	x := ns % period
	if x < 0 {
		x += period
	}
	if x < period/2 {
		return second + x/720
	}
	return 6*second - (x-period/2)/720
}

// Visual Syslog Server stamps records with its own clock in local time: here
// UTC+1 and 5 s behind the sender, as in the published sample (log-formats.md
// §4.1: sender 10:12:51 UTC, record "Apr 10 11:12:46").
const vssShift = 3600*second - 5*second

// appendLine writes the whole line for e, with its line ending, and sets
// g.written to the latest time it carries.
func (g *gen) appendLine(b []byte, e *entry) []byte {
	h := &g.w.hosts[g.w.vms[e.s.sides[e.side].vm].host]
	if g.v == vNutanix {
		return g.appendAHV(b, e, h)
	}
	return g.appendESXi(b, e, h)
}

// appendAHV wraps a Nutanix payload.
func (g *gen) appendAHV(b []byte, e *entry, h *host) []byte {
	last := g.lastStage(e.s)
	hdr := e.at + delay(e.at)
	g.written = hdr
	n := byte('0' + (int(e.s.sport)+int(e.stage))%4) // Genesis_N, flow-hitCountN: a worker index
	switch g.wrap {
	case wForward:
		b = g.appendAHVHeader(append(b, "<134>"...), hdr, h, n)
	case wRsyslog:
		b = g.clock.appendRFC3339(b, hdr, true)
		b = append(append(append(b, ' '), h.name...), " ahv "...)
	case wRFC5424:
		b = g.clock.appendRFC3339(append(b, "<134>1 "...), hdr, true)
		b = append(append(append(b, ' '), h.name...), " Genesis_"...)
		b = append(append(b, n), " - - - "...)
	case wRFC3164:
		b = g.clock.appendStamp(append(b, "<134>"...), hdr)
		b = append(append(append(b, ' '), h.name...), " flow-hitCount"...)
		b = append(append(b, n), ": "...)
	case wVSS:
		b = g.clock.appendStamp(append(append(b, h.ip...), '\t'), hdr+vssShift)
		b = g.appendAHVHeader(append(b, "\t\tlocal0\tinfo\t\t"...), hdr, h, n)
	case wVSSCollapsed:
		b = g.clock.appendStamp(append(append(b, h.ip...), ' '), hdr+vssShift)
		b = g.appendAHVHeader(append(b, " local0 info "...), hdr, h, n)
	case wJSON:
		in := g.appendAHVHeader(append(g.inner[:0], "<134>"...), hdr, h, n)
		in = g.appendNutanix(in, e, last)
		g.inner = in
		b = appendJSONString(append(b, `{"text":"`...), in, false)
		return append(b, "\"}\n"...)
	}
	b = g.appendNutanix(b, e, last)
	if g.wrap == wVSS {
		b = append(b, '\r')
	}
	return append(b, '\n')
}

// appendAHVHeader writes "2025-04-10T10:12:51.646697+00:00 HOST Genesis_N: ".
func (g *gen) appendAHVHeader(b []byte, hdr int64, h *host, n byte) []byte {
	b = g.clock.appendRFC3339(b, hdr, true)
	b = append(append(append(b, ' '), h.name...), " Genesis_"...)
	return append(b, n, ':', ' ')
}

// appendESXi wraps an NSX payload. ESXi stamps the line with the event time.
func (g *gen) appendESXi(b []byte, e *entry, h *host) []byte {
	at := e.at
	g.written = at
	tag := nsxTag[g.v]
	switch g.wrap {
	case wForward:
		b = g.appendESXiHeader(append(b, "<14>"...), at, h, tag)
	case wLocal:
		b = append(g.clock.appendRFC3339(b, at, false), ' ')
	case wESXiLocal:
		b = append(g.clock.appendRFC3339(b, at, false), " No(13) "...)
		b = append(append(append(append(b, tag...), '['), h.pid...), "]: "...)
	case wRFC5424:
		b = g.clock.appendRFC3339(append(b, "<13>1 "...), at, false)
		b = append(append(append(append(b, ' '), h.name...), ' '), tag...)
		b = append(b, " - - - "...)
	case wRFC3164:
		b = g.clock.appendStamp(append(b, "<14>"...), at)
		b = append(append(append(append(b, ' '), h.name...), ' '), tag...)
		b = append(b, ": "...)
	case wRsyslog:
		b = g.appendESXiHeader(b, at, h, tag)
	case wVSS:
		b = g.clock.appendStamp(append(append(b, h.ip...), '\t'), at+vssShift)
		b = g.appendESXiHeader(append(b, "\t\tuser\tinfo\t\t"...), at, h, tag)
	case wJSON:
		return g.appendVMC(b, e, h, tag)
	}
	b = g.appendNSX(b, e)
	if g.wrap == wVSS {
		b = append(b, '\r')
	}
	return append(b, '\n')
}

// appendESXiHeader writes "2020-05-15T09:08:27.965Z HOST TAG: ".
func (g *gen) appendESXiHeader(b []byte, at int64, h *host, tag string) []byte {
	b = g.clock.appendRFC3339(b, at, false)
	b = append(append(append(append(b, ' '), h.name...), ' '), tag...)
	return append(b, ": "...)
}

// appendVMC writes a VMware Cloud on AWS log-forwarding record: the ESXi line
// in "text" with '/' escaped as "\/", and the ingestion time in milliseconds
// as a Java double ("1.589533710199E12").
func (g *gen) appendVMC(b []byte, e *entry, h *host, tag string) []byte {
	in := g.appendESXiHeader(append(g.inner[:0], "<99>"...), e.at, h, tag)
	in = g.appendNSX(in, e)
	g.inner = in
	b = append(append(b, `{"sddc_id":"`...), g.w.sddc...)
	b = appendJSONString(append(b, `","text":"`...), in, true)
	recv := e.at + delay(e.at)
	g.written = recv
	b = append(b, `","timestamp":`...)
	n := len(b)
	b = strconv.AppendFloat(b, float64(floorDiv(recv, 1e6)), 'E', -1, 64)
	for i := n; i < len(b); i++ { // Go writes E+12, Java E12
		if b[i] == '+' {
			b = append(b[:i], b[i+1:]...)
			break
		}
	}
	return append(b, "}\n"...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as the inside of a JSON string, as encoding/json
// does with SetEscapeHTML(false) for ASCII text, and with '/' written as "\/"
// when slash is set.
func appendJSONString(b, s []byte, slash bool) []byte {
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '/' && slash:
			b = append(b, '\\', '/')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return b
}
