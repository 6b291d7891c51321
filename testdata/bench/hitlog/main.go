// Command hitlog writes a benchmark corpus of Nutanix Flow policy hit logs
// or NSX DFW packet logs that does not come from FlowSleuth's own demo
// generator (ingest/demo), with its own truth: the conversations its
// lines describe. It is written from the line grammar of log-formats.md
// alone, shares no code with FlowSleuth, and shapes its input otherwise:
//
//   - Nutanix: lines of about 310 bytes (the rsyslog forward form, a
//     DESCRIPTION on enforced policies), 2.5 lines per session, and two
//     sessions in three that end without a [Destroy] line: they simply stop
//     being logged, as with periodic hit logs. A connection between two
//     monitored VMs is logged by both hosts. No 5-tuple is used twice.
//   - Nutanix -short: lines of about 200 bytes, the payload only (syslog
//     header stripped, as in log-formats.md 4.1 [4], [5]), no DESCRIPTION.
//   - NSX (-vendor nsx): match and TERM lines, pings between the same two
//     hosts that overlap in time (ICMP carries no ports: identical keys), a
//     few sessions whose TERM line is never logged, dropped first packets.
//
// Between two lines of one connection the generator never waits longer than
// the vendor's idle timer of the connection's state allows (Linux conntrack
// on AHV; the NSX DFW session timers), so a tracker that ages connections out
// by those timers must count exactly the truth.
//
// Usage:
//
//	go run ./testdata/bench/hitlog -sessions 2000000 -out FILE -truth FILE.csv
//
// The truth CSV has the columns src,dst,proto,dport,sessions,packets,bytes
// (packets and bytes in both directions), sorted; testdata/bench/truth.sh
// compares it with `flowsleuth flows --format csv` and with an independent
// awk count (sessions.awk).
package main

import (
	"bufio"
	"container/heap"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"time"
)

func main() {
	vendor := flag.String("vendor", "nutanix", "nutanix or nsx")
	sessions := flag.Int("sessions", 2_000_000, "connections to simulate")
	hours := flag.Float64("hours", 36, "hours the sessions start over")
	seed := flag.Uint64("seed", 1, "random seed")
	out := flag.String("out", "", "log file to write")
	truth := flag.String("truth", "", "truth CSV to write (optional)")
	short := flag.Bool("short", false, "Nutanix lines of about 200 bytes: the payload only (log-formats.md 4.1 [4], [5]), no DESCRIPTION")
	flag.Parse()
	if *out == "" || (*vendor != "nutanix" && *vendor != "nsx") {
		flag.Usage()
		os.Exit(2)
	}
	g := newGen(*vendor == "nsx", *seed, *hours)
	g.short = *short
	if err := g.run(*out, *sessions); err != nil {
		fmt.Fprintln(os.Stderr, "hitlog:", err)
		os.Exit(1)
	}
	if *truth != "" {
		if err := g.writeTruth(*truth); err != nil {
			fmt.Fprintln(os.Stderr, "hitlog:", err)
			os.Exit(1)
		}
	}
	fmt.Fprintf(os.Stderr, "hitlog: %d sessions, %d lines, %d conversations, %d sessions never closed\n",
		*sessions, g.lines, len(g.truth), g.unclosed)
}

const (
	tcp  = 6
	udp  = 17
	icmp = 1
)

// Idle timers the generator stays within. AHV: Linux nf_conntrack defaults
// (Documentation/networking/nf_conntrack-sysctl.rst): TCP established 5 days,
// SYN_SENT 120 s, UDP 30 s and 120 s once answered. NSX DFW defaults (NSX 4.1
// Administration Guide, "Default Session Timer Values"): TCP established
// 43200 s, UDP 60 s, ICMP 20 s.
const (
	ahvUDPAnswered = 100 * time.Second // < 120 s
	ahvUnanswered  = 25 * time.Second  // < 30 s (UDP), 120 s (TCP SYN_SENT)
	ahvTCPGap      = 4 * time.Hour     // between two [Update] lines of an established connection
	nsxICMPActive  = 90 * time.Second  // a ping's packets; its TERM follows 20 s after the last
)

type endpoint struct {
	addr   string
	host   int // -1: not a monitored VM
	policy int
}

