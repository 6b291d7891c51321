// Package rules makes a micro-segmentation rule base from the conversations
// of the model (analysis.Table) and keeps what people do to it.
//
// Rules are synthesised from conversations: the client port is dropped,
// endpoints are grouped (inventory groups, tags, the monitored set, else
// peers), and one allow rule is made per direction, source, destination and
// protocol, with the destination ports merged into a list. Suspect traffic
// (probable scans, flows only ever dropped) goes to a review list instead,
// and conversations with no end in the scope (the monitored set, or the
// focus) to a list of their own: no rule has direction UNKNOWN.
//
// The rules reference the table's rows (Evidence.Rows, ReviewItem.Row): they
// do not copy conversations. Edits (rename, merge, split, delete, exclude)
// are replayed on every synthesis, so they survive new data; Readiness asks
// whether discovery was long enough by replaying held-out traffic.
//
// The files are layered, each using only those listed before it: rules.go
// (the types and their small helpers), triage.go (review reasons, the
// scope), groups.go (endpoint groups), synth_finish.go (a rule's members,
// evidence and names), synth_rules.go (buckets of conversations into rules),
// synth.go (Synthesize), then edits.go and readiness.go.
package rules

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/services"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// EndpointKind says what an Endpoint stands for.
type EndpointKind uint8

// Endpoint kinds.
const (
	// KindAddresses is addresses standing for themselves: a monitored or
	// focused workload without a group, or a peer prefix the knobs
	// collapsed. Its identity is its addresses.
	KindAddresses EndpointKind = iota
	// KindGroup is a group the vendor has already: an NSX security group
	// (Tag) and/or a Nutanix category set (Categories, all of them must
	// match). Its identity is Group, whatever its members.
	KindGroup
	// KindAny is any address.
	KindAny
	// KindIPSet is a group FlowSleuth must create for peers that are no
	// vendor object (a load balancer VIP, DNS or NTP servers, management
	// hosts): an NSX IP-address group, Nutanix subnets. It is named for
	// people (after the inventory's VMs, else what the peers serve) and
	// identified by Group, which does not depend on its members: the
	// direction, the other side and the service it was made for.
	KindIPSet
)

// Endpoint is one side of a rule.
type Endpoint struct {
	Name string       // for people: "AppTier:Web", "SGTSWEB", "DNS servers", "10.9.9.0/24", "Any"
	Kind EndpointKind //
	// Group identifies a KindGroup or KindIPSet endpoint in rule IDs and
	// vendor object ids: "AppType:Books&AppTier:Web", "SGTSWEB", an IP
	// set's role. It never depends on the members.
	Group string
	// Categories are the Nutanix categories ("Key:Value") a KindGroup
	// endpoint's workloads all carry, ANDed: {AppType:Books, AppTier:Web}
	// is the web tier of Books, not every web VM. Empty when unknown.
	Categories []string
	// Tag is the NSX security group of a KindGroup endpoint: in the
	// practitioners' workflow the DFW rule tag of its discovery rule. ""
	// when unknown.
	Tag      string
	Prefixes []netip.Prefix // the members seen (addresses as /32 or /128); empty for KindAny
}

// Key returns what identifies the endpoint, members aside: "g:GROUP" for a
// vendor group, "s:ROLE" for an IP set, "any", or "a:PREFIX,..." for
// addresses (which are their own identity).
func (e Endpoint) Key() string { return string(appendEndpointKey(nil, e)) }

// PortRange is an inclusive range of ports; a single port has From == To.
type PortRange struct{ From, To uint16 }

func (r PortRange) String() string {
	if r.From == r.To {
		return strconv.Itoa(int(r.From))
	}
	return fmt.Sprintf("%d-%d", r.From, r.To)
}

// Service is a protocol and its destination ports (none for ICMP and other
// portless protocols: then the rule admits the whole protocol).
type Service struct {
	Proto uint8
	Ports []PortRange // sorted, not overlapping
	Name  string      // from the IANA table when the ports have one name ("DNS", "HTTPS"), else ""
}

