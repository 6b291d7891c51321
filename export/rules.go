package export

import (
	"fmt"
	"io"
	"strconv"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// ruleColumns renders a rule as the review table's leading columns:
// Source, Destination, Protocol, Destination Port, Description.
func ruleColumns(r *rules.Rule) []string {
	return []string{endpointLabel(r.Src), endpointLabel(r.Dst), ingest.ProtoName(r.Service.Proto), r.Service.PortList(), r.Description}
}

// ruleTableCols are the columns of the rules table of rs: the
// deliverable's, then the ID (what 'rules edit' takes), the direction and
// the name. Endpoints and ports are lists, summarised (an endpoint from its
// members, never its name); every text may be cut, so that an 80-column
// terminal still shows the five deliverable columns.
func ruleTableCols(rs *rules.Set) []tableCol {
	return []tableCol{
		{title: "SOURCE", soft: 48, cut: 15, fit: func(i int) (string, bool) { return endpointFitted(rs.Rules[i].Src) }},
		{title: "DESTINATION", soft: 48, cut: 15, fit: func(i int) (string, bool) { return endpointFitted(rs.Rules[i].Dst) }},
		{title: "PROTOCOL"}, {title: "DESTINATION PORT", sep: ", ", soft: 24, cut: 16}, {title: "DESCRIPTION", soft: 40, cut: 16},
		{title: "ID", optional: true}, {title: "DIRECTION", optional: true}, {title: "NAME", soft: 24, cut: 12, optional: true}}
}

// reviewTableCols are the columns of the review list under the rules.
var reviewTableCols = []tableCol{{title: "SOURCE"}, {title: "DESTINATION"}, {title: "SERVICE"},
	{title: "SESSIONS"}, {title: "REASON", soft: 40, cut: 16}}

// outsideTableCols are the columns of the list of conversations outside the
// scope: the review list's without the reason, which the title gives.
var outsideTableCols = reviewTableCols[:4]

// ruleTableRow fills the rules table's cells of r.
func ruleTableRow(r *rules.Rule, cells []string) {
	copy(cells, append(ruleColumns(r), r.ID, r.Direction.String(), r.Name))
}

// WriteRulesTable writes the rules, the review list and the knobs as text,
// the rules fitted to o.Width unless o.Wide (see TableOptions).
func WriteRulesTable(w io.Writer, rs rules.Set, o TableOptions) error {
	err := textTable(w, ruleTableCols(&rs), len(rs.Rules), func(i int, cells []string) { ruleTableRow(&rs.Rules[i], cells) }, o)
	if err != nil {
		return err
	}
	title := fmt.Sprintf("To review (%s kept out of the rules):", analysis.Plural(uint64(len(rs.Review)), "conversation"))
	if err := writeItems(w, title, rs.Table, rs.Review, reviewTableCols, o); err != nil {
		return err
	}
	title = fmt.Sprintf("Outside the scope (%s with neither end monitored or in the focus; not made rules):",
		analysis.Plural(uint64(len(rs.Outside)), "conversation"))
	if err := writeItems(w, title, rs.Table, rs.Outside, outsideTableCols, o); err != nil {
		return err
	}
	k := rs.Knobs
	_, err = fmt.Fprintf(w, "\n%s: they admit %s (source, destination, port) combinations\nand %s never seen.\n"+
		"Knobs: collapse peers into a prefix from %d hosts at %.0f%% coverage;\nAny above %d peers; port scan from %d ports.\n",
		analysis.Plural(uint64(len(rs.Rules)), "rule"), analysis.Thousands(rs.Observed), analysis.Thousands(rs.Permissiveness),
		k.CollapseMin, k.CollapseCoverage, k.AnyPeers, k.ScanPorts)
	return err
}

type jsonEndpoint struct {
	Name       string   `json:"name"`
	Kind       string   `json:"kind"`
	Group      string   `json:"group,omitempty"`
	Categories []string `json:"categories,omitempty"`
	Tag        string   `json:"nsx_group,omitempty"`
	Prefixes   []string `json:"prefixes,omitempty"`
}

// endpointKinds name the rules.EndpointKind values in JSON.
var endpointKinds = [...]string{rules.KindAddresses: "addresses", rules.KindGroup: "group",
	rules.KindAny: "any", rules.KindIPSet: "ipset"}

// writeItems lists conversations kept out of the rules under a title, as
// a table of cols (the reasons are its fifth column, when it has one), fitted
// like the rules; nothing when there are none.
func writeItems(w io.Writer, title string, t *analysis.Table, items []rules.ReviewItem, cols []tableCol, o TableOptions) error {
	if len(items) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\n%s\n", title)
	return textTable(w, cols, len(items), func(i int, cells []string) {
		row := int(items[i].Row)
		cells[0], cells[1] = withVMName(t.Src(row).String(), t.SrcVM(row).VM), withVMName(t.Dst(row).String(), t.DstVM(row).VM)
		cells[2] = ingest.ProtoName(t.Proto(row)) + "/" + strconv.Itoa(int(t.DPort(row)))
		cells[3] = analysis.Thousands(t.Sessions(row))
		if len(cells) > 4 {
			cells[4] = items[i].Reason
		}
	}, o)
}

// withVMName renders an address with its VM name: "10.0.0.1 (web-01)".
func withVMName(addr, vm string) string {
	if vm == "" {
		return addr
	}
	return addr + " (" + vm + ")"
}

type jsonRule struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Direction   string       `json:"direction"`
	Src         jsonEndpoint `json:"source"`
	Dst         jsonEndpoint `json:"destination"`
	Protocol    string       `json:"protocol"`
	Ports       string       `json:"ports,omitempty"`
	Service     string       `json:"service,omitempty"`
	Action      string       `json:"action"`
	Description string       `json:"description"`
	Sessions    uint64       `json:"sessions"`
	Bytes       uint64       `json:"bytes"`
	Flows       int          `json:"conversations"`
	FirstSeen   string       `json:"first_seen,omitempty"`
	LastSeen    string       `json:"last_seen,omitempty"`
	Hosts       []string     `json:"hosts"`
	Samples     []string     `json:"samples"`
}

