package demo

import (
	"strconv"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// Payload and timestamp formatting. Everything appends to a reused buffer;
// nothing here allocates.

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// split returns the date and the seconds of the day of Unix second sec.
func (c *clock) split(sec int64) (y, m, d int, sod int64) {
	day := floorDiv(sec, 86400)
	if !c.valid || day != c.day {
		c.day, c.valid = day, true
		c.y, c.m, c.d = civil(day)
	}
	return c.y, c.m, c.d, sec - day*86400
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's algorithm).
func civil(z int64) (y, m, d int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	m = int(mp + 3)
	if m > 12 {
		m -= 12
	}
	y = int(yoe + era*400)
	if m <= 2 {
		y++
	}
	return y, m, d
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10%10), byte('0'+v%10)) }

func append4(b []byte, v int) []byte { return append2(append2(b, v/100), v%100) }

func appendClock(b []byte, sod int64) []byte {
	b = append2(b, int(sod/3600))
	b = append(b, ':')
	b = append2(b, int(sod/60%60))
	b = append(b, ':')
	return append2(b, int(sod%60))
}

// appendRFC3339 writes ns as 2025-04-10T10:12:51.646697+00:00 (micro, AHV) or
// 2025-04-10T10:12:51.965Z (milli, ESXi).
func (c *clock) appendRFC3339(b []byte, ns int64, micro bool) []byte {
	sec := floorDiv(ns, 1e9)
	frac := ns - sec*1e9
	y, m, d, sod := c.split(sec)
	b = append4(b, y)
	b = append(b, '-')
	b = append2(b, m)
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, 'T')
	b = appendClock(b, sod)
	b = append(b, '.')
	if micro {
		f := int(frac / 1e3)
		b = append2(append4(b, f/100), f%100)
		return append(b, "+00:00"...)
	}
	f := int(frac / 1e6)
	b = append2(append(b, byte('0'+f/100)), f%100)
	return append(b, 'Z')
}

