// Package listen is a syslog server: it receives messages over UDP, TCP
// (RFC 6587 octet-counting or LF framing, detected per connection) and TLS
// (RFC 5425), appends every accepted message to a segmented raw archive,
// parses it with the same ingest.Parser as file import, and hands the
// events to a handler.
//
// Nothing a sender is allowed to send is lost silently: UDP readers never
// wait on parsing or disk and count what a full queue drops (and what the
// kernel dropped); TCP and TLS readers wait instead (backpressure). No
// message reaches the handler before it is archived: while the archive
// cannot be written (a full disk), the server says so at once (Stats), holds
// TCP senders back, drops and counts datagrams, and goes on when it can
// write again.
package listen

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// Defaults for Config.
const (
	DefaultMaxMessage   = 64 << 10
	DefaultMaxConns     = 256
	DefaultConnIdle     = 5 * time.Minute
	DefaultFrameTimeout = 30 * time.Second
	DefaultReadBuffer   = 8 << 20
	DefaultQueue        = 256 << 10
	DefaultQueueBytes   = 128 << 20
	DefaultSegmentSize  = 64 << 20
	DefaultSegmentAge   = time.Hour
)

// ErrNoAllowlist is returned by New when no sender is allowed: lines
// injected by anyone who can reach the port would become firewall rules.
var ErrNoAllowlist = errors.New("no sender allowed: give an allowlist, or allow any sender explicitly")

// DefaultArchiveRetry is how often a failing archive is tried again.
const DefaultArchiveRetry = time.Second

// Config configures a Server. Addresses are host:port; "" turns a
// transport off, port 0 picks a free port (see Server.Addrs).
type Config struct {
	UDP, TCP, TLS     string
	CertFile, KeyFile string // the TLS server certificate and key (PEM)
	// ClientCAFile holds the CA certificates (PEM) that TLS senders'
	// certificates must chain to (RFC 5425 §5.2, mutual authentication);
	// "" asks senders for none and checks them by address only.
	ClientCAFile string

	Allow    []netip.Prefix // senders accepted
	AllowAny bool           // accept every sender (Allow is then ignored)

	MaxMessage   int           // longest message; longer ones are skipped and counted
	MaxConns     int           // TCP and TLS connections open at once
	ConnIdle     time.Duration // a connection silent this long is closed
	FrameTimeout time.Duration // a message once started must arrive within this
	ReadBuffer   int           // UDP socket receive buffer to ask for (bytes)
	Queue        int           // messages waiting for the consumer, at most
	QueueBytes   int           // … and the memory they take, at most (msgCost)

	Archive      string        // directory of the raw archive ("" = none)
	SegmentSize  int64         // rotate a segment past this size
	SegmentAge   time.Duration // … or this age
	HoldSegments bool          // compress closed segments only once Commit covers them

	// Parse are the parsers' options (the sender is the default host); nil
	// reads headers with go-syslog: ingest.WithSyslogLibrary(true).
	Parse []ingest.Option
}

func (c *Config) setDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxMessage, DefaultMaxMessage)
	def(&c.MaxConns, DefaultMaxConns)
	def(&c.ReadBuffer, DefaultReadBuffer)
	def(&c.Queue, DefaultQueue)
	def(&c.QueueBytes, DefaultQueueBytes)
	if c.ConnIdle <= 0 {
		c.ConnIdle = DefaultConnIdle
	}
	if c.FrameTimeout <= 0 {
		c.FrameTimeout = DefaultFrameTimeout
	}
	if c.SegmentSize <= 0 {
		c.SegmentSize = DefaultSegmentSize
	}
	if c.SegmentAge <= 0 {
		c.SegmentAge = DefaultSegmentAge
	}
	if c.Parse == nil {
		c.Parse = []ingest.Option{ingest.WithSyslogLibrary(true)}
	}
}

// Batch is a run of accepted messages, archived and parsed. Events (and
// their Raw lines) are valid only during the handler call. Stats counts the
// batch's lines; malformed samples carry their line number in the segment.
type Batch struct {
	ingest.Batch
	Segment string // the archive segment holding the batch's lines ("" without archive)
	End     int64  // the segment's size after them
}

// Handler receives batches from one goroutine, in arrival order, each
// strictly after its lines were written to the archive.
type Handler func(*Batch)