func endpointJSON(e rules.Endpoint) jsonEndpoint {
	out := jsonEndpoint{Name: e.Name, Kind: endpointKinds[e.Kind], Group: e.Group, Categories: e.Categories, Tag: e.Tag}
	for _, p := range e.Prefixes {
		out.Prefixes = append(out.Prefixes, p.String())
	}
	return out
}

// jsonItem is a conversation kept out of the rules, and why.
type jsonItem struct {
	Flow   jsonFlow `json:"conversation"`
	Reason string   `json:"reason"`
}

// WriteRulesJSON writes the rule set as JSON: rules with their evidence,
// the review list, the conversations outside the scope, the knobs, the
// scope and the permissiveness figures. The lists are written an item at a
// time, as one json.Encoder (indented by two spaces, HTML left as it is)
// writes the whole document.
func WriteRulesJSON(w io.Writer, rs rules.Set) error {
	js := newJSONStream(w, false)
	js.raw("{")
	js.field(0, "rules", true)
	samples, stop := ruleSamples(&rs)
	defer stop()
	js.array(1, len(rs.Rules), func(i int) any {
		r := &rs.Rules[i]
		e := &r.Evidence
		return jsonRule{ID: r.ID, Name: r.Name, Direction: r.Direction.String(),
			Src: endpointJSON(r.Src), Dst: endpointJSON(r.Dst), Protocol: ingest.ProtoName(r.Service.Proto),
			Ports: r.Service.PortList(), Service: r.Service.Name, Action: r.Action.String(), Description: r.Description,
			Sessions: e.Sessions, Bytes: e.Bytes, Flows: e.Conversations, FirstSeen: formatTime(e.First),
			LastSeen: formatTime(e.Last), Hosts: nonNil(e.Hosts), Samples: nonNil(samples(i))}
	})
	for _, list := range []struct {
		name  string
		items []rules.ReviewItem
	}{{"review", rs.Review}, {"outside_scope", rs.Outside}} {
		js.field(0, list.name, false)
		rows := make([]int32, len(list.items))
		for i, it := range list.items {
			rows[i] = it.Row
		}
		js.array(1, len(rows), detailed(rs.Table, rows, func(row int, samples []string, i int) any {
			return jsonItem{toJSONFlow(rs.Table, row, samples), list.items[i].Reason}
		}))
	}
	for _, f := range []struct {
		name string
		v    any
	}{{"knobs", rs.Knobs}, {"scope", rs.Scope}, {"observed_combinations", rs.Observed},
		{"unseen_combinations_admitted", rs.Permissiveness}} {
		js.field(0, f.name, false)
		js.value(1, f.v)
	}
	js.raw("\n}")
	if err := js.end(); err != nil {
		return err
	}
	return rs.Table.Err()
}
