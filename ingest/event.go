package ingest

import (
	"net/netip"
	"strconv"
	"time"
)

// Vendor names the product and version family that wrote a firewall line.
type Vendor uint8

// Vendors FlowSleuth reads.
const (
	VendorUnknown Vendor = iota
	Nutanix              // Nutanix Flow Network Security policy hit log (AHV)
	NSXV                 // NSX for vSphere 6.x distributed firewall (dfwpktlogs)
	NSXT                 // NSX-T 2.x/3.x distributed firewall (FIREWALL_PKTLOG)
	NSX4                 // NSX 4.x / vDefend distributed firewall (FIREWALL-PKTLOG)
)

var vendorNames = [...]string{"unknown", "nutanix", "nsxv", "nsxt", "nsx4"}

func (v Vendor) String() string {
	if int(v) < len(vendorNames) {
		return vendorNames[v]
	}
	return "vendor(" + strconv.Itoa(int(v)) + ")"
}

// IsNSX reports whether v is one of the NSX distributed firewall families.
func (v Vendor) IsNSX() bool { return v == NSXV || v == NSXT || v == NSX4 }

// ParseVendor returns the Vendor whose String is s.
func ParseVendor(s string) (Vendor, bool) {
	for i, n := range vendorNames {
		if n == s && i != 0 {
			return Vendor(i), true
		}
	}
	return VendorUnknown, false
}

// Kind is the place of a line in the life of one connection.
type Kind uint8

// Kinds of firewall events.
const (
	KindUnknown Kind = iota
	KindNew          // Nutanix [New] (or [Create]): connection created
	KindUpdate       // Nutanix [Update] (or any other word): periodic, cumulative counters
	KindDestroy      // Nutanix [Destroy]: connection ended
	KindMatch        // NSX match: first packet of a session that hit a logged rule
	KindTerm         // NSX TERM: session ended, with counters
)

var kindNames = [...]string{"unknown", "new", "update", "destroy", "match", "term"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Action is the verdict a firewall logged.
type Action uint8

// Actions, normalised across vendors. NSX PASS is ActionAllow.
const (
	ActionUnknown Action = iota
	ActionAllow
	ActionDrop
	ActionReject
	ActionMonitor // Nutanix Monitor mode: passed, but would be blocked when enforced
	ActionNAT     // NSX NAT, NONAT, RDR, NORDR: translation, not a verdict
	ActionOther   // NSX PUNT, REDIRECT, COPY, PBR, LB
)

var actionNames = [...]string{"", "ALLOW", "DROP", "REJECT", "MONITOR", "NAT", "OTHER"}

func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "action(" + strconv.Itoa(int(a)) + ")"
}

// ParseAction maps a vendor action word to an Action.
func ParseAction(s string) Action {
	switch s {
	case "ALLOW", "PASS":
		return ActionAllow
	case "DROP", "DENY":
		return ActionDrop
	case "REJECT":
		return ActionReject
	case "MONITOR":
		return ActionMonitor
	case "NAT", "NONAT", "RDR", "NORDR":
		return ActionNAT
	case "PUNT", "REDIRECT", "COPY", "PBR", "LB":
		return ActionOther
	}
	return ActionUnknown
}

// Direction says on which side of a conversation the enforcement point sits.
//
// Inbound means the destination is the protected (monitored) endpoint: Nutanix
// DIRECTION=INBOUND, NSX IN at the destination's vNIC. Outbound means the source
// is protected: Nutanix DIRECTION=OUTBOUND, NSX OUT at the source's vNIC. Intra
// is only produced by analysis, for conversations whose two ends are protected.
type Direction uint8

// Directions.
const (
	DirUnknown Direction = iota
	DirInbound
	DirOutbound
	DirIntra
)

var dirNames = [...]string{"UNKNOWN", "INBOUND", "OUTBOUND", "INTRA"}

func (d Direction) String() string {
	if int(d) < len(dirNames) {
		return dirNames[d]
	}
	return "direction(" + strconv.Itoa(int(d)) + ")"
}

// Protected returns whether the source and the destination of a
// conversation in direction d are protected (monitored) endpoints: outbound
// the source, inbound the destination, intra both, unknown neither.
func (d Direction) Protected() (src, dst bool) {
	return d == DirOutbound || d == DirIntra, d == DirInbound || d == DirIntra
}

// ParseDirection accepts INBOUND/OUTBOUND/INTRA/UNKNOWN (any case is not accepted).
func ParseDirection(s string) (Direction, bool) {
	for i, n := range dirNames {
		if n == s {
			return Direction(i), true
		}
	}
	return DirUnknown, false
}

