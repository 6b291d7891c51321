package ingest

import (
	"bytes"
	"net/netip"
	"time"
)

// Small allocation-free scanners over byte slices, used by the hot path.

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

// atou parses a decimal unsigned integer of at most 19 digits.
func atou(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

func atoPort(b []byte) (uint16, bool) {
	n, ok := atou(b)
	if !ok || n > 65535 {
		return 0, false
	}
	return uint16(n), true
}

// digits2 reads two decimal digits at b[i:i+2].
func digits2(b []byte, i int) (int, bool) {
	if !isDigit(b[i]) || !isDigit(b[i+1]) {
		return 0, false
	}
	return int(b[i]-'0')*10 + int(b[i+1]-'0'), true
}

func digits4(b []byte, i int) (int, bool) {
	h, ok1 := digits2(b, i)
	l, ok2 := digits2(b, i+2)
	return h*100 + l, ok1 && ok2
}

// parseAddr parses an IPv4 or IPv6 address. IPv4 is read by hand; anything
// else goes to netip. IPv4-mapped IPv6 addresses are unmapped.
func parseAddr(b []byte) (netip.Addr, bool) {
	if a, ok := parseIPv4(b); ok {
		return a, true
	}
	for _, c := range b {
		if c == ':' {
			a, err := netip.ParseAddr(string(b))
			if err != nil || a.Zone() != "" {
				return netip.Addr{}, false
			}
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

// parseIPv4 parses a dotted-quad IPv4 address: four parts of one to three
// digits, none above 255, no leading zero.
func parseIPv4(b []byte) (netip.Addr, bool) {
	a, rest, ok := fastIPv4(b)
	return a, ok && len(rest) == 0
}

// fastIPv4 reads the IPv4 address that b starts with (four parts of one to
// three digits, none above 255, no leading zero), which a space or b's end
// must follow, and returns b from there on: AHV's fields are read as they
// are found, not cut into words first.
func fastIPv4(b []byte) (netip.Addr, []byte, bool) {
	a, i, ok := ipv4Head(b)
	if !ok || (i < len(b) && b[i] != ' ') {
		return netip.Addr{}, b, false
	}
	return a, b[i:], true
}

// ipv4Head reads the IPv4 address that b starts with, as fastIPv4 does,
// whatever follows it, and returns the offset after it. Its parts are read
// unrolled (ipv4Part): the loop over up to three digits took 12 ns an
// address against 9, and NSX lines hold two (9% of `flows`' CPU on them
// was here).
func ipv4Head(b []byte) (netip.Addr, int, bool) {
	p0, i, ok := ipv4Part(b, 0)
	if !ok || i >= len(b) || b[i] != '.' {
		return netip.Addr{}, 0, false
	}
	p1, i, ok := ipv4Part(b, i+1)
	if !ok || i >= len(b) || b[i] != '.' {
		return netip.Addr{}, 0, false
	}
	p2, i, ok := ipv4Part(b, i+1)
	if !ok || i >= len(b) || b[i] != '.' {
		return netip.Addr{}, 0, false
	}
	p3, i, ok := ipv4Part(b, i+1)
	if !ok {
		return netip.Addr{}, 0, false
	}
	return netip.AddrFrom4([4]byte{p0, p1, p2, p3}), i, true
}

// ipv4Part reads the part of an IPv4 address at b[i:]: one to three digits
// (a fourth one is left unread), no leading zero, at most 255. It returns
// the offset after it.
func ipv4Part(b []byte, i int) (byte, int, bool) {
	if i >= len(b) {
		return 0, 0, false
	}
	v := uint(b[i] - '0')
	if v > 9 {
		return 0, 0, false
	}
	i++
	if i >= len(b) || b[i]-'0' > 9 {
		return byte(v), i, true
	}
	if v == 0 {
		return 0, 0, false // a leading zero
	}
	v = v*10 + uint(b[i]-'0')
	i++
	if i >= len(b) || b[i]-'0' > 9 {
		return byte(v), i, true
	}
	v = v*10 + uint(b[i]-'0')
	if v > 255 {
		return 0, 0, false
	}
	return byte(v), i + 1, true
}

// prefix reports whether b starts with s: with s a constant, once inlined,
// a few word-sized comparisons rather than a call (the fast readers
// compare their separators so).
func prefix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[:len(s)]) == s
}

// number reads the decimal number (1 to 19 digits, as atou) that b starts
// with, which a space or b's end must follow, and returns b from there on.
// atou stays a loop of its own: written as number, it is no longer inlined,
// and NSX lines parsed 5–10% slower (it reads their counters and ports).
func number(b []byte) (uint64, []byte, bool) {
	n, i, ok := numberHead(b)
	if !ok || (i < len(b) && b[i] != ' ') {
		return 0, b, false
	}
	return n, b[i:], true
}

// numberHead reads the decimal number (1 to 19 digits) that b starts with,
// whatever follows it, and returns the offset after it.
func numberHead(b []byte) (uint64, int, bool) {
	var n uint64
	i := 0
	for ; i < len(b) && i < 20; i++ {
		d := b[i] - '0'
		if d > 9 {
			break
		}
		n = n*10 + uint64(d)
	}
	return n, i, i > 0 && i < 20
}

// daysFromCivil returns days since 1970-01-01 for a proleptic Gregorian date
// (Howard Hinnant's algorithm); it avoids time.Date's normalisation work.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// dateTimeDigits reads "YYYY?MM?DD?hh?mm?ss" (separators not checked: the
// caller knows its format) as Unix seconds, UTC. b has at least 19 bytes.
func dateTimeDigits(b []byte) (int64, bool) {
	y, ok1 := digits4(b, 0)
	mo, ok2 := digits2(b, 5)
	d, ok3 := digits2(b, 8)
	h, ok4 := digits2(b, 11)
	mi, ok5 := digits2(b, 14)
	s, ok6 := digits2(b, 17)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return 0, false
	}
	return unixUTC(y, mo, d, h, mi, s)
}

var monthDays = [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

func validDate(y, m, d int) bool {
	if y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > monthDays[m] {
		return false
	}
	if m == 2 && d == 29 && !(y%4 == 0 && (y%100 != 0 || y%400 == 0)) {
		return false
	}
	return true
}

func unixUTC(y, mo, d, h, mi, s int) (int64, bool) {
	if !validDate(y, mo, d) || h > 23 || mi > 59 || s > 60 {
		return 0, false
	}
	return daysFromCivil(y, mo, d)*86400 + int64(h*3600+mi*60+s), true
}

// minuteMemo is the minute dateTime last read: a log's lines come in time
// order, so most share their date, hour and minute with the line before,
// and only their seconds need reading. The zero value is ready to use.
type minuteMemo struct {
	key [16]byte // "YYYY?MM?DD?hh?mm" as read, separators included
	sec int64    // the Unix seconds of that minute's second 0
	ok  bool
}

// dateTime is dateTimeDigits for b of 19 bytes or more: the same result,
// from the minute remembered when b starts with it (then only the seconds
// decide whether b is valid).
func (m *minuteMemo) dateTime(b []byte) (int64, bool) {
	if m.ok && string(b[:16]) == string(m.key[:]) {
		s, ok := digits2(b, 17)
		if !ok || s > 60 {
			return 0, false
		}
		return m.sec + int64(s), true
	}
	sec, ok := dateTimeDigits(b)
	if ok {
		copy(m.key[:], b)
		m.sec, m.ok = sec-int64(b[17]-'0')*10-int64(b[18]-'0'), true
	}
	return sec, ok
}

// parseRFC3339 reads YYYY-MM-DDThh:mm:ss[.frac](Z|±hh:mm) at the start of b and
// returns the time in UTC and the number of bytes used. A space may stand for T.
func parseRFC3339(b []byte) (time.Time, int, bool) {
	var m minuteMemo
	return m.rfc3339(b)
}

// rfc3339 is parseRFC3339, reading the date and time with m.
func (m *minuteMemo) rfc3339(b []byte) (time.Time, int, bool) {
	sec, nsec, n, ok := m.rfc3339Unix(b)
	if !ok {
		return time.Time{}, 0, false
	}
	return time.Unix(sec, nsec).UTC(), n, true
}

// rfc3339Unix is rfc3339 giving the time in Unix seconds and nanoseconds.
func (m *minuteMemo) rfc3339Unix(b []byte) (sec, nsec int64, n int, ok bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != 't' && b[10] != ' ') ||
		b[13] != ':' || b[16] != ':' {
		return 0, 0, 0, false
	}
	if sec, ok = m.dateTime(b); !ok {
		return 0, 0, 0, false
	}
	nsec, i, ok := fraction(b, 19)
	if !ok {
		return 0, 0, 0, false
	}
	off, z, ok := zoneOffset(b[i:])
	if !ok {
		return 0, 0, 0, false
	}
	return sec - off, nsec, i + z, true
}

// fraction reads the optional ".digits" (1 to 9 of them) at b[i:] and returns
// the nanoseconds and the index after it.
func fraction(b []byte, i int) (int64, int, bool) {
	if i >= len(b) || b[i] != '.' {
		return 0, i, true
	}
	i++
	start := i
	var nsec int64
	scale := int64(100_000_000)
	for i < len(b) && isDigit(b[i]) {
		nsec += int64(b[i]-'0') * scale
		scale /= 10
		i++
	}
	return nsec, i, i > start && i-start <= 9
}

// zoneOffset reads Z or ±hh:mm at the start of b and returns the offset east
// of UTC in seconds and the bytes used.
func zoneOffset(b []byte) (int64, int, bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	switch b[0] {
	case 'Z', 'z':
		return 0, 1, true
	case '+', '-':
	default:
		return 0, 0, false
	}
	if len(b) < 6 || b[3] != ':' {
		return 0, 0, false
	}
	oh, okh := digits2(b, 1)
	om, okm := digits2(b, 4)
	if !okh || !okm || oh > 23 || om > 59 {
		return 0, 0, false
	}
	off := int64(oh*3600 + om*60)
	if b[0] == '-' {
		off = -off
	}
	return off, 6, true
}

var monthAbbr = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// parseStamp reads an RFC 3164 "Mmm dd hh:mm:ss" (day may be space-padded) at
// the start of b and returns month, day, and seconds of day, and the bytes used.
func parseStamp(b []byte) (mo, d, sod, n int, ok bool) {
	if len(b) < 15 || b[3] != ' ' || b[6] != ' ' || b[9] != ':' || b[12] != ':' {
		return 0, 0, 0, 0, false
	}
	if mo = month(b[:3]); mo == 0 {
		return 0, 0, 0, 0, false
	}
	if b[4] == ' ' && isDigit(b[5]) {
		d = int(b[5] - '0')
	} else if d, ok = digits2(b, 4); !ok {
		return 0, 0, 0, 0, false
	}
	if sod, ok = clock(b[7:15]); !ok || d < 1 || d > 31 {
		return 0, 0, 0, 0, false
	}
	return mo, d, sod, 15, true
}

// month returns 1 to 12 for the English abbreviation abbr, or 0.
func month(abbr []byte) int {
	for i, m := range monthAbbr {
		if string(abbr) == m {
			return i + 1
		}
	}
	return 0
}

// clock reads hh:mm:ss (a leap second allowed) and returns the seconds of
// the day.
func clock(b []byte) (int, bool) {
	h, ok1 := digits2(b, 0)
	mi, ok2 := digits2(b, 3)
	s, ok3 := digits2(b, 6)
	if !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || s > 60 {
		return 0, false
	}
	return h*3600 + mi*60 + s, true
}

// token returns the run of b up to the first space, and the rest after it.
func token(b []byte) (tok, rest []byte) {
	for i, c := range b {
		if c == ' ' {
			return b[:i], b[i+1:]
		}
	}
	return b, nil
}

// field returns the run of b up to the first space, the index of the first
// '=' in it (-1 if none), and the rest after the space: token and
// bytes.IndexByte in one call, for the short KEY=VALUE words of hit logs.
func field(b []byte) (tok []byte, eq int, rest []byte) {
	tok = b
	if sp := bytes.IndexByte(b, ' '); sp >= 0 {
		tok, rest = b[:sp], b[sp+1:]
	}
	for i, c := range tok {
		if c == '=' {
			return tok, i, rest
		}
	}
	return tok, -1, rest
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// le64 reads the first 8 bytes of b as a little-endian number.
func le64[S ~string | ~[]byte](b S) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// holdsAnchor is bytes.Contains(b, nutanixAnchor), looking for its ']',
// which NSX headers and tags mostly lack: for these short ones, the call
// of bytes.Index cost more than the look (0.13 s of flows's CPU on the NSX
// corpus, as much as findNutanix had).
func holdsAnchor(b []byte) bool {
	for {
		i := bytes.IndexByte(b, ']')
		if i < 0 {
			return false
		}
		if b = b[i:]; prefix(b, "] SRC=") {
			return true
		}
		b = b[1:]
	}
}
