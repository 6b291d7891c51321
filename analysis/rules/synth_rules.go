package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/services"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// A bucket holds the conversations of one direction, protocol and port
// between a fixed side (a group, or an address that is never generalised)
// and a peer side whose addresses may be collapsed.
type bucketKey struct {
	dir      ingest.Direction
	proto    uint8
	port     uint16
	peer     int8    // -1: both sides fixed; 0: the destination is the peer; 1: the source is
	src, dst sideKey // the fixed sides (the peer side is left zero)
}

// sideKey identifies a fixed side: a group number, or (group -1) an
// address, by its number (groups.src).
type sideKey struct {
	group int32
	addr  int32
}

type bucket struct {
	key   bucketKey
	first int32 // the bucket's first conversation (index in keep): its ends are the fixed sides
	n     int32 // conversations
	at    int32 // where its rows start in buckets.rows (keep is numbered by int32: 36 bytes a bucket, not 48)
}

// buckets are the buckets in the order of their first conversation, the
// bucket of each kept conversation, the rows of each bucket (back to back,
// in the order met: the peer side's addresses are theirs), and the VM names
// of peers (for naming IP sets; nil without an inventory).
type buckets struct {
	list []bucket
	of   []int32
	rows []int32
	vms  map[netip.Addr]string
	t    *analysis.Table
	keep []int32
	g    *groups
}

// fileBuckets files the kept conversations. The peer side is the one outside
// the scope that is a plain address (outbound: the destination; inbound:
// the source; intra: none). It lets go of g's sides of the conversations
// (two int32 of each: 8 MB of a million, while the rules are made): the
// buckets' keys hold those of their fixed sides.
func fileBuckets(t *analysis.Table, keep []int32, dirs []ingest.Direction, g *groups) buckets {
	bs := buckets{of: make([]int32, len(keep)), t: t, keep: keep, g: g}
	index := make(map[bucketKey]int32)
	for j, row := range keep {
		i := int(row)
		srcGroup, srcAddr := sideOf(g.src[j])
		dstGroup, dstAddr := sideOf(g.dst[j])
		k := bucketOf(t, i, dirs[j], srcGroup, dstGroup, srcAddr, dstAddr)
		b, ok := index[k]
		if !ok {
			b = int32(len(bs.list))
			index[k] = b
			bs.list = append(bs.list, bucket{key: k, first: int32(j)})
		}
		bk := &bs.list[b]
		bk.n++
		switch {
		case k.peer == 0 && t.DstLabel(i) != 0:
			bs.nameVM(t.Dst(i), t.VMLabelOf(t.DstLabel(i)).VM)
		case k.peer == 1 && t.SrcLabel(i) != 0:
			bs.nameVM(t.Src(i), t.VMLabelOf(t.SrcLabel(i)).VM)
		}
		bs.of[j] = b
	}
	// The rows of each bucket, back to back: one array, not a list per
	// bucket grown as it fills.
	var at int32
	for b := range bs.list {
		bs.list[b].at = at
		at += bs.list[b].n
	}
	bs.rows = make([]int32, len(keep))
	next := make([]int32, len(bs.list))
	for j, b := range bs.of {
		bs.rows[bs.list[b].at+next[b]] = keep[j]
		next[b]++
	}
	g.src, g.dst = nil, nil
	return bs
}

// peerScratch is one core's room for the peers of a bucket (buckets.peers):
// IPv4 addresses as their 32 bits, 4 bytes where a netip.Addr takes 24 (the
// peers of the largest buckets of a million conversations are hundreds of
// thousands), others as they are, and the addresses of one /24.
type peerScratch struct {
	v4  []uint32
	v6  []netip.Addr
	net []netip.Addr
}

// peers fills sc with the addresses of a bucket's peer side, repeated as met.
func (bs buckets) peers(b *bucket, sc *peerScratch) {
	sc.v4, sc.v6 = sc.v4[:0], sc.v6[:0]
	ip, addr := bs.t.DstIP, bs.t.Dst
	if b.key.peer != 0 {
		ip, addr = bs.t.SrcIP, bs.t.Src
	}
	for _, row := range bs.rows[b.at : b.at+b.n] {
		if _, lo, is4 := ip(int(row)); is4 {
			sc.v4 = append(sc.v4, uint32(lo))
		} else {
			sc.v6 = append(sc.v6, addr(int(row)))
		}
	}
}