// Server is a running syslog receiver. Its methods are safe for concurrent
// use.
type Server struct {
	cfg        Config
	handler    Handler
	c          *counters
	queue      chan *chunk
	queued     atomic.Int64 // memory of the messages in queue (msgCost)
	queuedMsgs atomic.Int64 // … and their number
	pressed    atomic.Int64 // when a reader last found a backlog (unix ns)
	arch       *archive

	udp       *net.UDPConn
	tcp, tlsL net.Listener
	tlsConf   *tls.Config
	rcvReq    int
	rcvGot    int
	udpInode  string

	ctx     context.Context
	cancel  context.CancelFunc
	started atomic.Bool
	done    chan struct{}
	once    sync.Once
	runErr  error

	connMu sync.Mutex
	conns  map[net.Conn]struct{}

	archMu    sync.Mutex
	archErr   error // the first archive error: Run's
	archLast  error // the last one: Stats'
	archDown  atomic.Bool
	archSince atomic.Int64  // when the archive last failed (unix ns)
	archRetry time.Duration // how often a failing archive is tried again
	started0  time.Time
}

// allowed reports whether addr may send.
func (s *Server) allowed(addr netip.Addr) bool {
	if s.cfg.AllowAny {
		return true
	}
	addr = addr.Unmap()
	for _, p := range s.cfg.Allow {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// reject counts a refused datagram or connection.
func (s *Server) reject(addr netip.Addr) {
	s.c.rejected.Add(1)
	snd := s.c.sender(addr)
	snd.rejected.Add(1)
	snd.lastSeen.Store(time.Now().UnixNano())
}

// fits reports whether one more message of n bytes fits in the queue
// beside ch, which is about to join it.
func (s *Server) fits(ch *chunk, n int) bool {
	return s.queuedMsgs.Load()+int64(ch.len()+1) <= int64(s.cfg.Queue) &&
		s.queued.Load()+ch.cost+msgCost(n) <= int64(s.cfg.QueueBytes)
}

// enqueue hands ch to the consumer without waiting (UDP): the readers
// admitted its messages with fits, so the channel, which has room for
// Queue chunks of one message at least, is never full.
func (s *Server) enqueue(ch *chunk) {
	n := int64(ch.len())
	if n == 0 {
		putChunk(ch)
		return
	}
	s.queued.Add(ch.cost)
	s.queuedMsgs.Add(n)
	select {
	case s.queue <- ch:
	default:
		s.queued.Add(-ch.cost)
		s.queuedMsgs.Add(-n)
		s.c.dropped.Add(n)
		putChunk(ch)
	}
}

// enqueueWait hands ch to the consumer, first waiting while the queue
// holds an eighth of its budget (TCP and TLS backpressure): a deep queue
// only makes a TCP sender's backlog cost memory, and the rest stays free
// for UDP bursts, which cannot wait. The consumer runs until every reader
// has returned.
func (s *Server) enqueueWait(ch *chunk) {
	n := int64(ch.len())
	if n == 0 {
		putChunk(ch)
		return
	}
	for s.queued.Load() > 0 && (s.queued.Load()+ch.cost > int64(s.cfg.QueueBytes)/8 ||
		s.queuedMsgs.Load()+n > int64(s.cfg.Queue)/8) {
		s.press()
		time.Sleep(time.Millisecond)
	}
	s.queued.Add(ch.cost)
	s.queuedMsgs.Add(n)
	s.queue <- ch
}

// busyFor is how long after a reader last found a backlog the server counts
// as busy.
const busyFor = time.Second

// busyRate is the message rate above which the server counts as busy: at
// 165,000 messages a second on two cores shared with the sender, gzipping
// the archive took a sixth of the listener's CPU and the socket buffer
// overflowed now and then; at 50,000 it takes about 3% of one core.
const busyRate = 50_000

// press records that a reader found a backlog: a full recvmmsg batch, or a
// TCP sender waiting for the queue.
func (s *Server) press() { s.pressed.Store(time.Now().UnixNano()) }

// busy reports whether messages arrive faster than busyRate or a reader
// found a backlog within busyFor: work that can wait (compression) should.
func (s *Server) busy() bool {
	return time.Now().UnixNano()-s.pressed.Load() < int64(busyFor) || s.c.rate() >= busyRate
}

// Addrs are the addresses a Server listens on (nil when off).
type Addrs struct {
	UDP, TCP, TLS net.Addr
}
