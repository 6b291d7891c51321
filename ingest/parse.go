package ingest

import (
	"bytes"
	"encoding/json"
	"math/bits"
	"strings"
	"time"

	syslog "github.com/influxdata/go-syslog/v3"
)

// DefaultMaxLineLength is the longest line read; longer lines are malformed.
const DefaultMaxLineLength = 64 << 10

type options struct {
	year    int            // year for RFC 3164 stamps; 0 infers it from ref
	ref     time.Time      // reference "now" for year inference
	loc     *time.Location // zone of RFC 3164 stamps
	host    string         // reporting host when the line names none
	maxLine int
	library bool // read <PRI> headers with go-syslog instead of the fast path
	workers int
	hold    bool // Read leaves a last line without newline unread
	shards  int  // Read splits each batch's events into this many shards (Batch.Shards)
	shardOf func(*Event) int
}

// Option configures a Parser or Read.
type Option func(*options)

// WithYear sets the year of RFC 3164 timestamps, which carry none. By default
// it is inferred from the reference time (WithReferenceTime).
func WithYear(y int) Option { return func(o *options) { o.year = y } }

// WithReferenceTime sets the time an input was written (a file's modification
// time): RFC 3164 timestamps are placed in the year before it.
func WithReferenceTime(t time.Time) Option { return func(o *options) { o.ref = t } }

// WithLocation sets the zone of RFC 3164 timestamps (default UTC).
func WithLocation(loc *time.Location) Option { return func(o *options) { o.loc = loc } }

// WithDefaultHost names the reporting host of lines whose header has none,
// such as ESXi local files, or the sender of a received message.
func WithDefaultHost(h string) Option { return func(o *options) { o.host = h } }

// WithMaxLineLength caps the length of a line (default DefaultMaxLineLength).
func WithMaxLineLength(n int) Option { return func(o *options) { o.maxLine = n } }

// WithSyslogLibrary reads RFC 5424 and RFC 3164 headers with go-syslog's
// machines rather than the hand-written fast path. Both give the same events.
func WithSyslogLibrary(on bool) Option { return func(o *options) { o.library = on } }

// WithWorkers sets how many goroutines Read parses with (default GOMAXPROCS).
func WithWorkers(n int) Option { return func(o *options) { o.workers = n } }

// WithHoldPartialLine makes Read leave a last line that has no newline
// unread, for an input that may still be being written: Stats.Pending says
// how many bytes were held back, and Stats.Bytes ends at a line end.
func WithHoldPartialLine() Option { return func(o *options) { o.hold = true } }

// WithShards makes Read's workers split each batch's events by shard(ev), a
// number in [0, n) that must be safe for concurrent use: Batch.Shards then
// holds each shard's events, so that a consumer can apply them in parallel.
func WithShards(n int, shard func(*Event) int) Option {
	return func(o *options) { o.shards, o.shardOf = n, shard }
}

func newOptions(opts []Option) options {
	o := options{ref: time.Now(), loc: time.UTC, maxLine: DefaultMaxLineLength}
	for _, f := range opts {
		f(&o)
	}
	if o.loc == nil {
		o.loc = time.UTC
	}
	if o.maxLine <= 0 {
		o.maxLine = DefaultMaxLineLength
	}
	return o
}

// Parser turns single lines into Events. A Parser is not safe for concurrent
// use; give each goroutine its own.
type Parser struct {
	opts    options
	strs    map[string]string
	cache   [256]string
	scratch []byte
	hbuf    []byte // header handed to go-syslog
	m5424   syslog.Machine
	m3164   syslog.Machine
}

// NewParser returns a Parser with the given options.
func NewParser(opts ...Option) *Parser {
	return &Parser{opts: newOptions(opts), strs: make(map[string]string)}
}

const maxInterned = 1 << 14

// intern returns b as a string, sharing one copy of each of the few distinct
// values (hosts, policies, filter hashes, tags) a log repeats millions of
// times. A direct-mapped cache indexed by a cheap hash of the bytes spares
// most map look-ups, and downstream code can compare these strings by
// pointer.
func (p *Parser) intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	slot := &p.cache[QuickHash(b)] // 256 slots: the 8-bit hash
	if *slot == string(b) {
		return *slot
	}
	s, ok := p.strs[string(b)]
	if !ok {
		s = string(b)
		if len(p.strs) < maxInterned {
			p.strs[s] = s
		}
	}
	*slot = s
	return s
}

// QuickHash folds the length and the first and last 8 bytes of s (not
// empty) to 8 bits by Fibonacci hashing: a few instructions, and values that
// differ in one character near either end land in different slots. It
// indexes small direct-mapped caches of interned strings, here and in
// analysis.
func QuickHash[S ~string | ~[]byte](s S) uint8 {
	n := len(s)
	var x uint64
	if n >= 8 {
		x = le64(s[:8]) ^ bits.RotateLeft64(le64(s[n-8:]), 29)
	} else {
		for i := 0; i < n; i++ {
			x = x<<8 | uint64(s[i])
		}
	}
	x ^= uint64(n) << 58
	return uint8((x * 0x9E3779B97F4A7C15) >> 56)
}

func le64[S ~string | ~[]byte](b S) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// Parse reads one line (without its line ending) into ev and says which
// bucket it belongs to. The error is nil for Parsed and Skipped lines, and
// says why for Unsupported and Malformed ones; it wraps one of the Err
// sentinels. ev.Raw aliases line.
func (p *Parser) Parse(line []byte, ev *Event) (Bucket, error) {
	ev.reset()
	for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	ev.Raw = line
	line, b, err := p.text(line)
	if b != Parsed {
		return b, err
	}
	return p.payload(line, ev)
}

// text returns the text of a line to parse: without NUL bytes, and the
// message of a JSON-wrapped line. It returns another bucket than Parsed for
// a line that is too long, blank, or JSON without a firewall line.
func (p *Parser) text(line []byte) ([]byte, Bucket, error) {
	if len(line) > p.opts.maxLine {
		return nil, Malformed, ErrLineTooLong
	}
	if bytes.IndexByte(line, 0) >= 0 {
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
	if ev.Vendor.IsNSX() {
		ev.Vendor = nsxVersion(ev, hd.tag)
	}
}

// nsxVersion tells NSX-V, NSX-T and NSX 4 apart: domain-cNN rule sets and the
// dfwpktlogs tag are NSX-V, the FIREWALL-PKTLOG tag (hyphen) is NSX 4.
func nsxVersion(ev *Event, tag []byte) Vendor {
	switch {
	case strings.HasPrefix(ev.RuleSet, "domain-c"), bytes.EqualFold(tag, []byte("dfwpktlogs")):
		return NSXV
	case bytes.EqualFold(tag, []byte("FIREWALL-PKTLOG")):
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
