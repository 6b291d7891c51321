package app

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/analysis/services"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// dialogWidth is how wide the rule dialogs are: room for a long name or
// description in the entry.
const dialogWidth = 640

// ruleLabel names a rule by what it admits: "SGTSWEB → 10.10.0.10 DNS (53/udp)".
func ruleLabel(r *rules.Rule) string {
	return r.Src.Name + " → " + r.Dst.Name + " " + r.Service.Label()
}

// editText says what an edit did, in words, from the rules it produced.
func editText(res rules.EditResult, rs *rules.Set) string {
	e := res.Edit
	rule := ruleName(e.Rule, rs)
	var text string
	switch e.Op {
	case rules.EditRename:
		text = fmt.Sprintf("Named %s “%s”", rule, e.Arg)
	case rules.EditDescribe:
		text = fmt.Sprintf("Described %s: “%s”", rule, e.Arg)
	case rules.EditDelete:
		text = "Deleted " + rule + " (its conversations are in Review)"
	case rules.EditMerge:
		text = fmt.Sprintf("Merged rule %s into %s", e.Arg, rule)
	case rules.EditSplit:
		text = splitText(e.Rule, rs)
	case rules.EditExclude:
		text = fmt.Sprintf("Kept %s out of every rule (its conversations are in Review)", e.Arg)
	default:
		text = fmt.Sprintf("%s %s %s", e.Op, e.Rule, e.Arg)
	}
	if !res.Applied {
		text += " — no longer applies: " + res.Why
	}
	return text
}

// ruleName names rule id for people: by what it admits, or, once deleted,
// by the conversations it had (which went to review), else by its ID.
func ruleName(id string, rs *rules.Set) string {
	if i := slices.IndexFunc(rs.Rules, func(r rules.Rule) bool { return r.ID == id }); i >= 0 {
		return ruleLabel(&rs.Rules[i])
	}
	return deletedRule(id, rs)
}

// deletedRule describes a deleted rule by the conversations it had, which
// the deletion sent to review.
func deletedRule(id string, rs *rules.Set) string {
	reason := "rule " + id + " deleted by the user"
	first, n := -1, 0
	for i := range rs.Review {
		if rs.Review[i].Reason == reason {
			if first < 0 {
				first = int(rs.Review[i].Row)
			}
			n++
		}
	}
	if first < 0 {
		return "rule " + id
	}
	t := rs.Table
	what := fmt.Sprintf("the rule for %s → %s %s", t.Src(first), t.Dst(first), services.Label(t.Proto(first), t.ServicePort(first)))
	if n > 1 {
		what += fmt.Sprintf(" and %s more %s", thousands(n-1), nounFor(uint64(n-1), "conversation"))
	}
	return what
}

// splitText describes a split by the rules it made ("ID-ports").
func splitText(id string, rs *rules.Set) string {
	var parts []*rules.Rule
	for i := range rs.Rules {
		if strings.HasPrefix(rs.Rules[i].ID, id+"-") {
			parts = append(parts, &rs.Rules[i])
		}
	}
	if len(parts) == 0 {
		return "Split rule " + id + " into one rule per port range"
	}
	var ports []string
	for _, p := range parts {
		ports = append(ports, p.Service.PortList())
	}
	r := parts[0]
	return fmt.Sprintf("Split %s → %s %s into %s, one per port range (%s)", r.Src.Name, r.Dst.Name,
		strings.ToLower(ingest.ProtoName(r.Service.Proto)), plural(len(parts), "rule"), strings.Join(ports, ", "))
}

// reviewGroup is one row of the Review list: the suspect conversations of
// one source and destination with one reason (a scanner's many ports are
// one row).
type reviewGroup struct {
	src, dst     netip.Addr
	srcVM, dstVM string
	proto        uint8
	ports        []uint16 // sorted
	sessions     uint64
	reason       string
}

// groupReview groups review items (rows of t) by source, destination,
// protocol and reason, in the order of their first item.
func groupReview(t *analysis.Table, items []rules.ReviewItem) []reviewGroup {
	type key struct {
		src, dst netip.Addr
		proto    uint8
		reason   string
	}
	at := make(map[key]int)
	var out []reviewGroup
	for i := range items {
		row := int(items[i].Row)
		k := key{t.Src(row), t.Dst(row), t.Proto(row), items[i].Reason}
		j, ok := at[k]
		if !ok {
			j = len(out)
			at[k] = j
			out = append(out, reviewGroup{src: k.src, dst: k.dst, srcVM: t.SrcVM(row).VM, dstVM: t.DstVM(row).VM, proto: k.proto, reason: k.reason})
		}
		g := &out[j]
		g.sessions += t.Sessions(row)
		if p := t.ServicePort(row); !slices.Contains(g.ports, p) {
			g.ports = append(g.ports, p)
		}
	}
	for i := range out {
		slices.Sort(out[i].ports)
	}
	slices.SortStableFunc(out, func(a, b reviewGroup) int {
		return cmp.Or(a.src.Compare(b.src), a.dst.Compare(b.dst))
	})
	return out
}

// cell renders column col of the Review list.
func (g *reviewGroup) cell(col int) string {
	switch col {
	case 0:
		return withVM(g.src, g.srcVM)
	case 1:
		return withVM(g.dst, g.dstVM)
	case 2:
		return g.service()
	case 3:
		return thousandsU(g.sessions)
	case 4:
		return g.reason
	}
	return ""
}

// service is the group's service, or its ports: "HTTPS (443/tcp)", or
// "60 TCP ports: 21, 22, 23, 25 …".
func (g *reviewGroup) service() string {
	if len(g.ports) == 1 {
		return services.Label(g.proto, g.ports[0])
	}
	const show = 6
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s ports: ", len(g.ports), ingest.ProtoName(g.proto))
	for i, p := range g.ports {
		if i == show {
			b.WriteString(" …")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(int(p)))
	}
	return b.String()
}
