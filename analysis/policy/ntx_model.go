package policy

import (
	"slices"
	"strings"
)

// The Nutanix Flow Network Security model shared by the v3 and v4 readers.
// A policy is an application (or AD, VDI) policy, a quarantine policy or an
// isolation policy, in a mode; application and quarantine policies hold
// secured groups, each with its inbound and outbound allow lists and the
// action for traffic between its own members.

// Policy kinds.
const (
	ntxApp uint8 = iota
	ntxQuarantine
	ntxIsolate
)

// Policy modes.
const (
	modeSaved   uint8 = iota // v4 SAVE or no state: "save the policy without applying or monitoring it"
	modeMonitor              // v3 MONITOR, v4 MONITOR: blocks nothing, reports what it would block
	modeApply                // v3 APPLY, v4 ENFORCE
)

// ntxPolicy is one Nutanix policy as written.
type ntxPolicy struct {
	file, vendor string
	name, id     string
	kind         uint8
	mode         uint8
	v3           bool
	ipv6Allowed  bool
	groups       []*ntxGroupRaw
	isolations   []ntxIsolationRaw
}

// selector picks VMs by category: v3 filter params (Key → values), or v4
// category references (extIds or "<extId of Key:Value>" placeholders),
// resolved against the environment when compiled.
type selector struct {
	params   map[string][]string
	refs     []string // v4
	matchAny bool     // v3 CATEGORIES_MATCH_ANY
	kinds    []string // v3 kind_list
}

// key identifies a selector, to gather the v4 rules of one secured group.
func (s selector) key() string {
	if s.refs != nil {
		return strings.Join(sortedCopy(s.refs), "\x00")
	}
	var parts []string
	for k, vs := range s.params {
		parts = append(parts, k+"="+strings.Join(sortedCopy(vs), ","))
	}
	return strings.Join(sortedCopy(parts), "\x00")
}

// ntxGroupRaw is a secured group and its rules.
type ntxGroupRaw struct {
	sel       selector
	intra     string // ALLOW or DENY; "" when the body does not say
	intraName string
	intraID   string
	intraSvcs *ntxServices // v4 INTRA_GROUP services, when given
	inbound   []*ntxRuleRaw
	outbound  []*ntxRuleRaw
	// outboundOpen: an empty outbound list allows everything (v3
	// quarantine_rule: "Empty outbound_allow_list will allow everything
	// from target group").
	outboundOpen bool
}

// ntxRuleRaw is one allow-list entry: a peer and services.
type ntxRuleRaw struct {
	name, id string
	peerAll  bool
	peerNone bool
	peerSel  *selector
	subnets  []addrRange
	addrRefs []string // address groups
	svcs     ntxServices
	problem  string // what is wrong with the entry as written
}

// ntxServices are an entry's services as written.
type ntxServices struct {
	all     bool
	svcs    []svc
	svcRefs []string // service groups
}

// ntxIsolationRaw isolates two groups of VMs from each other.
type ntxIsolationRaw struct {
	a, b     selector
	name, id string
}

// ntxObjects are address and service groups read from the files.
type ntxObjects struct {
	addr map[string][]addrRange // by uuid/extId and by name
	svc  map[string][]svc
}

func (o *ntxObjects) empty() bool { return len(o.addr) == 0 && len(o.svc) == 0 }

func (o *ntxObjects) merge(x ntxObjects) {
	for k, v := range x.addr {
		o.addAddr(k, v)
	}
	for k, v := range x.svc {
		o.addSvc(k, v)
	}
}

func (o *ntxObjects) addAddr(k string, v []addrRange) {
	if o.addr == nil {
		o.addr = map[string][]addrRange{}
	}
	if k != "" {
		o.addr[k] = v
	}
}

func (o *ntxObjects) addSvc(k string, v []svc) {
	if o.svc == nil {
		o.svc = map[string][]svc{}
	}
	if k != "" {
		o.svc[k] = v
	}
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