var monthAbbr = [13]string{"", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// appendStamp writes an RFC 3164 stamp, "Apr  7 10:12:51".
func (c *clock) appendStamp(b []byte, ns int64) []byte {
	_, m, d, sod := c.split(floorDiv(ns, 1e9))
	b = append(b, monthAbbr[m]...)
	b = append(b, ' ')
	if d < 10 {
		b = append(b, ' ', byte('0'+d))
	} else {
		b = append2(b, d)
	}
	b = append(b, ' ')
	return appendClock(b, sod)
}

// appendNutanixTime writes the payload's event time, "2025/04/10 10:11:55".
func (c *clock) appendNutanixTime(b []byte, ns int64) []byte {
	y, m, d, sod := c.split(floorDiv(ns, 1e9))
	b = append4(b, y)
	b = append(b, '/')
	b = append2(b, m)
	b = append(b, '/')
	b = append2(b, d)
	b = append(b, ' ')
	return appendClock(b, sod)
}

var nutanixEvent = [...]string{"New", "Update", "Destroy"}

// appendNutanix writes a Flow policy hit log payload (log-formats.md §2.2).
func (g *gen) appendNutanix(b []byte, e *entry, last int) []byte {
	s, sd := e.s, &e.s.sides[e.side]
	b = append(b, "INFO:"...)
	b = g.clock.appendNutanixTime(b, e.at)
	b = append(b, "  ["...)
	b = append(b, g.w.policyID[sd.tag]...)
	b = append(b, "] "...)
	b = append(b, g.w.tags[sd.tag]...)
	ev := 1
	switch int(e.stage) {
	case 0:
		ev = 0
	case last:
		ev = 2
	}
	b = append(b, " ["...)
	b = append(b, nutanixEvent[ev]...)
	b = append(b, "] SRC="...)
	b = append(b, g.w.eps[s.src].str...)
	b = append(b, " DST="...)
	b = append(b, g.w.eps[s.dst].str...)
	b = append(b, " PROTO="...)
	b = append(b, ingest.ProtoName(s.proto)...)
	if s.proto != ingest.ProtoICMP {
		b = append(b, " SPORT="...)
		b = strconv.AppendUint(b, uint64(s.sport), 10)
		b = append(b, " DPORT="...)
		b = strconv.AppendUint(b, uint64(s.dport), 10)
	}
	b = append(b, " ACTION="...)
	b = append(b, sd.action.String()...)
	if sd.out {
		b = append(b, " DIRECTION=OUTBOUND"...)
	} else {
		b = append(b, " DIRECTION=INBOUND"...)
	}
	if ev > 0 { // [New] carries no counters; [Update] cumulative ones
		k, n := uint64(e.stage), uint64(s.nupd+1)
		if ev == 2 {
			k = n
		}
		op, rp := s.orig.pkts*k/n, s.reply.pkts*k/n
		b = appendNutanixCounters(b, op, s.orig.bytesAt(op), rp, s.reply.bytesAt(rp))
	}
	if sd.descr != "" {
		b = append(b, " DESCRIPTION="...)
		b = append(b, sd.descr...)
	}
	return b
}

// bytesAt returns the bytes of the first p packets, at the average size.
func (c counter) bytesAt(p uint64) uint64 {
	if c.pkts == 0 {
		return 0
	}
	return c.bytes * p / c.pkts
}

func appendNutanixCounters(b []byte, op, ob, rp, rb uint64) []byte {
	b = append(b, " ORIG: PKTS="...)
	b = strconv.AppendUint(b, op, 10)
	b = append(b, " BYTES="...)
	b = strconv.AppendUint(b, ob, 10)
	b = append(b, " REPLY: PKTS="...)
	b = strconv.AppendUint(b, rp, 10)
	b = append(b, " BYTES="...)
	return strconv.AppendUint(b, rb, 10)
}

// appendNSX writes a DFW packet log payload (log-formats.md §3): a match line
// for stage 0, a TERM line for stage 1. NSX-V TERM lines carry no action and
// no tag; NSX-T and NSX 4 ones carry both.
func (g *gen) appendNSX(b []byte, e *entry) []byte {
	s, sd := e.s, &e.s.sides[e.side]
	m := &g.w.vms[sd.vm]
	term := e.stage > 0
	b = append(b, m.filter...)
	if term {
		b = append(b, " INET TERM "...)
		if g.v != vNSXV {
			b = append(b, nsxAction(sd.action)...)
			b = append(b, ' ')
		}
	} else {
		b = append(b, " INET match "...)
		b = append(b, nsxAction(sd.action)...)
		b = append(b, ' ')
	}
	b = append(b, sd.rule...)
	if sd.out {
		b = append(b, " OUT "...)
	} else {
		b = append(b, " IN "...)
	}
	if !term {
		b = strconv.AppendUint(b, uint64(s.length), 10)
		b = append(b, ' ')
	}
	b = append(b, ingest.ProtoName(s.proto)...)
	if term && s.proto == ingest.ProtoTCP {
		b = append(b, ' ')
		b = append(b, s.close...)
	}
	b = g.appendTuple(append(b, ' '), s)
	switch {
	case !term && s.flags != "":
		b = append(b, ' ')
		b = append(b, s.flags...)
	case term:
		b = appendNSXCounters(b, s)
	}
	if !term || g.v != vNSXV {
		b = append(b, ' ')
		b = append(b, g.w.tags[sd.tag]...)
	}
	return b
}

func nsxAction(a ingest.Action) string {
	if a == ingest.ActionAllow {
		return "PASS"
	}
	return a.String()
}

// appendTuple writes SRC[/SPORT]->DST[/DPORT].
func (g *gen) appendTuple(b []byte, s *session) []byte {
	icmp := s.proto == ingest.ProtoICMP
	b = append(b, g.w.eps[s.src].str...)
	if !icmp {
		b = append(b, '/')
		b = strconv.AppendUint(b, uint64(s.sport), 10)
	}
	b = append(b, "->"...)
	b = append(b, g.w.eps[s.dst].str...)
	if !icmp {
		b = append(b, '/')
		b = strconv.AppendUint(b, uint64(s.dport), 10)
	}
	return b
}

// appendNSXCounters writes " PKTS-ORIG/PKTS-REPLY BYTES-ORIG/BYTES-REPLY".
func appendNSXCounters(b []byte, s *session) []byte {
	b = append(b, ' ')
	b = strconv.AppendUint(b, s.orig.pkts, 10)
	b = append(b, '/')
	b = strconv.AppendUint(b, s.reply.pkts, 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, s.orig.bytes, 10)
	b = append(b, '/')
	return strconv.AppendUint(b, s.reply.bytes, 10)
}