// PortList renders the ports as "53, 80, 8000-8080" ("" when none).
func (s Service) PortList() string {
	parts := make([]string, len(s.Ports))
	for i, r := range s.Ports {
		parts[i] = r.String()
	}
	return strings.Join(parts, ", ")
}

// Evidence is what justifies a rule: the observed conversations it admits.
type Evidence struct {
	Conversations int
	Sessions      uint64
	Packets       uint64
	Bytes         uint64
	First, Last   time.Time
	Hosts         []string // reporting hosts
	// Samples are up to 3 raw lines, when given: synthesis leaves them
	// in the table, and Set.Samples reads them.
	Samples []string
	// Rows are the conversations, as rows of the rule set's Table, in
	// Compare order (Set.Flows makes them conversations).
	Rows []int32
	// sampleRows are the rows whose first lines are the sample lines (of
	// the first rows in the order synthesis met them, up to DefaultSamples
	// lines in all).
	sampleRows []int32
}

// Rule is one synthesised allow rule.
type Rule struct {
	ID          string // stable across re-synthesis: derived from direction, endpoint keys and protocol
	Name        string
	Direction   ingest.Direction // relative to the scope: INBOUND, OUTBOUND or INTRA, never UNKNOWN
	Src, Dst    Endpoint
	Service     Service
	Action      ingest.Action // ActionAllow
	Description string        // generated unless edited: "Web tier → DNS (53/udp) — 12,431 sessions, 2025-04-10 → 2025-04-17"
	Evidence    Evidence
	// NameEdited and DescriptionEdited are set by rename and describe
	// edits: the name or description is the user's, and a merge or split
	// keeps it instead of generating one.
	NameEdited, DescriptionEdited bool
}

// Monitored returns the rule's endpoints on the scope's side (those a
// firewall enforces the rule at): the destination of an INBOUND rule, the
// source of an OUTBOUND one, both of an INTRA one.
func (r *Rule) Monitored() []Endpoint {
	switch r.Direction {
	case ingest.DirInbound:
		return []Endpoint{r.Dst}
	case ingest.DirOutbound:
		return []Endpoint{r.Src}
	case ingest.DirIntra:
		return []Endpoint{r.Src, r.Dst}
	}
	return nil
}

// ReviewItem is suspect traffic kept out of the rules, with the reason.
type ReviewItem struct {
	Row    int32  // the conversation: a row of the rule set's Table (Set.Item)
	Reason string // "never answered (probable scan)", "only dropped", "port scan: 40 ports from one source"
}

// Knobs are the generalisation settings. The zero value means the defaults.
type Knobs struct {
	// CollapseMin and CollapseCoverage: peers outside the monitored set
	// are collapsed into their /24 (IPv4) or /64 (IPv6) when at least
	// CollapseMin hosts of it were seen and they cover at least
	// CollapseCoverage percent of the hosts that use the same service there.
	CollapseMin      int
	CollapseCoverage float64
	// AnyPeers: more than this many distinct peers on one service make the
	// peer side "Any".
	AnyPeers int
	// ScanPorts: a source that reached at least this many ports of one
	// destination without answers is a port scan (to review).
	ScanPorts int
	// IncludeSuspect puts suspect traffic in the rules anyway.
	IncludeSuspect bool
	// Exclude keeps conversations with either end in these prefixes out of
	// the rules (the user's exclude edits); they go to review.
	Exclude []netip.Prefix
	// Focus keeps only the conversations with an end in these prefixes
	// (the seed workflow's "only traffic to/from 10.48.52.240"); directions
	// are then relative to it, and its addresses are endpoints of their own,
	// named after their VM or address. Others are outside the scope.
	Focus []netip.Prefix
	// TierKey is the category key naming the application's tiers; ""
	// means AppTier when the inventory has that key.
	TierKey string
	// AppCategories are the categories ("Key:Value") of the application;
	// empty means the ones every monitored VM of the inventory shares.
	AppCategories []string
}

