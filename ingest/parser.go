package ingest

import (
	"math/bits"
	"time"
	"unsafe"

	"github.com/influxdata/go-syslog/v3"
)

// DefaultMaxLineLength is the longest line read; longer lines are malformed.
const DefaultMaxLineLength = 64 << 10

// maxInterned bounds the strings a Parser keeps (intern): past it, a new
// value is copied each time instead of kept, so hostile input cannot grow it.
const maxInterned = 1 << 14

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
	shardOf func(*Flow) int
	flows   bool // Read fills Batch.Flows, not Batch.Events
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

// WithShards makes Read's workers split each batch's events by shard(f) of
// their Flow f, a number in [0, n) that must be safe for concurrent use:
// Batch.Shards then holds each shard's events, so that a consumer can apply
// them in parallel. (A Flow's addresses are 16-byte arrays already; an
// Event's netip.Addr must be copied out, and the copies, 8 bytes stored then
// 16 loaded, stalled the processor: a tenth of reading short hit logs.)
func WithShards(n int, shard func(*Flow) int) Option {
	return func(o *options) { o.shards, o.shardOf = n, shard }
}

// WithFlows makes Read hand each batch's lines as Flows (Batch.Flows),
// compact, instead of Events: for a consumer that reads only what a Flow
// holds, such as a connection model. Batch.Events stays empty.
func WithFlows() Option { return func(o *options) { o.flows = true } }

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
	ev      Event      // WithFlows: the line being parsed
	names   flowNames  // WithFlows: the names of the batch being parsed
	head    headMemo   // the last header, for finish
	minute  minuteMemo // the last minute read
	nsxLast bool       // the last payload read was NSX's: look for the next one's first (nsxFirst)
	ntxLast bool       // the last payload read was Nutanix's, and fastNutanixFields read it: try ntxFlow first
	ntxAt   int        // … and where it started (levelFrom)
}

// NewParser returns a Parser with the given options.
func NewParser(opts ...Option) *Parser {
	return &Parser{opts: newOptions(opts), strs: make(map[string]string)}
}

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

// aside is intern for a field a Flow does not hold (the filter hash, the
// close reason, TCP flags, the level, the description): with WithFlows the
// Event is only read into a Flow, so nothing reads it and it stays empty.
func (p *Parser) aside(b []byte) string {
	if p.opts.flows {
		return ""
	}
	return p.intern(b)
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

// flowNames is the table of names of the batch a parser fills with Flows
// (Batch.Names), with the Names it gave lately by the names' QuickHash: a
// batch's lines repeat a few hosts, rule sets, rules and tags, mostly the
// parser's interned strings, so that a name is mostly found by comparing
// two pointers.
type flowNames struct {
	list   *[]string
	ids    map[string]Name
	places [256]namePlace // by where the names' bytes are
	cache  [256]nameSlot  // by the names' QuickHash
	epoch  uint32         // a slot of another epoch is empty
}

type nameSlot struct {
	s     string
	id    Name
	epoch uint32
}

// namePlace is a name's Name by where its bytes are and its length: the
// parser's interned strings come again and again, and are found without
// reading or hashing their bytes (a string's bytes never change, so that
// one place and length are one name).
type namePlace struct {
	p     *byte
	n     int
	id    Name
	epoch uint32
}

// maxBatchNames is how many names a batch's map may have held and still be
// cleared for the next batch rather than dropped: clearing costs its size.
const maxBatchNames = 1 << 12

// reset starts the table list of a new batch.
func (t *flowNames) reset(list *[]string) {
	*list = append((*list)[:0], "")
	t.list = list
	if t.epoch++; t.epoch == 0 {
		t.cache, t.places = [256]nameSlot{}, [256]namePlace{}
		t.epoch = 1
	}
	if len(t.ids) > maxBatchNames {
		t.ids = nil
	}
	clear(t.ids)
}

// id returns the Name of s in the batch, adding it if new.
func (t *flowNames) id(s string) Name {
	if s == "" {
		return 0
	}
	p := unsafe.StringData(s)
	pl := &t.places[uintptr(unsafe.Pointer(p))*0x9E3779B97F4A7C15>>56]
	if pl.epoch == t.epoch && pl.p == p && pl.n == len(s) {
		return pl.id
	}
	id := t.byContent(s)
	*pl = namePlace{p: p, n: len(s), id: id, epoch: t.epoch}
	return id
}

// byContent is id for a name not found by its place.
func (t *flowNames) byContent(s string) Name {
	slot := &t.cache[QuickHash(s)]
	if slot.epoch == t.epoch && slot.s == s {
		return slot.id
	}
	id, ok := t.ids[s]
	if !ok {
		if t.ids == nil {
			t.ids = make(map[string]Name)
		}
		id = Name(len(*t.list))
		*t.list = append(*t.list, s)
		t.ids[s] = id
	}
	*slot = nameSlot{s: s, id: id, epoch: t.epoch}
	return id
}
