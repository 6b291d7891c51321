package policy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// portRange is an inclusive range of ports.
type portRange struct{ lo, hi uint16 }

// svc is one protocol/port element of a rule's services. A rule matches a
// conversation when any of its svcs does.
type svc struct {
	proto    int16       // IP protocol number; anyProto for every protocol
	ports    []portRange // TCP/UDP destination ports; nil: every port
	icmpType int16       // ICMP/ICMPv6 type; -1: every type
	// srcPorts: the entry also restricts source ports, which conversations
	// do not keep (client ports are dropped): it cannot be decided.
	srcPorts bool
}

const anyProto = -1

// svcAll matches every conversation.
var svcAll = svc{proto: anyProto, icmpType: -1}

// match reports whether s admits c; maybe when it depends on what
// conversations do not record (source ports, an ICMP type logged as 0).
func (s *svc) match(c *flow) (yes, maybe bool) {
	if s.proto != anyProto && s.proto != int16(c.proto) {
		return false, false
	}
	if s.ports != nil {
		if !inPorts(s.ports, c.dport) {
			return false, false
		}
	}
	if s.icmpType >= 0 && isICMP(c.proto) && s.icmpType != int16(c.dport) {
		// The conversation's "port" of ICMP is the type when logged, else 0.
		return false, c.dport == 0
	}
	if s.srcPorts {
		return false, true
	}
	return true, false
}

func isICMP(p uint8) bool { return p == ingest.ProtoICMP || p == ingest.ProtoICMPv6 }

func hasPorts(p uint8) bool { return p == ingest.ProtoTCP || p == ingest.ProtoUDP }

func inPorts(rs []portRange, p uint16) bool {
	for _, r := range rs {
		if p >= r.lo && p <= r.hi {
			return true
		}
	}
	return false
}

// parsePorts reads NSX port values: "443", "8000-8080".
func parsePorts(vals []string) ([]portRange, error) {
	out := make([]portRange, 0, len(vals))
	for _, v := range vals {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(v), "-")
		a, err := strconv.ParseUint(strings.TrimSpace(lo), 10, 16)
		if err != nil {
			return nil, fmt.Errorf("bad port %q", v)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(strings.TrimSpace(hi), 10, 16); err != nil || b < a {
				return nil, fmt.Errorf("bad port range %q", v)
			}
		}
		out = append(out, portRange{uint16(a), uint16(b)})
	}
	return out, nil
}

// portsOf reads Nutanix port ranges: [{"start_port": 80, "end_port": 80}]
// (v3) or [{"startPort": 80, "endPort": 80}] (v4). A missing end is the start.
func portsOf(list []map[string]any, startKey, endKey string) ([]portRange, error) {
	out := make([]portRange, 0, len(list))
	for _, o := range list {
		a, ok := integer(o, startKey)
		b, okb := integer(o, endKey)
		if !okb {
			b = a
		}
		if !ok || a < 0 || b > 65535 || b < a {
			return nil, fmt.Errorf("bad port range %v", o)
		}
		out = append(out, portRange{uint16(a), uint16(b)})
	}
	return out, nil
}

// portSegments are the pieces of the port space that every port-specific
// rule of a protocol either wholly admits or wholly refuses: the candidate
// rules of a port are those of its segment, merged with the rules that admit
// every port of the protocol.
type portSegments struct {
	starts []uint16  // sorted; starts[0] == 0
	rules  [][]int32 // by segment: the port-specific rules that admit it, in priority order
}

// segment returns the port-specific rules of port p.
func (s *portSegments) segment(p uint16) []int32 {
	i, found := slices.BinarySearch(s.starts, p)
	if !found {
		i--
	}
	return s.rules[i]
}

// protoIndex holds the candidate rules of one protocol.
type protoIndex struct {
	all  []int32       // rules admitting every port of the protocol (or every protocol), in priority order
	segs *portSegments // TCP and UDP: the port-specific rules; nil for other protocols
}

// candidates returns the two lists whose merge, in priority order, holds
// every rule that may admit proto/port.
func (x *protoIndex) candidates(port uint16) (all, specific []int32) {
	if x.segs == nil {
		return x.all, nil
	}
	return x.all, x.segs.segment(port)
}

// buildIndex indexes n rules, given in priority order by their services,
// for protocol proto.
func buildIndex(proto uint8, svcsOf func(i int) []svc, n int) *protoIndex {
	x := &protoIndex{}
	var bounds []uint16
	if hasPorts(proto) {
		bounds = []uint16{0}
	}
	for i := 0; i < n; i++ {
		svcs := svcsOf(i)
		if wholeProto(svcs, proto) {
			x.all = append(x.all, int32(i))
			continue
		}
		for _, s := range svcs {
			if s.proto != int16(proto) {
				continue
			}
			for _, r := range s.ports {
				bounds = append(bounds, r.lo)
				if r.hi < 65535 {
					bounds = append(bounds, r.hi+1)
				}
			}
		}
	}
	if bounds == nil {
		return x
	}
	slices.Sort(bounds)
	bounds = slices.Compact(bounds)
	seg := &portSegments{starts: bounds, rules: make([][]int32, len(bounds))}
	for i := 0; i < n; i++ {
		svcs := svcsOf(i)
		if wholeProto(svcs, proto) {
			continue
		}
		for _, s := range svcs {
			if s.proto != int16(proto) {
				continue
			}
			for _, r := range s.ports {
				k0, _ := slices.BinarySearch(bounds, r.lo)
				for k := k0; k < len(bounds) && bounds[k] <= r.hi; k++ {
					if l := seg.rules[k]; len(l) == 0 || l[len(l)-1] != int32(i) {
						seg.rules[k] = append(l, int32(i))
					}
				}
			}
		}
	}
	x.segs = seg
	return x
}

// wholeProto reports whether svcs admit every port of proto.
func wholeProto(svcs []svc, proto uint8) bool {
	for _, s := range svcs {
		if (s.proto == anyProto || s.proto == int16(proto)) && s.ports == nil {
			return true
		}
	}
	return false
}

// mergeNext returns the next rule of the merge of two lists in priority
// (ascending) order, advancing the list it came from; ok is false at the end.
func mergeNext(a, b *[]int32) (int32, bool) {
	switch {
	case len(*a) == 0 && len(*b) == 0:
		return 0, false
	case len(*b) == 0 || len(*a) > 0 && (*a)[0] < (*b)[0]:
		r := (*a)[0]
		*a = (*a)[1:]
		return r, true
	default:
		r := (*b)[0]
		*b = (*b)[1:]
		return r, true
	}
}

// everyProtocol reports whether svcs admit every protocol.
func everyProtocol(svcs []svc) bool {
	for _, s := range svcs {
		if s.proto == anyProto {
			return true
		}
	}
	return false
}