// IP protocol numbers FlowSleuth names.
const (
	ProtoICMP   uint8 = 1
	ProtoTCP    uint8 = 6
	ProtoUDP    uint8 = 17
	ProtoICMPv6 uint8 = 58
)

// ProtoName returns the usual name of an IP protocol number ("TCP", "UDP",
// "ICMP", "ICMPv6") or its decimal number.
func ProtoName(p uint8) string {
	switch p {
	case ProtoTCP:
		return "TCP"
	case ProtoUDP:
		return "UDP"
	case ProtoICMP:
		return "ICMP"
	case ProtoICMPv6:
		return "ICMPv6"
	}
	return strconv.Itoa(int(p))
}

// ParseProto maps a protocol name or decimal number to its IP protocol number.
func ParseProto(s string) (uint8, bool) {
	switch s {
	case "TCP", "tcp":
		return ProtoTCP, true
	case "UDP", "udp":
		return ProtoUDP, true
	case "ICMP", "icmp":
		return ProtoICMP, true
	case "ICMPv6", "ICMP6", "IPV6-ICMP", "icmpv6":
		return ProtoICMPv6, true
	}
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil {
		return 0, false
	}
	return uint8(n), true
}

// Event is one firewall log line, parsed.
//
// Strings are ordinary Go strings and may be kept. Raw aliases the input line
// and is only valid until the next line is parsed into the same Event.
//
// The fields are in the order the model reads them for every line: the
// small ones first, then the time, the addresses, the host, the counters and
// the labels, so that a line costs analysis three or four cache lines of
// the event, not six (events cross from the parsing cores to the model's).
type Event struct {
	Vendor       Vendor
	Kind         Kind
	Proto        uint8     // IP protocol number
	Action       Action    // the verdict
	Direction    Direction // DirInbound, DirOutbound or DirUnknown
	HasCounters  bool      // the line carried the counters below
	HasICMP      bool      // NSX: ICMP type and code were given
	ICMPType     uint8
	ICMPCode     uint8
	SPort, DPort uint16 // zero when the line carries no ports (ICMP, PROTO n)

	// Unauthenticated is set by the listener for a line received over a
	// transport whose sender address anyone can forge (UDP).
	Unauthenticated bool

	Length uint32    // NSX: packet length on match lines
	Time   time.Time // UTC; the payload's own time when it has one, else the header's; zero if neither

	Src, Dst netip.Addr
	Host     string // reporting host from the syslog header, or the sender/default host

	// Counters are cumulative for the connection (Nutanix) or final (NSX TERM).
	// Orig is source→destination, Reply is destination→source.
	OrigPkts, OrigBytes   uint64
	ReplyPkts, ReplyBytes uint64

	PolicyID string // Nutanix: policy UUID
	Policy   string // Nutanix: policy name, may contain spaces
	RuleSet  string // NSX: domain-c7, mainrs, or empty
	Rule     string // NSX: rule ID
	Tag      string // NSX: rule tag (log label)

	Raw []byte // the whole input line without its line ending

	Level       string // Nutanix: INFO
	Description string // Nutanix: DESCRIPTION=, the matched rule's description
	Extra       string // Nutanix: unknown KEY=VALUE pairs, space separated, as written
	Filter      string // NSX: vNIC filter hash (decimal on NSX-V, 8 hex digits on NSX-T/4)
	Flags       string // NSX: TCP flags on match lines
	Close       string // NSX: RST, FIN or TIMEOUT on TERM lines
}

// Label returns the tag that names the group a line belongs to: the Nutanix
// policy name, the NSX rule tag, or "rule " and the NSX rule reference.
func (e *Event) Label() string {
	return label(e.Vendor, e.Policy, e.Tag, e.RuleSet, e.Rule)
}

// label is Event.Label and Flow.Label: the Nutanix policy, else the NSX
// tag, else the NSX rule's reference.
func label(v Vendor, policy, tag, set, rule string) string {
	switch {
	case v == Nutanix:
		return policy
	case tag != "":
		return tag
	case rule != "" || set != "":
		return RuleLabel(set, rule)
	}
	return ""
}

// RuleLabel names the group of an NSX line that carries no tag by its
// rule: "rule 1031", or "rule 2048/1031" with the rule set (NSX-T's
// ruleset id).
func RuleLabel(ruleSet, rule string) string {
	if ruleSet != "" {
		return "rule " + ruleSet + "/" + rule
	}
	return "rule " + rule
}

// Answered reports whether the responder is known to have sent anything back.
// It is false when the counters are unknown.
func (e *Event) Answered() bool { return e.HasCounters && e.ReplyPkts > 0 }

// reset clears e for reuse, keeping no references to the previous line.
func (e *Event) reset() { *e = Event{} }