// Defaults for Knobs.
const (
	DefaultCollapseMin      = 4
	DefaultCollapseCoverage = 50
	DefaultAnyPeers         = 32
	DefaultScanPorts        = 10
)

// Set is the result of synthesis.
type Set struct {
	// Table holds the conversations the rules were made from: the rules'
	// evidence and the review items are its rows.
	Table  *analysis.Table
	Rules  []Rule
	Review []ReviewItem
	// Outside are the conversations with no end in the scope (neither
	// monitored nor in the focus): listed apart, never made rules.
	Outside []ReviewItem
	Knobs   Knobs // as applied (defaults filled in)
	Scope   Scope // the application the rules secure, as found
	// Permissiveness is the number of (source address, destination
	// address, port) combinations the rules admit that were never seen,
	// counting an "Any" side as one address per distinct peer seen on the
	// rule's service: the price of fewer rules. Observed is the number seen.
	Permissiveness uint64
	Observed       uint64
}

// Scope is the application the rules secure, from the inventory.
type Scope struct {
	// TierKey is the category key of the tiers ("AppTier"), "" when the
	// inventory has none.
	TierKey string
	// AppCategories are the application's categories ("AppType:Books"):
	// Knobs.AppCategories, else those every monitored VM shares.
	AppCategories []string
	// AppGroups are the inventory's other groups (NSX security groups)
	// that every monitored VM belongs to: the application's group
	// ("SGTSBOOKS", whose members are the tiers).
	AppGroups []string
}

// OutsideReason is the review reason of a conversation outside the scope.
const OutsideReason = "outside the scope: neither end is monitored or in the focus"

// Samples returns the sample lines of r's evidence: Evidence.Samples when
// given, else read from the table (those of the first of Evidence.Rows
// that have some, in a rule made by hand).
func (rs *Set) Samples(r *Rule) []string { return rs.SamplesOf([]*Rule{r})[0] }

// SamplesOf is Samples of several rules, read from the table at once.
func (rs *Set) SamplesOf(rules []*Rule) [][]string {
	from := make([][]int32, len(rules))
	var rows []int32
	for j, r := range rules {
		e := &r.Evidence
		if e.Samples != nil || rs.Table == nil {
			continue
		}
		if from[j] = e.sampleRows; from[j] == nil {
			from[j] = sampleRows(rs.Table, e.Rows)
		}
		rows = append(rows, from[j]...)
	}
	lines := rs.Table.SamplesOf(rows)
	out := make([][]string, len(rules))
	for j, r := range rules {
		if out[j] = r.Evidence.Samples; out[j] != nil {
			continue
		}
		for range from[j] {
			for _, l := range lines[0] {
				if len(out[j]) < analysis.DefaultSamples {
					out[j] = append(out[j], l)
				}
			}
			lines = lines[1:]
		}
	}
	return out
}

// unixTime is a time of the table (unix nanoseconds, 0 when unknown).
func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

func (k Knobs) withDefaults() Knobs {
	if k.CollapseMin <= 0 {
		k.CollapseMin = DefaultCollapseMin
	}
	if k.CollapseCoverage <= 0 {
		k.CollapseCoverage = DefaultCollapseCoverage
	}
	if k.AnyPeers <= 0 {
		k.AnyPeers = DefaultAnyPeers
	}
	if k.ScanPorts <= 0 {
		k.ScanPorts = DefaultScanPorts
	}
	return k
}

// end returns the source (src) or destination address of row i of t.
func end(t *analysis.Table, i int, src bool) netip.Addr {
	if src {
		return t.Src(i)
	}
	return t.Dst(i)
}

