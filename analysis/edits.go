package analysis

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// EditOp is what a user did to the synthesised rules.
type EditOp string

// Edit operations. Exclude applies to conversations before synthesis; the
// others to rules after it, by rule ID, in the order they were made.
const (
	EditRename   EditOp = "rename"   // Arg: the new name
	EditDescribe EditOp = "describe" // Arg: the new description
	EditDelete   EditOp = "delete"   // the rule's conversations go to review
	EditMerge    EditOp = "merge"    // Arg: the ID of a rule (same protocol) folded into this one
	EditSplit    EditOp = "split"    // one rule per port range
	EditExclude  EditOp = "exclude"  // Rule empty; Arg: an address or prefix kept out of every rule
)

// Edit is one change to the rule base, kept in the workspace and replayed
// on every synthesis, so edits survive new data.
type Edit struct {
	Seq  int64 // order of the edit
	Op   EditOp
	Rule string // the rule ID the edit applies to
	Arg  string
}

// EditResult says whether an edit still applies.
type EditResult struct {
	Edit    Edit
	Applied bool
	Why     string // when not applied: the rule is gone (new data changed it), or the edit is invalid
}

// Exclusions returns the prefixes the exclude edits keep out of the rules.
func Exclusions(edits []Edit) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, e := range edits {
		if e.Op != EditExclude {
			continue
		}
		p, err := ParsePeer(e.Arg)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// ParsePeer reads an address (as a one-address prefix) or a CIDR prefix.
func ParsePeer(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is neither an address nor a prefix", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// ParsePeers reads a list of addresses and prefixes separated by commas,
// spaces or line breaks (ParsePeer each).
func ParsePeers(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' || r == '\r' }) {
		p, err := ParsePeer(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// ApplyEdits replays the rule edits (not the exclusions, which Synthesize
// takes as a knob) on rs, in order, and says what became of each.
func ApplyEdits(rs RuleSet, edits []Edit) (RuleSet, []EditResult) {
	// Edits delete and insert: work on copies, never on the caller's arrays.
	rs.Rules, rs.Review = slices.Clone(rs.Rules), slices.Clone(rs.Review)
	var results []EditResult
	for _, e := range edits {
		if e.Op == EditExclude {
			results = append(results, EditResult{Edit: e, Applied: true})
			continue
		}
		i := slices.IndexFunc(rs.Rules, func(r Rule) bool { return r.ID == e.Rule })
		if i < 0 {
			results = append(results, EditResult{Edit: e, Why: "no rule " + e.Rule + " now (new data changed the rules)"})
			continue
		}
		why := applyEdit(&rs, i, e)
		results = append(results, EditResult{Edit: e, Applied: why == "", Why: why})
	}
	return rs, results
}

// applyEdit applies e to rule i of rs; it returns why it could not.
func applyEdit(rs *RuleSet, i int, e Edit) string {
	r := &rs.Rules[i]
	switch e.Op {
	case EditRename:
		r.Name = e.Arg
	case EditDescribe:
		r.Description = e.Arg
	case EditDelete:
		for _, c := range r.Evidence.Flows {
			rs.Review = append(rs.Review, ReviewItem{Conversation: c, Reason: "rule " + r.ID + " deleted by the user"})
		}
		rs.Rules = slices.Delete(rs.Rules, i, i+1)
	case EditMerge:
		j := slices.IndexFunc(rs.Rules, func(o Rule) bool { return o.ID == e.Arg })
		switch {
		case j < 0:
			return "no rule " + e.Arg + " to merge now"
		case j == i:
			return "a rule cannot be merged into itself"
		case rs.Rules[j].Service.Proto != r.Service.Proto:
			return "rules of different protocols cannot be merged"
		}
		mergeRule(r, &rs.Rules[j])
		rs.Rules = slices.Delete(rs.Rules, j, j+1)
	case EditSplit:
		if len(r.Service.Ports) < 2 {
			return "rule " + r.ID + " has a single port range: nothing to split"
		}
		parts := splitRule(*r)
		rs.Rules = slices.Replace(rs.Rules, i, i+1, parts...)
	default:
		return "unknown edit " + string(e.Op)
	}
	return ""
}

// mergeRule folds o into r: endpoints and ports are united, evidence added.
func mergeRule(r, o *Rule) {
	r.Src, r.Dst = uniteEndpoints(r.Src, o.Src), uniteEndpoints(r.Dst, o.Dst)
	for _, p := range o.Service.Ports {
		for port := int(p.From); port <= int(p.To); port++ {
			r.Service.Ports = addPort(r.Service.Ports, uint16(port))
		}
	}
	name, desc := r.Name, r.Description
	r.Evidence = Evidence{Flows: slices.Concat(r.Evidence.Flows, o.Evidence.Flows)}
	finishRule(r)
	r.Name = name
	r.Description = desc + " (merged with " + o.ID + ")"
}

func uniteEndpoints(a, b Endpoint) Endpoint {
	switch {
	case a.Kind == KindAny || b.Kind == KindAny:
		return Endpoint{Name: "Any", Kind: KindAny}
	case a.Kind == KindGroup && b.Kind == KindGroup && a.Group == b.Group:
		return a
	}
	out := Endpoint{Name: a.Name + ", " + b.Name, Kind: KindAddresses}
	for _, p := range append(slices.Clone(a.Prefixes), b.Prefixes...) {
		if !slices.Contains(out.Prefixes, p) {
			out.Prefixes = append(out.Prefixes, p)
		}
	}
	slices.SortFunc(out.Prefixes, comparePrefix)
	return out
}

// splitRule makes one rule per port range of r, each with its own evidence.
func splitRule(r Rule) []Rule {
	var out []Rule
	for _, pr := range r.Service.Ports {
		part := r
		part.ID = fmt.Sprintf("%s-%s", r.ID, pr)
		part.Service.Ports = []PortRange{pr}
		part.Evidence = Evidence{}
		for _, c := range r.Evidence.Flows {
			if c.DPort >= pr.From && c.DPort <= pr.To {
				part.Evidence.Flows = append(part.Evidence.Flows, c)
			}
		}
		finishRule(&part)
		out = append(out, part)
	}
	return out
}
