package demo

import (
	"github.com/flowsleuth/flowsleuth/ingest"
)

// The traffic mix: which sessions happen, how big and how long they are, and
// what each enforcement point logs about them.

const (
	kHTTPS        kind = iota // internet client → web 443
	kHTTP                     // internet client → web 80
	kWebApp                   // web → app 8080
	kAppDB                    // app → database 3306/5432
	kDNS                      // VM → domain controller 53/udp
	kNTP                      // VM → NTP 123/udp
	kLDAP                     // web/app → domain controller 389
	kKerberos                 // VM → domain controller 88/udp or tcp
	kBackup                   // backup server → app/database agent 9102
	kSNMP                     // monitoring → VM 161/udp
	kNodeExporter             // monitoring → VM 9100
	kPing                     // monitoring → VM ICMP
	kAppDBPing                // app → database ICMP health check
	kUpdates                  // web → internet update server 443
	kScan                     // scanner → web, unanswered SYNs to many ports
	kWebDB                    // web → database directly: Nutanix drops it
	kPartnerAPI               // partner system → app 8443 (the partners' API)
	kPartnerFiles             // partner system → app 8444 (their file exchange)
	kAdminSSH                 // administrator → any VM 22
	kAdminConsole             // administrator → any VM 9090 (web console)
	numKinds
)

var kindWeight = [numKinds]int{
	kHTTPS: 200, kHTTP: 40, kWebApp: 180, kAppDB: 160, kDNS: 170, kNTP: 20, kLDAP: 30,
	kKerberos: 20, kBackup: 5, kSNMP: 40, kNodeExporter: 40, kPing: 35, kAppDBPing: 10,
	kUpdates: 15, kScan: 30, kWebDB: 5, kPartnerAPI: 50, kPartnerFiles: 15, kAdminSSH: 25, kAdminConsole: 12,
}

// kindTable maps a number in [0, total weight) to a kind.
var kindTable = func() []kind {
	var t []kind
	for k, w := range kindWeight {
		for range w {
			t = append(t, kind(k))
		}
	}
	return t
}()

// shape is the size and length of a kind of session. TCP sizes are payload
// bytes per direction for the whole session; UDP and ICMP sizes are per
// packet, with n exchanges.
type shape struct {
	req, resp span // bytes
	dur       span // seconds of activity
	n         [2]int
}

var (
	shapeWeb     = shape{req: span{200, 3000}, resp: span{1500, 2e6}, dur: span{0.2, 120}}
	shapeWebApp  = shape{req: span{200, 8000}, resp: span{300, 3e5}, dur: span{0.02, 300}}
	shapeAppDB   = shape{req: span{100, 5e4}, resp: span{200, 5e6}, dur: span{1, 1800}}
	shapeLDAP    = shape{req: span{150, 2000}, resp: span{300, 2e4}, dur: span{0.05, 60}}
	shapeKrbTCP  = shape{req: span{1200, 2500}, resp: span{1300, 3000}, dur: span{0.01, 0.2}}
	shapeBackup  = shape{req: span{2e3, 5e4}, resp: span{5e7, 4e9}, dur: span{120, 2700}}
	shapeNodeExp = shape{req: span{150, 250}, resp: span{5e3, 6e4}, dur: span{0.01, 0.5}}
	shapeUpdates = shape{req: span{500, 5000}, resp: span{1e4, 8e7}, dur: span{0.5, 300}}
	shapeDBQuery = shape{req: span{100, 2000}, resp: span{200, 2e4}, dur: span{0.05, 5}}
	shapeDNS     = shape{req: span{30, 60}, resp: span{60, 450}, n: [2]int{1, 1}}
	shapeNTP     = shape{req: span{48, 48}, resp: span{48, 48}, n: [2]int{1, 1}}
	shapeKrbUDP  = shape{req: span{200, 1400}, resp: span{300, 1400}, n: [2]int{1, 2}}
	shapeSNMP    = shape{req: span{40, 90}, resp: span{60, 1400}, n: [2]int{1, 20}}
	shapePing    = shape{req: span{56, 56}, resp: span{56, 56}, n: [2]int{1, 5}}
)

const second = int64(1e9)

