package policy

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/flowsleuth/flowsleuth/ingest/inventory"
)

// Outcome is what a policy does to a conversation.
type Outcome uint8

// Outcomes, from the least to the most severe.
const (
	Allowed    Outcome = iota
	WouldBlock         // a policy in monitor mode would block it (Nutanix MONITOR); nothing is blocked yet
	Blocked
)

var outcomeNames = [...]string{"allowed", "would block", "blocked"}

// String returns "allowed", "would block" or "blocked".
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("outcome(%d)", o)
}

// Action is the action of the NSX default Layer-3 rule.
type Action uint8

// Default rule actions.
const (
	Allow Action = iota // a brownfield distributed firewall: the default rule allows
	Drop
)

// String returns "allow" or "drop".
func (a Action) String() string {
	if a == Drop {
		return "drop"
	}
	return "allow"
}

// ParseAction reads "allow" or "drop" (any case).
func ParseAction(s string) (Action, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "allow":
		return Allow, nil
	case "drop", "deny":
		return Drop, nil
	}
	return Allow, fmt.Errorf("default action must be allow or drop, not %q", s)
}

// IntraGroup says how traffic between two members of one Nutanix secured
// group is decided. The vendor documentation is silent on whether allow-list
// entries apply there (see doc.go); the zero value is the conservative
// reading.
type IntraGroup uint8

// Intra-group readings.
const (
	// IntraGroupOnly decides it by the intra-group action alone
	// (default_internal_policy in v3, the INTRA_GROUP rule in v4).
	IntraGroupOnly IntraGroup = iota
	// IntraGroupOrAllowList also admits it when an allow-list entry of the
	// group names the peer.
	IntraGroupOrAllowList
)

// CategoryMatch says how several categories in one v4 category reference
// list (securedGroupCategoryReferences, src/destCategoryReferences,
// isolation groups) combine. The v4 documentation is silent (see doc.go).
type CategoryMatch uint8

// Category readings.
const (
	// MatchAllKeys: a VM matches when, for every category key listed, it
	// has one of that key's values (AND across keys, OR within a key): the
	// v3 CATEGORIES_MATCH_ALL filter that v4 replaced.
	MatchAllKeys CategoryMatch = iota
	// MatchAny: a VM matches when it has any of the categories.
	MatchAny
)

// Env is what the evaluator knows of the estate besides the policy bodies.
type Env struct {
	VMs []inventory.VM // names, addresses, categories/tags as "Key:Value" and group names
	// Groups gives members of groups the bodies reference but do not define:
	// NSX group paths ("/infra/domains/default/groups/SGTSWEB"), Nutanix
	// categories ("Key:Value"), address and service group ids, e.g. from
	// --nsx-groups mappings, --members files, or learned from the logs
	// (see LearnedGroups).
	Groups map[string][]netip.Prefix
	// CategoryIDs maps Nutanix v4 category extIds to "Key:Value" (from a
	// saved GET /api/prism/v4.x/config/categories, see ReadCategories);
	// placeholders "<extId of Key:Value>" resolve without it.
	CategoryIDs map[string]string
	// Default is the action of the NSX default Layer-3 rule: Allow (the
	// zero value, a brownfield distributed firewall) or Drop.
	Default Action

	// Protected lists addresses that sit behind an NSX enforcement point
	// (a workload's vNIC) besides the inventory's VMs, e.g. the monitored
	// set. The ends a conversation's direction marks as monitored are
	// protected too.
	Protected []netip.Prefix
	// EnableDisabled evaluates disabled NSX rules as if enabled: what a
	// policy whose rules are switched off does once they are switched on.
	EnableDisabled bool
	// Intra and Categories choose the readings where Nutanix's
	// documentation is silent; the zero values are the conservative ones.
	Intra      IntraGroup
	Categories CategoryMatch
}

// RuleRef names a rule: a rule of a policy body, or a rule FlowSleuth adds
// to say what decides when no written rule does (the NSX default rule, the
// implicit deny of a Nutanix allow list).
type RuleRef struct {
	Index    int32  // position in Program.Rules; -1 for none
	Vendor   string // "NSX", "Nutanix v3", "Nutanix v4"
	File     string // the name given to Load
	Policy   string // the policy's display name
	PolicyID string
	Name     string // the rule's display name or description
	ID       string // the rule's id, or its place ("inbound[3]")
	Action   string // ALLOW, DROP, REJECT, JUMP_TO_APPLICATION, ALLOW_ALL, DENY_ALL, …
	Implicit bool   // not a rule of the body: a default or an implicit deny
}

// String renders a rule for people: `"web to app" (policy "Books", nsx.json)`.
func (r RuleRef) String() string {
	if r.Index < 0 {
		return "no rule"
	}
	name := r.Name
	if name == "" {
		name = r.ID
	}
	s := fmt.Sprintf("%q", name)
	if r.Policy != "" {
		s += fmt.Sprintf(" of policy %q", r.Policy)
	}
	if r.File != "" {
		s += " (" + r.File + ")"
	}
	return s
}

// MaxHits is the most enforcement decisions a verdict records.
const MaxHits = 4

// Verdict is what the policies do to one conversation. A check keeps one
// per conversation: its strings are shared, and its rule is one of the
// program's, not a copy.
type Verdict struct {
	Outcome Outcome
	// Rule is the deciding rule, or the default rule; Index -1 when no
	// enforcement point saw it. Never nil; shared: read it, never change it.
	Rule  *RuleRef
	Point string // where it was decided: "OUT at 10.20.10.11 (web-01)", "IN at 10.20.20.21 (app-01)"
	Why   string // one line for people
	// Uncertain is set when a rule consulted before the deciding one, or
	// the deciding one, references something unresolved (a group,
	// category or service the bodies do not define and the environment does
	// not know, a layer 7 profile): the verdict assumes an unresolved group
	// or service does not match.
	Uncertain string
	// Hits are the rules that decided at each enforcement point the
	// conversation crossed, in order (isolation, the source's egress, the
	// destination's ingress), as indices into Program.Rules; -1 when unused.
	Hits [MaxHits]int32
}

// Set is every policy read from one or more files.
type Set struct {
	nsx    []*nsxBody
	ntx    []*ntxPolicy
	ntxAux ntxObjects // address and service groups defined in the files
	files  []string
	notes  []string // what was read but is not evaluated (gateway policies, …)
}

// Merge returns a set holding every policy of sets.
func Merge(sets ...*Set) *Set {
	out := &Set{}
	for _, s := range sets {
		if s == nil {
			continue
		}
		out.nsx = append(out.nsx, s.nsx...)
		out.ntx = append(out.ntx, s.ntx...)
		out.ntxAux.merge(s.ntxAux)
		out.files = append(out.files, s.files...)
		out.notes = append(out.notes, s.notes...)
	}
	return out
}