// nameVM records the VM name of a peer address.
func (bs *buckets) nameVM(a netip.Addr, vm string) {
	if vm == "" {
		return
	}
	if bs.vms == nil {
		bs.vms = make(map[netip.Addr]string)
	}
	bs.vms[a] = vm
}

// bucketOf returns the key of the bucket of row i of t, given its direction
// relative to the scope, the groups of its ends and their address numbers.
func bucketOf(t *analysis.Table, i int, dir ingest.Direction, srcGroup, dstGroup, srcAddr, dstAddr int32) bucketKey {
	proto, port := t.Proto(i), t.DPort(i)
	if !services.HasPorts(proto) {
		port = 0 // ICMP and portless protocols merge
	}
	k := bucketKey{dir: dir, proto: proto, port: port, peer: -1}
	src, dst := sideKey{group: srcGroup}, sideKey{group: dstGroup}
	if srcGroup < 0 {
		src.addr = srcAddr
	}
	if dstGroup < 0 {
		dst.addr = dstAddr
	}
	switch {
	case dir == ingest.DirOutbound && dstGroup < 0:
		k.peer, k.src = 0, src
	case dir == ingest.DirInbound && srcGroup < 0:
		k.peer, k.dst = 1, dst
	default:
		k.src, k.dst = src, dst
	}
	return k
}

// rules makes a rule of each set of buckets with the same direction,
// endpoints (the peers generalised) and protocol, in the order of their
// first bucket, and returns the rule of each bucket. Then peers become IP
// sets (peerSets), and each rule gets its ID.
func (bs buckets) rules(k Knobs) (rules []*Rule, ruleOf []int32) {
	index := make(map[string]int32)
	ruleOf = make([]int32, len(bs.list))
	var peer []int8 // by rule: its buckets' peer side
	// The ends of a batch of buckets and their rules' keys are made on every
	// core (each bucket's alone: 0.4 s of wstag1m's synthesis on one), then
	// the buckets join their rules in order.
	const batch = 4096
	ends := make([]bucketEnds, min(batch, len(bs.list)))
	for from := 0; from < len(bs.list); from += batch {
		to := min(from+batch, len(bs.list))
		onEveryCoreWith(to-from, 64, func() func(int) {
			var sc peerScratch
			return func(j int) {
				bk := &bs.list[from+j]
				e := &ends[j]
				e.src, e.dst = bs.ends(bk, k, &sc)
				e.key = ruleID(bk.key.dir, e.src, e.dst, bk.key.proto) // the peers' members tell rules apart here
			}
		})
		for b := from; b < to; b++ {
			bk, e := &bs.list[b], &ends[b-from]
			ri, ok := index[e.key]
			if !ok {
				ri = int32(len(rules))
				index[e.key] = ri
				rules = append(rules, &Rule{Direction: bk.key.dir, Src: e.src, Dst: e.dst,
					Service: Service{Proto: bk.key.proto}, Action: ingest.ActionAllow})
				peer = append(peer, bk.key.peer)
			}
			if r := rules[ri]; services.HasPorts(bk.key.proto) {
				r.Service.Ports = addPort(r.Service.Ports, bk.key.port)
			}
			ruleOf[b] = ri
		}
	}
	onEveryCore(len(rules), func(i int) {
		r := rules[i]
		switch peer[i] {
		case 0:
			r.Dst = peerSet(r.Dst, r.Src, r, bs.vms)
		case 1:
			r.Src = peerSet(r.Src, r.Dst, r, bs.vms)
		}
		r.ID = ruleID(r.Direction, r.Src, r.Dst, r.Service.Proto)
	})
	return rules, ruleOf
}

// bucketEnds are the ends of a bucket and the key of its rule.
type bucketEnds struct {
	src, dst Endpoint
	key      string
}