// draw fills s with a session of kind k starting at s.start.
func (g *gen) draw(s *session, k kind) {
	w, r := g.w, g.r
	s.kind, s.flags, s.close, s.matchOnly = k, "", "", false
	switch k {
	case kHTTPS, kHTTP:
		s.src, s.dst = w.client(r), pick(r, w.web)
		port := uint16(443)
		if k == kHTTP {
			port = 80
		}
		g.tcp(s, port, &shapeWeb)
		s.length, s.flags = clientSYN(s.src)
	case kWebApp:
		s.src, s.dst = pick(r, w.web), pick(r, w.app)
		g.tcp(s, 8080, &shapeWebApp)
	case kAppDB:
		s.src, s.dst = pick(r, w.app), pick(r, w.db)
		g.tcp(s, w.vmOf(s.dst).dbPort, &shapeAppDB)
	case kDNS:
		s.src, s.dst = pick(r, w.vmEPs), pick(r, w.dcs)
		g.udp(s, 53, &shapeDNS)
	case kNTP:
		s.src, s.dst = pick(r, w.vmEPs), w.ntp
		g.udp(s, 123, &shapeNTP)
	case kLDAP:
		s.src, s.dst = pick(r, w.vmEPs[:len(w.web)+len(w.app)]), pick(r, w.dcs)
		g.tcp(s, 389, &shapeLDAP)
	case kKerberos:
		s.src, s.dst = pick(r, w.vmEPs), pick(r, w.dcs)
		if r.chance(0.7) {
			g.udp(s, 88, &shapeKrbUDP)
		} else {
			g.tcp(s, 88, &shapeKrbTCP)
		}
	default:
		g.drawMore(s, k)
	}
}

func (g *gen) drawMore(s *session, k kind) {
	w, r := g.w, g.r
	switch k {
	case kBackup:
		s.src, s.dst = w.backup, pick(r, w.vmEPs[len(w.web):])
		g.tcp(s, 9102, &shapeBackup)
	case kSNMP:
		s.src, s.dst = w.monitor, pick(r, w.vmEPs)
		g.udp(s, 161, &shapeSNMP)
	case kNodeExporter:
		s.src, s.dst = w.monitor, pick(r, w.vmEPs)
		g.tcp(s, 9100, &shapeNodeExp)
	case kPing:
		s.src, s.dst = w.monitor, pick(r, w.vmEPs)
		g.icmp(s)
	case kAppDBPing:
		s.src, s.dst = pick(r, w.app), pick(r, w.db)
		g.icmp(s)
	case kUpdates:
		s.src, s.dst = pick(r, w.web), pick(r, w.updates)
		g.tcp(s, 443, &shapeUpdates)
	case kScan:
		s.src, s.dst = pick(r, w.scanners), pick(r, w.web)
		g.synOnly(s, w.scanPorts[r.intn(len(w.scanPorts))], 44, 1)
	case kWebDB:
		s.src, s.dst = pick(r, w.web), pick(r, w.db)
		if g.v == vNutanix { // dropped by App Isolation: the SYNs are retried, then time out
			g.synOnly(s, w.vmOf(s.dst).dbPort, 60, 3)
		} else {
			g.tcp(s, w.vmOf(s.dst).dbPort, &shapeDBQuery)
		}
	case kPartnerAPI, kPartnerFiles:
		s.src, s.dst = skewed(r, w.partners), pick(r, w.app)
		port, sh := uint16(8443), &shapeWebApp
		if k == kPartnerFiles {
			port, sh = 8444, &shapeUpdates
		}
		g.tcp(s, port, sh)
	case kAdminSSH, kAdminConsole:
		s.src, s.dst = pick(r, w.admins), pick(r, w.vmEPs)
		port := uint16(22)
		if k == kAdminConsole {
			port = 9090
		}
		g.tcp(s, port, &shapeLDAP)
	}
}

// clientSYN returns the SYN length and flags of an internet client's stack.
func clientSYN(ep int32) (uint16, string) {
	switch {
	case ep%7 == 0:
		return 52, "SEW"
	case ep%3 == 0:
		return 52, "S"
	}
	return 60, "S"
}

func (g *gen) tcp(s *session, port uint16, sh *shape) {
	r := g.r
	s.proto, s.dport = ingest.ProtoTCP, port
	q, a := uint64(r.logU(sh.req)), uint64(r.logU(sh.resp))
	rp := 2 + (a+1447)/1448
	op := 3 + (q+1447)/1448 + rp/2
	s.orig = counter{op, op*52 + q}
	s.reply = counter{rp, rp*52 + a}
	s.active = int64(r.logU(sh.dur) * 1e9)
	s.end = s.start + s.active + int64(r.intn(int(second)))
	s.length, s.flags, s.close = 60, "S", "FIN"
	if r.chance(0.12) {
		s.close = "RST"
	}
}

