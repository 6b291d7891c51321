package rules

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/flowsleuth/flowsleuth/analysis"
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
		p, err := analysis.ParsePeer(e.Arg)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// ApplyEdits replays the rule edits (not the exclusions, which Synthesize
// takes as a knob) on rs, in order, and says what became of each.
func ApplyEdits(rs Set, edits []Edit) (Set, []EditResult) {
	// Edits delete and insert: work on copies, never on the caller's
	// arrays (which exclusions, applied by Synthesize, leave alone).
	if slices.ContainsFunc(edits, func(e Edit) bool { return e.Op != EditExclude }) {
		rs.Rules, rs.Review = slices.Clone(rs.Rules), slices.Clone(rs.Review)
	}
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
func applyEdit(rs *Set, i int, e Edit) string {
	r := &rs.Rules[i]
	switch e.Op {
	case EditRename:
		r.Name, r.NameEdited = e.Arg, true
	case EditDescribe:
		r.Description, r.DescriptionEdited = e.Arg, true
	case EditDelete:
		for _, row := range r.Evidence.Rows {
			rs.Review = append(rs.Review, ReviewItem{Row: row, Reason: "rule " + r.ID + " deleted by the user"})
		}
		rs.Rules = slices.Delete(rs.Rules, i, i+1)
	case EditMerge:
		j := slices.IndexFunc(rs.Rules, func(o Rule) bool { return o.ID == e.Arg })
		if why := mergeable(rs.Rules, i, j, e.Arg); why != "" {
			return why
		}
		mergeRule(rs.Table, r, &rs.Rules[j])
		rs.Rules = slices.Delete(rs.Rules, j, j+1)
	case EditSplit:
		if len(r.Service.Ports) < 2 {
			return "rule " + r.ID + " has a single port range: nothing to split"
		}
		parts := splitRule(rs.Table, *r)
		rs.Rules = slices.Replace(rs.Rules, i, i+1, parts...)
	default:
		return "unknown edit " + string(e.Op)
	}
	return ""
}

// mergeable says why rule j (ID id) cannot be merged into rule i, or "".
func mergeable(rules []Rule, i, j int, id string) string {
	switch {
	case j < 0:
		return "no rule " + id + " to merge now"
	case j == i:
		return "a rule cannot be merged into itself"
	case rules[j].Service.Proto != rules[i].Service.Proto:
		return "rules of different protocols cannot be merged"
	case rules[j].Direction != rules[i].Direction:
		return "rules of different directions cannot be merged"
	}
	return ""
}

// mergeRule folds o into r: endpoints and ports are united without
// repeats, and the evidence, totals and generated name and description are
// made again from both rules' conversations (a name or description the user
// wrote stays).
func mergeRule(t *analysis.Table, r, o *Rule) {
	r.Src, r.Dst = uniteEndpoints(r.Src, o.Src), uniteEndpoints(r.Dst, o.Dst)
	for _, p := range o.Service.Ports {
		for port := int(p.From); port <= int(p.To); port++ {
			r.Service.Ports = addPort(r.Service.Ports, uint16(port))
		}
	}
	r.Evidence = Evidence{Rows: slices.Concat(r.Evidence.Rows, o.Evidence.Rows)}
	finishRule(t, r)
}

// uniteEndpoints returns an endpoint holding a's and b's members, each
// once. The same endpoint stays itself; Any absorbs the other; an IP set
// keeps its identity and takes the other's members (and name, when they
// add members); other pairs become an IP set identified by both keys and
// named after both.
func uniteEndpoints(a, b Endpoint) Endpoint {
	switch {
	case a.Kind == KindAny || b.Kind == KindAny:
		return Endpoint{Name: "Any", Kind: KindAny}
	case a.Key() == b.Key():
		a.Prefixes = unitePrefixes(a.Prefixes, b.Prefixes)
		return a
	case a.Kind == KindAddresses && b.Kind == KindAddresses:
		return addressEndpoint(unitePrefixes(a.Prefixes, b.Prefixes))
	case a.Kind == KindIPSet && b.Kind != KindGroup && subset(b.Prefixes, a.Prefixes):
		return a // b adds no member: a as it is
	case a.Kind == KindIPSet && b.Kind != KindGroup:
		a.Prefixes = unitePrefixes(a.Prefixes, b.Prefixes)
		if !subset(a.Prefixes, b.Prefixes) {
			a.Name += ", " + b.Name
		} else {
			a.Name = b.Name
		}
		return a
	}
	names := []string{a.Name}
	if b.Name != a.Name {
		names = append(names, b.Name)
	}
	return Endpoint{Name: strings.Join(names, ", "), Kind: KindIPSet, Group: "union of " + a.Key() + " and " + b.Key(),
		Prefixes: unitePrefixes(a.Prefixes, b.Prefixes)}
}

// subset reports whether every prefix of a is in b.
func subset(a, b []netip.Prefix) bool {
	for _, p := range a {
		if !slices.Contains(b, p) {
			return false
		}
	}
	return true
}

// unitePrefixes returns the prefixes of a and b, sorted, each once.
func unitePrefixes(a, b []netip.Prefix) []netip.Prefix {
	out := slices.Concat(a, b)
	slices.SortFunc(out, comparePrefix)
	return slices.Compact(out)
}

// splitRule makes one rule per port range of r, each with its own evidence.
func splitRule(t *analysis.Table, r Rule) []Rule {
	var out []Rule
	for _, pr := range r.Service.Ports {
		part := r
		part.ID = fmt.Sprintf("%s-%s", r.ID, pr)
		part.Service.Ports = []PortRange{pr}
		part.Evidence = Evidence{}
		for _, i := range r.Evidence.Rows {
			if p := t.DPort(int(i)); p >= pr.From && p <= pr.To {
				part.Evidence.Rows = append(part.Evidence.Rows, i)
			}
		}
		finishRule(t, &part)
		out = append(out, part)
	}
	return out
}