// peerSet turns a rule's generalised peers into the endpoint the vendors
// get: Any and a single prefix stay; hosts and several prefixes become an IP
// set, identified by the rule's direction, other side, protocol and ports
// (so that new members keep the rule's ID), named after its VMs when the
// inventory knows them all, else after the service ("DNS servers",
// "SNMP clients").
func peerSet(peers, fixed Endpoint, r *Rule, vms map[netip.Addr]string) Endpoint {
	if peers.Kind != KindAddresses || (len(peers.Prefixes) == 1 && !peers.Prefixes[0].IsSingleIP()) {
		return peers
	}
	role := "servers"
	if r.Direction == ingest.DirInbound {
		role = "clients"
	}
	id := fmt.Sprintf("%s %s of %s %d/%s", r.Direction, role, fixed.Key(), r.Service.Proto, r.Service.PortList())
	return Endpoint{Name: ipSetName(peers.Prefixes, vms, r.Service, role), Kind: KindIPSet, Group: id,
		Prefixes: peers.Prefixes}
}

// ipSetName names an IP set after its members' VMs when they all have one,
// else a single member after its address, else after what the members do
// when the service has names ("DNS servers", "DNS, Kerberos servers", "SNMP
// clients"), else after its members when they are few.
func ipSetName(members []netip.Prefix, vms map[netip.Addr]string, s Service, role string) string {
	var names []string
	for _, p := range members {
		vm := vms[p.Addr()]
		if !p.IsSingleIP() || vm == "" {
			names = nil
			break
		}
		names = append(names, vm)
	}
	if len(names) > 0 {
		slices.Sort(names)
		return listFirst(slices.Compact(names), 4)
	}
	if len(members) == 1 {
		return addressEndpoint(members).Name
	}
	if n := serviceNames(s); n != "" {
		return n + " " + role
	}
	if len(members) <= 4 {
		return addressEndpoint(members).Name
	}
	return s.Label() + " " + role
}

// serviceNames names a service after its ports: its IANA name, or the
// names of all its ports ("DNS, Kerberos"); "" when a port has none.
func serviceNames(s Service) string {
	if n := serviceName(s); n != "" || !services.HasPorts(s.Proto) {
		return n
	}
	var names []string
	for _, r := range s.Ports {
		for p := int(r.From); p <= int(r.To); p++ {
			n := services.Name(s.Proto, uint16(p))
			if n == "" || len(names) == 8 {
				return ""
			}
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	return strings.Join(names, ", ")
}

// listFirst joins the first n names and says how many more there are.
func listFirst(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}

// fillEvidence gives each rule its conversations, sorted as Compare orders
// them: windows of one array of row numbers, filled bucket by bucket in the
// order of the buckets, as rules met them. The sample lines are those of
// the first conversations in that order, before the sort (left in the
// table: sampleRows says which).
func fillEvidence(t *analysis.Table, rules []*Rule, ruleOf []int32, bs buckets, keep []int32) {
	start := make([]int, len(rules)+1)
	for b := range bs.list {
		start[ruleOf[b]+1] += int(bs.list[b].n)
	}
	for r := range rules {
		start[r+1] += start[r]
	}
	next := slices.Clone(start[:len(rules)])
	at := make([]int, len(bs.list)) // where the bucket's next conversation goes
	for b := range bs.list {
		r := ruleOf[b]
		at[b] = next[r]
		next[r] += int(bs.list[b].n)
	}
	all := make([]int32, len(keep))
	for j, b := range bs.of {
		all[at[b]] = keep[j]
		at[b]++
	}
	evidence := make([][]int32, len(rules))
	for r := range rules {
		evidence[r] = all[start[r]:start[r+1]:start[r+1]] // capped: an append never runs into the next rule's
	}
	for r, rule := range rules {
		rule.Evidence.sampleRows = sampleRows(t, evidence[r])
		sortRows(t, evidence[r])
		rule.Evidence.Rows = evidence[r]
	}
}

// ends returns a bucket's two sides, the peer side generalised.
func (bs buckets) ends(b *bucket, k Knobs, sc *peerScratch) (src, dst Endpoint) {
	j := b.first
	t, i := bs.t, int(bs.keep[j])
	if b.key.peer >= 0 {
		bs.peers(b, sc)
	}
	if b.key.peer == 1 {
		src = generalise(sc, k)
	} else {
		src = bs.g.endpoint(t.Src(i), t.VMLabelOf(t.SrcLabel(i)).VM, b.key.src.group)
	}
	if b.key.peer == 0 {
		dst = generalise(sc, k)
	} else {
		dst = bs.g.endpoint(t.Dst(i), t.VMLabelOf(t.DstLabel(i)).VM, b.key.dst.group)
	}
	return src, dst
}

// generalise turns peer addresses (sc's, repeats allowed) into an
// endpoint: Any above k.AnyPeers distinct peers; else each /24 (IPv4) or
// /64 (IPv6) with at least k.CollapseMin peers becomes the smallest prefix
// holding them when they fill at least k.CollapseCoverage percent of it;
// other peers stay single. It sorts sc's peers.
func generalise(sc *peerScratch, k Knobs) Endpoint {
	slices.Sort(sc.v4)
	v4 := slices.Compact(sc.v4)
	slices.SortFunc(sc.v6, netip.Addr.Compare)
	v6 := slices.Compact(sc.v6)
	if len(v4)+len(v6) > k.AnyPeers {
		return Endpoint{Name: "Any", Kind: KindAny}
	}
	var out []netip.Prefix
	for len(v4) > 0 {
		// Sorted, the peers of one /24 are next to each other.
		n := 1
		for n < len(v4) && v4[n]>>8 == v4[0]>>8 {
			n++
		}
		sc.net = sc.net[:0]
		for _, a := range v4[:n] {
			sc.net = append(sc.net, netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}))
		}
		out = appendPeerNet(out, sc.net, k)
		v4 = v4[n:]
	}
	for len(v6) > 0 {
		net := peerNet(v6[0])
		n := 1
		for n < len(v6) && peerNet(v6[n]) == net {
			n++
		}
		out = appendPeerNet(out, v6[:n], k)
		v6 = v6[n:]
	}
	slices.SortFunc(out, comparePrefix)
	if cap(out) > len(out) { // the rules keep them: without the room append left
		out = append(make([]netip.Prefix, 0, len(out)), out...)
	}
	return addressEndpoint(out)
}

