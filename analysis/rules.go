package analysis

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// Rules are synthesised from conversations: the client port is dropped,
// endpoints are grouped (inventory groups, tags, the monitored set, else
// peers), and one allow rule is made per direction, source, destination and
// protocol, with the destination ports merged into a list. Suspect traffic
// (probable scans, flows only ever dropped) goes to a review list instead.

// EndpointKind says what an Endpoint stands for.
type EndpointKind uint8

// Endpoint kinds.
const (
	KindAddresses EndpointKind = iota // explicit addresses and prefixes
	KindGroup                         // a named group: inventory group, category, security group, tag
	KindAny                           // any address
)

// Endpoint is one side of a rule.
type Endpoint struct {
	Name     string         // for people: "AppTier:Web", "SGTSWEB", "10.9.9.0/24", "Any"
	Kind     EndpointKind   //
	Group    string         // KindGroup: the group ("AppTier:Web": a Nutanix category is Key:Value)
	Prefixes []netip.Prefix // the members (addresses as /32 or /128); empty for KindAny
}

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
	Hosts         []string       // reporting hosts
	Samples       []string       // up to 3 raw lines
	Flows         []Conversation // the conversations (for the XLSX Evidence column and the detail views)
}

// Rule is one synthesised allow rule.
type Rule struct {
	ID          string // stable across re-synthesis: derived from direction, endpoints and protocol
	Name        string
	Direction   ingest.Direction // relative to the monitored set
	Src, Dst    Endpoint
	Service     Service
	Action      ingest.Action // ActionAllow
	Description string        // generated unless edited: "Web tier → DNS (53/udp) — 12,431 sessions, 2025-04-10 → 2025-04-17"
	Evidence    Evidence
}

// ReviewItem is suspect traffic kept out of the rules, with the reason.
type ReviewItem struct {
	Conversation Conversation
	Reason       string // "never answered (probable scan)", "only dropped", "port scan: 40 ports from one source"
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
}

// Defaults for Knobs.
const (
	DefaultCollapseMin      = 4
	DefaultCollapseCoverage = 50
	DefaultAnyPeers         = 32
	DefaultScanPorts        = 10
)

// RuleSet is the result of synthesis.
type RuleSet struct {
	Rules  []Rule
	Review []ReviewItem
	Knobs  Knobs // as applied (defaults filled in)
	// Permissiveness is the number of (source address, destination
	// address, port) combinations the rules admit that were never seen,
	// counting an "Any" side as one address per distinct peer seen on the
	// rule's service: the price of fewer rules. Observed is the number seen.
	Permissiveness uint64
	Observed       uint64
}
