package listen

import (
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Stats is a snapshot of a server's counters. Every message read ends in
// exactly one of Oversize, Dropped, ArchiveDropped, Unarchived or Accepted
// (once the queue has drained), and every accepted message in one of
// Parsed, Unsupported, Skipped or Malformed.
type Stats struct {
	Started time.Time

	Received      int64 // messages read from allowed senders
	Accepted      int64 // archived and handed to the model
	Oversize      int64 // longer than MaxMessage: skipped
	Dropped       int64 // UDP messages dropped because the queue was full
	KernelDrops   int64 // UDP datagrams the kernel dropped (socket buffer full)
	Rejected      int64 // datagrams and connections from senders not allowed
	FramingErrors int64 // TCP/TLS connections closed for a bad octet count or a broken frame
	// LastFramingError is the last of those: the sender, why, and the start
	// of what could not be framed.
	LastFramingError string
	TLSErrors        int64 // failed TLS handshakes
	Refused          int64 // connections refused over MaxConns
	Timeouts         int64 // connections closed idle or for trickling a frame
	LineBreaks       int64 // CR and LF inside messages, archived as spaces
	Queued           int   // messages waiting for the consumer

	Parsed, Unsupported, Skipped, Malformed int64

	Rate float64 // received messages per second over the last 5 s

	ArchiveBytes     int64     // archived since start
	Segments         int       // segments opened since start
	Uncompressed     int       // closed segments not gzipped yet: waiting for a commit, or for a calmer rate
	Segment          string    // the segment being written
	ArchiveErr       string    // the last archive error, if any
	ArchiveDown      bool      // the archive cannot be written now: nothing is accepted
	ArchiveDownSince time.Time // … since then
	ArchiveFailures  int64     // times the archive stopped taking messages
	ArchiveDropped   int64     // UDP datagrams dropped while the archive could not be written
	Unarchived       int64     // messages read but never archived: the server stopped while it failed
	RcvBufRequest    int       // UDP receive buffer asked for (bytes)
	RcvBufGranted    int       // … and what the kernel reports (it doubles the value set)
	OpenConns        int       // TCP and TLS connections open
	Senders          []SenderStats
	RejectedBy       []SenderStats // senders refused by the allowlist
	MalformedLines   []string      // samples: "sender: line"
}

// SenderStats is what one sender sent.
type SenderStats struct {
	Addr      netip.Addr
	Messages  int64
	Bytes     int64
	Rejected  int64
	Malformed int64
	Oversize  int64
	LastSeen  time.Time
	Sample    string // its last malformed message, cut to 200 bytes
}

// maxSenders bounds the sender table; further senders are counted under
// the zero address (spoofed UDP sources cannot exhaust memory).
const maxSenders = 4096

// sender holds one sender's counters. The readers update the hot ones
// atomically; sample and malformed are the consumer's.
type sender struct {
	addr      netip.Addr
	messages  atomic.Int64
	bytes     atomic.Int64
	rejected  atomic.Int64
	malformed atomic.Int64
	oversize  atomic.Int64
	lastSeen  atomic.Int64 // unix nanoseconds
	mu        sync.Mutex
	sample    string
}

// counters are the server's live counters.
type counters struct {
	received, accepted, oversize, dropped, kernel, rejected atomic.Int64
	framing, tlsErr, refused, timeouts, lineBreaks          atomic.Int64
	archiveDropped, unarchived, archiveFailures             atomic.Int64
	parsed, unsupported, skipped, malformed                 atomic.Int64
	open                                                    atomic.Int64

	mu        sync.RWMutex
	senders   map[netip.Addr]*sender
	samples   []string
	framingAt string // the last framing error, with its sender and a sample

	rateMu  sync.Mutex
	history [6]int64 // received, sampled once a second
	filled  int
}

func newCounters() *counters {
	return &counters{senders: make(map[netip.Addr]*sender)}
}

// sender returns the entry of addr, creating it.
func (c *counters) sender(addr netip.Addr) *sender {
	addr = addr.Unmap()
	c.mu.RLock()
	s := c.senders[addr]
	c.mu.RUnlock()
	if s != nil {
		return s
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s = c.senders[addr]; s != nil {
		return s
	}
	if len(c.senders) >= maxSenders {
		addr = netip.Addr{}
		if s = c.senders[addr]; s != nil {
			return s
		}
	}
	s = &sender{addr: addr}
	c.senders[addr] = s
	return s
}

const maxSamples = 20

// noteMalformed keeps a sample of a malformed message.
func (c *counters) noteMalformed(s *sender, msg []byte) {
	text := string(msg[:min(len(msg), 200)])
	s.malformed.Add(1)
	s.mu.Lock()
	s.sample = text
	s.mu.Unlock()
	c.mu.Lock()
	if len(c.samples) < maxSamples {
		c.samples = append(c.samples, s.addr.String()+": "+text)
	}
	c.mu.Unlock()
}

// noteFraming records the last connection closed for its framing.
func (c *counters) noteFraming(what string) {
	c.mu.Lock()
	c.framingAt = what
	c.mu.Unlock()
}

// tick records the received count once a second, for Rate.
func (c *counters) tick() {
	c.rateMu.Lock()
	copy(c.history[1:], c.history[:len(c.history)-1])
	c.history[0] = c.received.Load()
	c.filled = min(c.filled+1, len(c.history))
	c.rateMu.Unlock()
}

func (c *counters) rate() float64 {
	c.rateMu.Lock()
	defer c.rateMu.Unlock()
	if c.filled < 2 {
		return 0
	}
	n := c.filled - 1
	return float64(c.history[0]-c.history[n]) / float64(n)
}

func (c *counters) snapshot(st *Stats) {
	st.Received, st.Accepted = c.received.Load(), c.accepted.Load()
	st.Oversize, st.Dropped, st.KernelDrops = c.oversize.Load(), c.dropped.Load(), c.kernel.Load()
	st.Rejected, st.FramingErrors, st.TLSErrors = c.rejected.Load(), c.framing.Load(), c.tlsErr.Load()
	st.Refused, st.Timeouts, st.LineBreaks = c.refused.Load(), c.timeouts.Load(), c.lineBreaks.Load()
	st.ArchiveDropped, st.Unarchived, st.ArchiveFailures = c.archiveDropped.Load(), c.unarchived.Load(), c.archiveFailures.Load()
	st.Parsed, st.Unsupported = c.parsed.Load(), c.unsupported.Load()
	st.Skipped, st.Malformed = c.skipped.Load(), c.malformed.Load()
	st.OpenConns = int(c.open.Load())
	st.Rate = c.rate()
	c.mu.RLock()
	st.MalformedLines = slices.Clone(c.samples)
	st.LastFramingError = c.framingAt
	for _, s := range c.senders {
		ss := SenderStats{Addr: s.addr, Messages: s.messages.Load(), Bytes: s.bytes.Load(),
			Rejected: s.rejected.Load(), Malformed: s.malformed.Load(), Oversize: s.oversize.Load()}
		if t := s.lastSeen.Load(); t != 0 {
			ss.LastSeen = time.Unix(0, t)
		}
		s.mu.Lock()
		ss.Sample = s.sample
		s.mu.Unlock()
		if ss.Messages > 0 || ss.Oversize > 0 {
			st.Senders = append(st.Senders, ss)
		}
		if ss.Rejected > 0 {
			st.RejectedBy = append(st.RejectedBy, ss)
		}
	}
	c.mu.RUnlock()
	byAddr := func(a, b SenderStats) int { return a.Addr.Compare(b.Addr) }
	slices.SortFunc(st.Senders, byAddr)
	slices.SortFunc(st.RejectedBy, byAddr)
}
