package analysis

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// finishRule fills a rule's group members, evidence, service name, name and
// description from its conversations.
func finishRule(r *Rule) {
	r.Src = withMembers(r.Src, r.Evidence.Flows, true)
	r.Dst = withMembers(r.Dst, r.Evidence.Flows, false)
	e := &r.Evidence
	hosts := make(map[string]struct{})
	for i := range e.Flows {
		c := &e.Flows[i]
		e.Conversations++
		e.Sessions += c.Sessions
		e.Packets += c.Packets()
		e.Bytes += c.Bytes()
		if !c.First.IsZero() && (e.First.IsZero() || c.First.Before(e.First)) {
			e.First = c.First
		}
		if c.Last.After(e.Last) {
			e.Last = c.Last
		}
		for _, h := range c.Hosts {
			hosts[h] = struct{}{}
		}
		for _, s := range c.Samples {
			if len(e.Samples) < DefaultSamples {
				e.Samples = append(e.Samples, s)
			}
		}
	}
	for h := range hosts {
		e.Hosts = append(e.Hosts, h)
	}
	slices.Sort(e.Hosts)
	slices.SortFunc(e.Flows, Compare)
	r.Service.Name = serviceName(r.Service)
	r.Name = fmt.Sprintf("%s to %s %s", r.Src.Name, r.Dst.Name, r.Service.Label())
	r.Description = describe(r)
}

// withMembers lists the addresses of a group endpoint seen on its side.
func withMembers(e Endpoint, flows []Conversation, src bool) Endpoint {
	if e.Kind != KindGroup {
		return e
	}
	e.Prefixes = nil
	for i := range flows {
		a := flows[i].Dst
		if src {
			a = flows[i].Src
		}
		p := netip.PrefixFrom(a, a.BitLen())
		if !slices.Contains(e.Prefixes, p) {
			e.Prefixes = append(e.Prefixes, p)
		}
	}
	slices.SortFunc(e.Prefixes, comparePrefix)
	return e
}

// serviceName is the IANA name shared by all of a service's ports, or "".
func serviceName(s Service) string {
	if !hasPorts(s.Proto) {
		return ServiceName(s.Proto, 0)
	}
	name := ""
	for _, r := range s.Ports {
		for p := int(r.From); p <= int(r.To); p++ {
			n := ServiceName(s.Proto, uint16(p))
			if n == "" || (name != "" && n != name) {
				return ""
			}
			name = n
		}
	}
	return name
}

// Label renders a service for people: "DNS (53/udp)", "8080, 9000-9001/tcp", "ICMP".
func (s Service) Label() string {
	proto := strings.ToLower(ingest.ProtoName(s.Proto))
	if !hasPorts(s.Proto) {
		if s.Name != "" {
			return s.Name
		}
		return "protocol " + ingest.ProtoName(s.Proto)
	}
	ports := s.PortList() + "/" + proto
	if s.Name != "" {
		return s.Name + " (" + ports + ")"
	}
	return ports
}

// describe writes "Web tier → DNS (53/udp) — 12,431 sessions, 2025-04-10 → 2025-04-17".
func describe(r *Rule) string {
	d := fmt.Sprintf("%s → %s %s — %s sessions", r.Src.Name, r.Dst.Name, r.Service.Label(), Thousands(r.Evidence.Sessions))
	if !r.Evidence.First.IsZero() {
		d += fmt.Sprintf(", %s → %s", r.Evidence.First.Format("2006-01-02"), r.Evidence.Last.Format("2006-01-02"))
	}
	return d
}

// Thousands writes n with thousands separators: 1234567 → "1,234,567".
func Thousands(n uint64) string {
	s := strconv.FormatUint(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Admits reports whether r lets conversation c through.
func (r *Rule) Admits(c *Conversation) bool {
	if c.Proto != r.Service.Proto || !r.Src.Contains(c.Src) || !r.Dst.Contains(c.Dst) {
		return false
	}
	if !hasPorts(c.Proto) {
		return true
	}
	for _, p := range r.Service.Ports {
		if c.DPort >= p.From && c.DPort <= p.To {
			return true
		}
	}
	return false
}

// Contains reports whether a is one of the endpoint's addresses.
func (e Endpoint) Contains(a netip.Addr) bool {
	if e.Kind == KindAny {
		return true
	}
	for _, p := range e.Prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// permissiveness returns the (source, destination, port) combinations the
// rule admits and those it was built from. An Any side counts as the peers
// seen on it.
func (r *Rule) permissiveness() (admitted, observed uint64) {
	seen := make(map[[3]string]struct{})
	srcs, dsts := make(map[netip.Addr]struct{}), make(map[netip.Addr]struct{})
	for i := range r.Evidence.Flows {
		c := &r.Evidence.Flows[i]
		seen[[3]string{c.Src.String(), c.Dst.String(), strconv.Itoa(int(c.DPort))}] = struct{}{}
		srcs[c.Src], dsts[c.Dst] = struct{}{}, struct{}{}
	}
	ports := uint64(1)
	if len(r.Service.Ports) > 0 {
		ports = 0
		for _, p := range r.Service.Ports {
			ports += uint64(p.To-p.From) + 1
		}
	}
	admitted = satMul(satMul(size(r.Src, len(srcs)), size(r.Dst, len(dsts))), ports)
	return max(admitted, uint64(len(seen))), uint64(len(seen))
}

// size counts an endpoint's addresses (saturating: an IPv6 /64 is huge).
func size(e Endpoint, seen int) uint64 {
	if e.Kind == KindAny {
		return uint64(seen)
	}
	var n float64
	for _, p := range e.Prefixes {
		n += math.Pow(2, float64(p.Addr().BitLen()-p.Bits()))
	}
	if n >= math.MaxUint64/2 {
		return math.MaxUint64 / 2
	}
	return uint64(n)
}

func satMul(a, b uint64) uint64 {
	if a != 0 && b > math.MaxUint64/2/a {
		return math.MaxUint64 / 2
	}
	return a * b
}

// compareRules orders rules by direction, source, destination, protocol.
func compareRules(a, b Rule) int {
	return cmp.Or(cmp.Compare(dirRank[a.Direction], dirRank[b.Direction]), cmp.Compare(a.Src.Name, b.Src.Name),
		cmp.Compare(a.Dst.Name, b.Dst.Name), cmp.Compare(a.Service.Proto, b.Service.Proto),
		cmp.Compare(a.Service.PortList(), b.Service.PortList()))
}