func (g *gen) udp(s *session, port uint16, sh *shape) {
	r := g.r
	s.proto, s.dport = ingest.ProtoUDP, port
	n := uint64(r.between(sh.n[0], sh.n[1]))
	q, a := uint64(r.logU(sh.req)), uint64(r.logU(sh.resp))
	s.orig = counter{n, n * (28 + q)}
	s.reply = counter{n, n * (28 + a)}
	s.length = uint16(28 + q)
	s.active = int64(n) * int64(r.between(1, 80)) * 1e6
	s.end = s.start + s.active + 30*second
}

func (g *gen) icmp(s *session) {
	n := uint64(g.r.between(shapePing.n[0], shapePing.n[1]))
	s.proto, s.dport = ingest.ProtoICMP, 0
	s.orig = counter{n, n * 84}
	s.reply = counter{n, n * 84}
	s.length = 84
	s.active = int64(n-1)*second + int64(g.r.between(1, 5))*1e6
	s.end = s.start + s.active + 20*second
}

// synOnly is a TCP connection attempt that is never answered: up to maxSYN
// SYNs of length bytes (retried after 1, 2, 4 s), then a timeout.
func (g *gen) synOnly(s *session, port, length uint16, maxSYN int) {
	n := g.r.between(1, maxSYN)
	s.proto, s.dport = ingest.ProtoTCP, port
	s.orig = counter{uint64(n), uint64(n) * uint64(length)}
	s.reply = counter{}
	s.length, s.flags, s.close = length, "S", "TIMEOUT"
	s.active = int64(1<<(n-1)-1)*second + int64(g.r.intn(1000))*1e3
	s.end = s.start + s.active + 30*second
}

// setSides decides which enforcement points log s and what they log.
func (g *gen) setSides(s *session) {
	s.nsides = 0
	if m := g.w.eps[s.src].vm; m >= 0 {
		g.addSide(s, m, true)
	}
	if m := g.w.eps[s.dst].vm; m >= 0 {
		g.addSide(s, m, false)
	}
	s.nupd = 0
	if g.v == vNutanix {
		s.nupd = min(3, int(s.active/(45*second)))
	}
	s.pending = s.nsides
}

func (g *gen) addSide(s *session, m int32, out bool) {
	sd := &s.sides[s.nsides]
	*sd = side{vm: m, out: out}
	if s.nsides > 0 { // the packet reaches the second enforcement point a little later
		sd.off = int64(g.r.between(100, 900)) * 1e3
	}
	s.nsides++
	group := g.w.vms[m].group
	if g.v != vNutanix {
		sd.tag, sd.rule, sd.action = group, g.w.rules[group], ingest.ActionAllow
		if s.kind == kScan && blockedPort(s.dport) {
			sd.rule, sd.action, s.matchOnly = g.w.dropRule, ingest.ActionDrop, true
		}
		return
	}
	if group != groupDB {
		sd.tag, sd.action = policyDiscover, ingest.ActionMonitor
		return
	}
	sd.tag, sd.action = policyIsolation, ingest.ActionAllow
	switch s.kind {
	case kAppDB, kAppDBPing:
		sd.descr = "R1 (App to DB)"
	case kBackup:
		sd.descr = "R2 (Backup to DB)"
	case kSNMP, kNodeExporter, kPing:
		sd.descr = "R3 (Monitoring)"
	case kWebDB: // like the real samples, a DROP line names an unrelated rule
		sd.descr, sd.action = "R1 (App to DB)", ingest.ActionDrop
	case kAdminSSH, kAdminConsole:
		sd.descr = "R5 (Administration)"
	default:
		sd.descr = "R4 (Infrastructure services)"
	}
}

// lastStage is the index of a side's last line: Nutanix [New], [Update]…,
// [Destroy]; NSX match, TERM (none after a dropped first packet).
func (g *gen) lastStage(s *session) int {
	switch {
	case g.v == vNutanix:
		return s.nupd + 1
	case s.matchOnly:
		return 0
	}
	return 1
}

// at returns the time of a side's line.
func (s *session) at(side, stage, last int) int64 {
	t := s.start
	switch {
	case stage > 0 && stage == last:
		t = s.end
	case stage > 0:
		t = s.start + s.active*int64(stage)/int64(s.nupd+1)
	}
	return t + s.sides[side].off
}