type convKey struct {
	src, dst int32
	proto    uint8
	port     uint16
}

type tally struct{ sessions, packets, bytes uint64 }

// line is one line waiting to be written at its time.
type line struct {
	at   int64 // unix ns
	seq  int64
	text []byte
}

type queue []line

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	return q[i].at < q[j].at || (q[i].at == q[j].at && q[i].seq < q[j].seq)
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(line)) }
func (q *queue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

type gen struct {
	nsx   bool
	short bool // Nutanix payload only: no syslog header, no DESCRIPTION
	r     *rand.Rand
	start int64
	span  float64 // ns the sessions start over
	eps   []endpoint
	vms   []int32 // endpoint indices of monitored VMs, by tier: web, app, db
	web   []int32
	app   []int32
	db    []int32
	peers []int32 // outside clients
	infra []int32 // DNS, NTP
	seqs  map[convKey]uint16
	truth map[convKey]*tally
	q     queue
	seq   int64

	lines, unclosed int64
}

var (
	hosts    = 12
	policies = []struct{ uuid, name, action, descr string }{
		{"6b9c2f0e-3d41-4c7a-9e85-0a1f2b3c4d5e", "Web Tier Monitoring", "MONITOR", ""},
		{"8f2e4a6c-1b3d-4e5f-a7b9-c1d3e5f7a9b1", "Application Isolation Policy", "ALLOW", "App tier from web"},
		{"c3a5e7f9-2b4d-4f6a-8c1e-3a5c7e9b1d3f", "Database Quarantine Policy", "ALLOW", "DB from app tier"},
	}
	nsxTags = []string{"SG-WEB-FRONTEND", "SG-APP-SERVICES", "SG-DATABASE"}
)

func newGen(nsx bool, seed uint64, hours float64) *gen {
	g := &gen{nsx: nsx, r: rand.New(rand.NewPCG(seed, 0x5eed)),
		start: time.Date(2025, 6, 2, 6, 0, 0, 0, time.UTC).UnixNano(), span: hours * float64(time.Hour),
		seqs: make(map[convKey]uint16), truth: make(map[convKey]*tally)}
	add := func(addr string, host, policy int) int32 {
		g.eps = append(g.eps, endpoint{addr, host, policy})
		return int32(len(g.eps) - 1)
	}
	for i := 0; i < 240; i++ {
		tier := 0
		switch {
		case i >= 200:
			tier = 2
		case i >= 120:
			tier = 1
		}
		ep := add(fmt.Sprintf("10.60.%d.%d", 10+tier, 1+i), i%hosts, tier)
		g.vms = append(g.vms, ep)
		switch tier {
		case 0:
			g.web = append(g.web, ep)
		case 1:
			g.app = append(g.app, ep)
		default:
			g.db = append(g.db, ep)
		}
	}
	for i := 0; i < 6000; i++ {
		g.peers = append(g.peers, add(fmt.Sprintf("100.%d.%d.%d", 64+i/60000, i/250%240, 1+i%250), -1, 0))
	}
	for i := 0; i < 4; i++ {
		g.infra = append(g.infra, add(fmt.Sprintf("10.1.0.%d", 10+i), -1, 0))
	}
	return g
}

func (g *gen) pick(s []int32) int32 { return s[g.r.IntN(len(s))] }

// skewed picks from s with a heavy head, as client populations are.
func (g *gen) skewed(s []int32) int32 {
	u := g.r.Float64()
	return s[int(u*u*u*float64(len(s)))]
}

// session is one simulated connection.
type session struct {
	k           convKey
	sport       uint16
	start, life int64     // ns
	orig, reply [2]uint64 // pkts, bytes
	updates     int
	hasNew      bool
	destroyed   bool // Nutanix: a [Destroy] line ends it
	term        bool // NSX: a TERM line ends it
	action      string
}

// draw makes the next connection starting at t.
func (g *gen) draw(t int64) *session {
	s := &session{start: t, action: "PASS"}
	for {
		u := g.r.IntN(100)
		switch {
		case u < 38: // internet client → web 443: each client uses one or two web VMs
			c := g.skewed(g.peers)
			s.k = convKey{src: c, dst: g.web[(int(c)*7+g.r.IntN(2))%len(g.web)], proto: tcp, port: 443}
		case u < 52: // web → app 8443
			s.k = convKey{src: g.pick(g.web), dst: g.pick(g.app), proto: tcp, port: 8443}
		case u < 62: // app → db 5432
			s.k = convKey{src: g.pick(g.app), dst: g.pick(g.db), proto: tcp, port: 5432}
		case u < 84: // VM → DNS
			s.k = convKey{src: g.pick(g.vms), dst: g.infra[g.r.IntN(2)], proto: udp, port: 53}
		case u < 88: // VM → NTP
			s.k = convKey{src: g.pick(g.vms), dst: g.infra[2], proto: udp, port: 123}
		case u < 94 && g.nsx: // monitoring pings: identical keys, overlapping
			s.k = convKey{src: g.infra[3], dst: g.pick(g.vms[:24]), proto: icmp}
		default: // scanners probing one web VM each, never answered
			c := g.pick(g.peers[:16])
			s.k = convKey{src: c, dst: g.web[int(c)%len(g.web)], proto: tcp, port: uint16(1 + g.r.IntN(1024))}
		}
		if s.k.proto == icmp || g.seqs[s.k] < 60000 {
			break
		}
	}
	s.sport = 1024 + g.seqs[s.k] // never the same 5-tuple twice
	g.seqs[s.k]++
	g.shape(s)
	s.term = g.nsx && s.action != "DROP" && g.r.IntN(50) != 0
	return s
}

// shape sets a session's size, life and lines.
func (g *gen) shape(s *session) {
	r := g.r
	logU := func(lo, hi float64) float64 { return lo * math.Exp(r.Float64()*math.Log(hi/lo)) }
	s.destroyed = r.IntN(3) == 0
	s.hasNew = r.IntN(10) < 3
	s.updates = 1
	if r.IntN(10) < 4 {
		s.updates = 2
	}
	switch {
	case s.k.proto == icmp:
		n := uint64(1 + r.IntN(int(nsxICMPActive/time.Second)))
		s.orig, s.reply = [2]uint64{n, 84 * n}, [2]uint64{n, 84 * n}
		s.life = int64(n-1)*int64(time.Second) + int64(r.IntN(1e6))
	case s.k.port < 1024 && s.k.proto == tcp && s.k.port != 443: // a probe
		n := uint64(1 + r.IntN(3))
		s.orig, s.life, s.action = [2]uint64{n, 44 * n}, int64(logU(0.1, 7)*1e9), "DROP"
	case s.k.proto == udp:
		n := uint64(1 + r.IntN(4))
		s.orig, s.reply = [2]uint64{n, n * uint64(60+r.IntN(40))}, [2]uint64{n, n * uint64(80+r.IntN(400))}
		s.life = int64(logU(0.01, 20) * 1e9)
	default:
		q, a := uint64(logU(200, 5e4)), uint64(logU(300, 5e7))
		rp := 2 + a/1448
		op := 3 + q/1448 + rp/2
		s.orig, s.reply = [2]uint64{op, op*52 + q}, [2]uint64{rp, rp*52 + a}
		s.life = int64(logU(0.05, 6*3600) * 1e9)
	}
}

func (g *gen) run(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := 0; i < n; i++ {
		t := g.start + int64((float64(i)+g.r.Float64())/float64(n)*g.span)
		if err := g.flush(w, t); err != nil {
			return err
		}
		s := g.draw(t)
		g.count(s)
		if g.nsx {
			g.nsxLines(s)
		} else {
			g.nutanixLines(s)
		}
	}
	if err := g.flush(w, math.MaxInt64); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// flush writes the queued lines due before t.
func (g *gen) flush(w *bufio.Writer, t int64) error {
	for len(g.q) > 0 && g.q[0].at < t {
		l := heap.Pop(&g.q).(line)
		if _, err := w.Write(l.text); err != nil {
			return err
		}
		g.lines++
	}
	return nil
}

func (g *gen) push(at int64, text []byte) {
	g.seq++
	heap.Push(&g.q, line{at: at, seq: g.seq, text: text})
}

// count adds s to the truth: one session, whatever logged it.
func (g *gen) count(s *session) {
	t := g.truth[s.k]
	if t == nil {
		t = &tally{}
		g.truth[s.k] = t
	}
	t.sessions++
	if g.nsx && !s.term {
		return // a match line alone (a dropped first packet, a lost TERM): no counters
	}
	t.packets += s.orig[0] + s.reply[0]
	t.bytes += s.orig[1] + s.reply[1]
}

// sides returns the monitored ends that log s: the source's host
// (OUTBOUND) and the destination's (INBOUND).
func (g *gen) sides(s *session) (out []bool) {
	if g.eps[s.k.src].host >= 0 {
		out = append(out, true)
	}
	if g.eps[s.k.dst].host >= 0 {
		out = append(out, false)
	}
	return out
}

// nutanixLines queues a session's hit-log lines at each side: an optional
// [New], one or two [Update]s with cumulative counters, and a [Destroy] for
// one session in three. An unanswered connection is logged within the
// conntrack's 30 s, an answered UDP one within 120 s; an established TCP
// connection may be silent for hours.
func (g *gen) nutanixLines(s *session) {
	gap := int64(ahvTCPGap)
	switch {
	case s.reply[0] == 0:
		gap = int64(ahvUnanswered)
	case s.k.proto == udp:
		gap = int64(ahvUDPAnswered)
	}
	var events []string
	if s.hasNew {
		events = append(events, "New")
	}
	for range s.updates {
		events = append(events, "Update")
	}
	if s.destroyed {
		events = append(events, "Destroy")
	}
	life := min(s.life, gap*int64(len(events)-1))
	counted := len(events) // lines with counters: all but [New]
	if s.hasNew {
		counted--
	}
	for i, out := range g.sides(s) {
		off := int64(i) * int64(200+g.r.IntN(800)) * 1000 // the second host logs a little later
		n := 0
		for j, ev := range events {
			at := s.start + off
			if len(events) > 1 {
				at += life * int64(j) / int64(len(events)-1)
			}
			if ev != "New" {
				n++
			}
			g.push(at, g.nutanixLine(s, out, at, ev, n, counted))
		}
	}
	if !s.destroyed {
		g.unclosed++
	}
}

// nutanixLine formats one hit-log line in the rsyslog forward form
// (log-formats.md §1, §2.2), counters at fraction num/den of the final ones.
func (g *gen) nutanixLine(s *session, out bool, at int64, event string, num, den int) []byte {
	src, dst := &g.eps[s.k.src], &g.eps[s.k.dst]
	side := dst
	dir := "INBOUND"
	if out {
		side, dir = src, "OUTBOUND"
	}
	p := policies[side.policy]
	action := p.action
	if s.action == "DROP" && action != "MONITOR" {
		action = "DROP"
	}
	header := at + int64(1+g.r.IntN(4))*int64(time.Second) + int64(g.r.IntN(1e6))*1000
	b := make([]byte, 0, 360)
	if g.short {
		b = append(b, "INFO:"...)
	} else {
		b = append(b, "<134>"...)
		b = time.Unix(0, header).UTC().AppendFormat(b, "2006-01-02T15:04:05.000000+00:00")
		b = fmt.Appendf(b, " ahv-prod-node-%02d Genesis_%d: INFO:", side.host+1, g.r.IntN(4))
	}
	b = time.Unix(0, at).UTC().AppendFormat(b, "2006/01/02 15:04:05")
	b = fmt.Appendf(b, "  [%s] %s [%s] SRC=%s DST=%s PROTO=%s SPORT=%d DPORT=%d ACTION=%s DIRECTION=%s",
		p.uuid, p.name, event, src.addr, dst.addr, protoName(s.k.proto), s.sport, s.k.port, action, dir)
	if num > 0 {
		// An answered connection shows a reply in every report: conntrack
		// drops one still unanswered after 120 s (TCP) or 30 s (UDP).
		frac := func(v uint64) uint64 { return max(min(v, 1), v*uint64(num)/uint64(den)) }
		b = fmt.Appendf(b, " ORIG: PKTS=%d BYTES=%d REPLY: PKTS=%d BYTES=%d",
			frac(s.orig[0]), frac(s.orig[1]), frac(s.reply[0]), frac(s.reply[1]))
	}
	if p.descr != "" && !g.short {
		b = append(b, " DESCRIPTION="...)
		b = append(b, p.descr...)
	}
	return append(b, '\n')
}

// nsxLines queues a session's DFW lines at each vNIC filter: a match line
// for its first packet, and a TERM line with the counters when the session
// times out or closes, within the DFW's idle timer. A dropped first packet
// has no TERM; one session in fifty loses its TERM line.
func (g *gen) nsxLines(s *session) {
	idle := int64(0)
	switch s.k.proto {
	case icmp:
		idle = int64(20*time.Second) - int64(g.r.IntN(1e9))
	case udp:
		idle = int64(60*time.Second) - int64(g.r.IntN(30e9))
	default:
		idle = int64(g.r.IntN(2e9)) // TCP closes with FIN or RST
	}
	for i, out := range g.sides(s) {
		off := int64(i) * int64(100+g.r.IntN(900)) * 1000
		g.push(s.start+off, g.nsxLine(s, out, s.start+off, false))
		if s.term {
			at := s.start + off + s.life + idle
			g.push(at, g.nsxLine(s, out, at, true))
		}
	}
	if !s.term {
		g.unclosed++
	}
}

// nsxLine formats a DFW packet log line in the ESXi forward form
// (log-formats.md §1, §3.1): NSX-T 3 with a filter hash and a rule tag.
func (g *gen) nsxLine(s *session, out bool, at int64, term bool) []byte {
	src, dst := &g.eps[s.k.src], &g.eps[s.k.dst]
	side := dst
	dir := "IN"
	if out {
		side, dir = src, "OUT"
	}
	tag := nsxTags[side.policy]
	rule := 4100 + side.policy
	if s.action == "DROP" {
		tag, rule = "SG-DENY-PROBES", 4999
	}
	b := make([]byte, 0, 200)
	b = append(b, "<14>"...)
	b = time.Unix(0, at).UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	b = fmt.Appendf(b, " esxi-prod-%02d FIREWALL_PKTLOG: %08x INET ", side.host+1, 0x5a000000+int(side.addr[len(side.addr)-1])*7919)
	if term {
		b = fmt.Appendf(b, "TERM %s %d %s %s", s.action, rule, dir, protoName(s.k.proto))
		if s.k.proto == tcp {
			b = append(b, " FIN"...)
		}
	} else {
		length := 60
		switch s.k.proto {
		case icmp:
			length = 84
		case udp:
			length = 28 + int(s.orig[1]/max(s.orig[0], 1))
		}
		b = fmt.Appendf(b, "match %s %d %s %d %s", s.action, rule, dir, length, protoName(s.k.proto))
	}
	if s.k.proto == icmp {
		b = fmt.Appendf(b, " %s->%s", src.addr, dst.addr)
	} else {
		b = fmt.Appendf(b, " %s/%d->%s/%d", src.addr, s.sport, dst.addr, s.k.port)
	}
	switch {
	case term:
		b = fmt.Appendf(b, " %d/%d %d/%d", s.orig[0], s.reply[0], s.orig[1], s.reply[1])
	case s.k.proto == tcp:
		b = append(b, " S"...)
	}
	b = append(b, ' ')
	b = append(b, tag...)
	return append(b, '\n')
}

func protoName(p uint8) string {
	switch p {
	case tcp:
		return "TCP"
	case udp:
		return "UDP"
	case icmp:
		return "ICMP"
	}
	return strconv.Itoa(int(p))
}

// writeTruth writes the conversations, sorted by source, destination,
// protocol and port as text.
func (g *gen) writeTruth(path string) error {
	rows := make([]string, 0, len(g.truth))
	for k, t := range g.truth {
		rows = append(rows, fmt.Sprintf("%s,%s,%s,%d,%d,%d,%d", g.eps[k.src].addr, g.eps[k.dst].addr,
			protoName(k.proto), k.port, t.sessions, t.packets, t.bytes))
	}
	sort.Strings(rows)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "src,dst,proto,dport,sessions,packets,bytes")
	for _, r := range rows {
		fmt.Fprintln(w, r)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}