func inPrefixes(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// addrKey is an address as a map key: without the pointer netip.Addr holds.
type addrKey struct {
	hi, lo uint64
	is4    bool
}

// sampleRows returns the first of rows that have sample lines, as many as
// make DefaultSamples lines (or all of them): the rows whose lines are the
// evidence's. It reads no line: the table knows how many each row has.
func sampleRows(t *analysis.Table, rows []int32) []int32 {
	var out []int32
	lines := 0
	for _, i := range rows {
		if lines >= analysis.DefaultSamples {
			break
		}
		if n := t.SampleCount(int(i)); n > 0 {
			out = append(out, i)
			lines += n
		}
	}
	return out
}

func comparePrefix(a, b netip.Prefix) int {
	return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
}

// appendEndpointKey appends "g:GROUP", "s:IPSET", "any" or "a:PREFIX,PREFIX...".
func appendEndpointKey(b []byte, e Endpoint) []byte {
	switch e.Kind {
	case KindGroup:
		return append(append(b, "g:"...), e.Group...)
	case KindIPSet:
		return append(append(b, "s:"...), e.Group...)
	case KindAny:
		return append(b, "any"...)
	}
	b = append(b, "a:"...)
	for i, p := range e.Prefixes {
		if i > 0 {
			b = append(b, ',')
		}
		if p == (netip.Prefix{}) {
			b = append(b, p.String()...) // AppendTo writes nothing for it
		} else {
			b = p.AppendTo(b)
		}
	}
	return b
}

// addPort adds a seen port, joining runs of consecutive ports into ranges.
func addPort(rs []PortRange, p uint16) []PortRange {
	i, found := slices.BinarySearchFunc(rs, p, func(r PortRange, p uint16) int { return cmp.Compare(r.From, p) })
	if found || (i > 0 && rs[i-1].To >= p) {
		return rs // already inside
	}
	rs = slices.Insert(rs, i, PortRange{p, p})
	if i+1 < len(rs) && rs[i+1].From == p+1 {
		rs[i].To = rs[i+1].To
		rs = slices.Delete(rs, i+1, i+2)
	}
	if i > 0 && rs[i-1].To+1 == p {
		rs[i-1].To = rs[i].To
		rs = slices.Delete(rs, i, i+1)
	}
	return rs
}

// serviceName is the IANA name shared by all of a service's ports, or "".
func serviceName(s Service) string {
	if !services.HasPorts(s.Proto) {
		return services.Name(s.Proto, 0)
	}
	name := ""
	for _, r := range s.Ports {
		for p := int(r.From); p <= int(r.To); p++ {
			n := services.Name(s.Proto, uint16(p))
			if n == "" || (name != "" && n != name) {
				return ""
			}
			name = n
		}
	}
	return name
}

// Label renders a service for people: "DNS (53/udp)", "8080, 9000-9001/tcp", "ICMP".
func (s Service) Label() string { return services.LabelPorts(s.Proto, s.PortList(), s.Name) }

// Admits reports whether r lets row i of t through.
func (r *Rule) Admits(t *analysis.Table, i int) bool {
	proto := t.Proto(i)
	if proto != r.Service.Proto || !r.Src.Contains(t.Src(i)) || !r.Dst.Contains(t.Dst(i)) {
		return false
	}
	return portsAdmit(r.Service.Ports, proto, t.DPort(i))
}

// portsAdmit reports whether a conversation of protocol proto to port is
// within ports: any port for a protocol without ports.
func portsAdmit(ports []PortRange, proto uint8, port uint16) bool {
	if !services.HasPorts(proto) {
		return true
	}
	for _, p := range ports {
		if port >= p.From && port <= p.To {
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

// addressEndpoint is the endpoint of sorted prefixes, named after them
// (hosts without their length).
func addressEndpoint(ps []netip.Prefix) Endpoint {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = strings.TrimSuffix(strings.TrimSuffix(p.String(), "/32"), "/128")
	}
	return Endpoint{Name: strings.Join(names, ", "), Kind: KindAddresses, Prefixes: ps}
}