// appendPeerNet appends the prefixes of peers, the sorted distinct peers of
// one network (peerNet): the network collapsed when the rule allows it,
// else each peer.
func appendPeerNet(out []netip.Prefix, peers []netip.Addr, k Knobs) []netip.Prefix {
	if p, ok := collapse(peers, k); ok {
		return append(out, p)
	}
	for _, a := range peers {
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out
}

// peerNet is the network peers are collapsed in: the /24 or the /64.
func peerNet(a netip.Addr) netip.Prefix {
	bits := 24
	if a.Is6() {
		bits = 64
	}
	n, _ := a.Prefix(bits)
	return n
}

// collapse returns the smallest prefix holding addrs if the rule allows it.
func collapse(addrs []netip.Addr, k Knobs) (netip.Prefix, bool) {
	if len(addrs) < k.CollapseMin {
		return netip.Prefix{}, false
	}
	bits := addrs[0].BitLen()
	for ; bits > 0; bits-- {
		p, _ := addrs[0].Prefix(bits)
		if allIn(p, addrs) {
			break
		}
	}
	p, _ := addrs[0].Prefix(bits)
	size := math.Pow(2, float64(addrs[0].BitLen()-bits))
	if float64(len(addrs))*100/size < k.CollapseCoverage {
		return netip.Prefix{}, false
	}
	return p, true
}

func allIn(p netip.Prefix, addrs []netip.Addr) bool {
	for _, a := range addrs {
		if !p.Contains(a) {
			return false
		}
	}
	return true
}

// ruleID is stable across re-synthesis: it hashes what identifies the rule,
// "direction|source key|destination key|protocol".
func ruleID(dir ingest.Direction, src, dst Endpoint, proto uint8) string {
	b := make([]byte, 0, 64)
	b = append(b, dir.String()...)
	b = appendEndpointKey(append(b, '|'), src)
	b = appendEndpointKey(append(b, '|'), dst)
	b = strconv.AppendUint(append(b, '|'), uint64(proto), 10)
	h := sha256.Sum256(b)
	return "r-" + hex.EncodeToString(h[:5])
}
