package policy

import (
	"strings"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// NSX services. Service entry types and fields, from the SDK model
// (vsphere-automation-sdk-go services/nsxt/model): L4PortSetServiceEntry
// (l4_protocol TCP|UDP, destination_ports, source_ports: "port-or-range"),
// ICMPTypeServiceEntry (protocol ICMPv4|ICMPv6, icmp_type, icmp_code),
// IPProtocolServiceEntry (protocol_number), IGMPTypeServiceEntry,
// ALGTypeServiceEntry (alg, destination_ports), EtherTypeServiceEntry
// (ether_type), NestedServiceServiceEntry (nested_service_path).

// builtinServices are a few of NSX's predefined services, for bodies that
// reference them without defining them (a GET of security policies does not
// include /infra/services). The paths are those NSX ships (used as-is in
// public configurations, e.g. "/infra/services/HTTPS", "/infra/services/
// ICMP-ALL", "/infra/services/DNS-UDP" in VMware Cloud on AWS Terraform
// examples; Apache CloudStack's NsxServiceList maps "/infra/services/SSH" to
// TCP 22); the ports are those of the protocols they are named after (IANA).
// Any other undefined service is reported as unresolved, never guessed.
var builtinServices = map[string][]svc{
	"/infra/services/HTTP":       {{proto: int16(ingest.ProtoTCP), ports: []portRange{{80, 80}}, icmpType: -1}},
	"/infra/services/HTTPS":      {{proto: int16(ingest.ProtoTCP), ports: []portRange{{443, 443}}, icmpType: -1}},
	"/infra/services/SSH":        {{proto: int16(ingest.ProtoTCP), ports: []portRange{{22, 22}}, icmpType: -1}},
	"/infra/services/DNS":        {{proto: int16(ingest.ProtoTCP), ports: []portRange{{53, 53}}, icmpType: -1}},
	"/infra/services/DNS-UDP":    {{proto: int16(ingest.ProtoUDP), ports: []portRange{{53, 53}}, icmpType: -1}},
	"/infra/services/NTP":        {{proto: int16(ingest.ProtoUDP), ports: []portRange{{123, 123}}, icmpType: -1}},
	"/infra/services/ICMP-ALL":   {{proto: int16(ingest.ProtoICMP), icmpType: -1}},
	"/infra/services/ICMPv6-ALL": {{proto: int16(ingest.ProtoICMPv6), icmpType: -1}},
}

// algProto is the transport of each ALG service type.
var algProto = map[string]uint8{"ORACLE_TNS": ingest.ProtoTCP, "FTP": ingest.ProtoTCP, "SUN_RPC_TCP": ingest.ProtoTCP,
	"MS_RPC_TCP": ingest.ProtoTCP, "SUN_RPC_UDP": ingest.ProtoUDP, "MS_RPC_UDP": ingest.ProtoUDP,
	"NBNS_BROADCAST": ingest.ProtoUDP, "NBDG_BROADCAST": ingest.ProtoUDP, "TFTP": ingest.ProtoUDP}

// nsxServices resolves service paths against the services the bodies
// define and the built-in ones.
type nsxServices struct {
	r       *resolver
	defined map[string]map[string]any
	done    map[string]svcResult
	busy    map[string]bool
}

type svcResult struct {
	svcs  []svc
	maybe bool // part could not be resolved
}

func newNSXServices(r *resolver, bodies []*nsxBody) *nsxServices {
	s := &nsxServices{r: r, defined: map[string]map[string]any{}, done: map[string]svcResult{}, busy: map[string]bool{}}
	for _, b := range bodies {
		for path, o := range b.services {
			s.defined[path] = o
		}
	}
	return s
}

// of returns the services of a rule: its service paths and raw entries.
func (s *nsxServices) of(raw *nsxRuleRaw, where string) ([]svc, bool) {
	if len(raw.services) == 0 && len(raw.entries) == 0 || isAny(raw.services) {
		return []svc{svcAll}, false
	}
	var out svcResult
	for _, path := range raw.services {
		res := s.service(path, where, 0)
		out.svcs = append(out.svcs, res.svcs...)
		out.maybe = out.maybe || res.maybe
	}
	for _, e := range raw.entries {
		res := s.entry(e, where, 0)
		out.svcs = append(out.svcs, res.svcs...)
		out.maybe = out.maybe || res.maybe
	}
	return out.svcs, out.maybe
}

// service resolves one service path.
func (s *nsxServices) service(path, where string, depth int) svcResult {
	if res, ok := s.done[path]; ok {
		return res
	}
	if s.busy[path] || depth > maxGroupDepth {
		s.r.problem("NSX service " + path + " (" + where + "): refers to itself or nests too deep")
		return svcResult{maybe: true}
	}
	s.busy[path] = true
	defer delete(s.busy, path)
	var res svcResult
	if o, ok := s.defined[path]; ok {
		for _, e := range objs(o, "service_entries") {
			x := s.entry(e, "service "+path, depth)
			res.svcs = append(res.svcs, x.svcs...)
			res.maybe = res.maybe || x.maybe
		}
	} else if b, ok := builtinServices[path]; ok {
		res.svcs = b
	} else {
		s.r.problem("NSX service " + path + " (" + where + "): not defined in the policy files and not a predefined service FlowSleuth knows; the rule is taken not to match it")
		res.maybe = true
	}
	s.done[path] = res
	return res
}

// entry compiles one service entry.
func (s *nsxServices) entry(e map[string]any, where string, depth int) svcResult {
	fail := func(why string) svcResult {
		s.r.problem("NSX service entry " + nameOf(e) + " (" + where + "): " + why)
		return svcResult{maybe: true}
	}
	switch rt := str(e, "resource_type"); rt {
	case "L4PortSetServiceEntry", "ALGTypeServiceEntry":
		proto, ok := map[string]uint8{"TCP": ingest.ProtoTCP, "UDP": ingest.ProtoUDP}[strings.ToUpper(str(e, "l4_protocol"))]
		if rt == "ALGTypeServiceEntry" {
			proto, ok = algProto[strings.ToUpper(str(e, "alg"))]
		}
		if !ok {
			return fail("unknown protocol")
		}
		x := svc{proto: int16(proto), icmpType: -1, srcPorts: len(strs(e, "source_ports")) > 0}
		if dp := strs(e, "destination_ports"); len(dp) > 0 {
			ports, err := parsePorts(dp)
			if err != nil {
				return fail(err.Error())
			}
			x.ports = ports
		}
		return svcResult{svcs: []svc{x}}
	case "ICMPTypeServiceEntry":
		proto := ingest.ProtoICMP
		if strings.EqualFold(str(e, "protocol"), "ICMPv6") {
			proto = ingest.ProtoICMPv6
		}
		x := svc{proto: int16(proto), icmpType: -1}
		if t, ok := integer(e, "icmp_type"); ok && t >= 0 && t < 256 {
			x.icmpType = int16(t)
		}
		return svcResult{svcs: []svc{x}}
	case "IPProtocolServiceEntry":
		n, ok := integer(e, "protocol_number")
		if !ok || n < 0 || n > 255 {
			return fail("bad protocol_number")
		}
		return svcResult{svcs: []svc{{proto: int16(n), icmpType: -1}}}
	case "IGMPTypeServiceEntry":
		return svcResult{svcs: []svc{{proto: 2, icmpType: -1}}}
	case "EtherTypeServiceEntry":
		if t, _ := integer(e, "ether_type"); t == 0x0800 || t == 0x86DD {
			return svcResult{svcs: []svc{svcAll}}
		}
		return svcResult{} // not IP: matches no IP conversation
	case "NestedServiceServiceEntry":
		return s.service(str(e, "nested_service_path"), where, depth+1)
	default:
		return fail("entry type " + rt + " is not evaluated")
	}
}

func isAny(list []string) bool {
	for _, s := range list {
		if strings.EqualFold(s, "ANY") {
			return true
		}
	}
	return false
}
