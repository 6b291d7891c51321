package demo

import (
	"bufio"
	"io"
	"math"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

func newGen(w io.Writer, cfg Config, v vendor, wr wrapper) *gen {
	r := newRNG(cfg.Seed)
	return &gen{
		cfg:     cfg,
		v:       v,
		wrap:    wr,
		hasHost: wrapHasHost(wr),
		w:       newWorld(v, r),
		r:       r,
		sched:   newSchedule(cfg.Start.UTC(), cfg.Days, cfg.Sessions),
		bw:      bufio.NewWriterSize(w, 256<<10),
		open:    make(map[tupleKey]struct{}),
		truth:   make(map[convKey]*agg),
		line:    make([]byte, 0, 1024),
		inner:   make([]byte, 0, 1024),
		latest:  math.MinInt64,
	}
}

func (g *gen) run() error {
	for i := 0; i < g.cfg.Sessions; i++ {
		u := g.r.float()
		if i == 0 {
			u = 0 // the first session starts at cfg.Start
		}
		t := max(g.sched.at(i, u), g.prevStart)
		g.prevStart = t
		if err := g.drain(t); err != nil {
			return err
		}
		g.startSession(t)
	}
	if err := g.drain(math.MaxInt64); err != nil {
		return err
	}
	return g.bw.Flush()
}

// startSession simulates a new connection starting at t and queues the first
// line of each enforcement point that logs it.
func (g *gen) startSession(t int64) {
	s := g.alloc()
	s.start = t
	for try := 0; ; try++ {
		k := kindTable[g.r.intn(len(kindTable))]
		if try >= 16 { // ICMP pairs all busy: a DNS query always finds a free port
			k = kDNS
		}
		g.draw(s, k)
		if g.reserve(s) {
			break
		}
	}
	g.setSides(s)
	g.record(s)
	last := g.lastStage(s)
	for i := 0; i < s.nsides; i++ {
		g.q.push(entry{at: s.at(i, 0, last), seq: g.nextSeq(), s: s, side: uint8(i)})
	}
	g.sum.Sessions++
}

// drain writes every queued line whose time is at or before t.
func (g *gen) drain(t int64) error {
	for len(g.q) > 0 && g.q[0].at <= t {
		e := g.q[0]
		if err := g.emit(&e); err != nil {
			return err
		}
		s := e.s
		if last := g.lastStage(s); int(e.stage) < last {
			e.stage++
			e.at = s.at(int(e.side), int(e.stage), last)
			e.seq = g.nextSeq()
			g.q.replaceTop(e)
			continue
		}
		g.q.replaceTop(entry{})
		s.pending--
		if s.pending == 0 {
			g.release(s)
		}
	}
	return nil
}

func (g *gen) emit(e *entry) error {
	g.line = g.appendLine(g.line[:0], e)
	if _, err := g.bw.Write(g.line); err != nil {
		return err
	}
	if g.sum.Lines == 0 {
		g.sum.First = time.Unix(0, e.at).UTC()
	}
	g.sum.Lines++
	if g.written > g.latest {
		g.latest = g.written
		g.sum.Last = time.Unix(0, g.latest).UTC()
	}
	return nil
}

func (g *gen) nextSeq() uint64 {
	g.seq++
	return g.seq
}

// reserve gives s a source port such that its 5-tuple is not in use by an
// open session, and marks it in use. It reports false when it found none
// (always for a busy ICMP pair, which has no port to change).
func (g *gen) reserve(s *session) bool {
	k := tupleKey{src: s.src, dst: s.dst, dport: s.dport, proto: s.proto}
	tries := 1
	if s.proto != ingest.ProtoICMP {
		tries = 8
	}
	for range tries {
		if s.proto != ingest.ProtoICMP {
			k.sport = uint16(32768 + g.r.intn(61000-32768))
		}
		if _, busy := g.open[k]; !busy {
			g.open[k] = struct{}{}
			s.sport = k.sport
			return true
		}
	}
	return false
}

func (g *gen) alloc() *session {
	if n := len(g.free); n > 0 {
		s := g.free[n-1]
		g.free = g.free[:n-1]
		return s
	}
	return new(session)
}

func (g *gen) release(s *session) {
	delete(g.open, tupleKey{src: s.src, dst: s.dst, sport: s.sport, dport: s.dport, proto: s.proto})
	g.free = append(g.free, s)
}
