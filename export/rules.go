package export

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/ingest"
	"github.com/flowsleuth/flowsleuth/ingest/printable"
)

// ruleColumns renders a rule as the review table's leading columns:
// Source, Destination, Protocol, Destination Port, Description.
func ruleColumns(r *analysis.Rule) []string {
	return []string{r.Src.Name, r.Dst.Name, ingest.ProtoName(r.Service.Proto), r.Service.PortList(), r.Description}
}

// WriteRulesTable writes the rules, the review list and the knobs as text.
func WriteRulesTable(w io.Writer, rs analysis.RuleSet) error {
	w = printable.NewWriter(w) // names and descriptions come from log text
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tDESTINATION\tPROTOCOL\tDESTINATION PORT\tDESCRIPTION\tDIRECTION\tID\tNAME\t")
	for i := range rs.Rules {
		r := &rs.Rules[i]
		fmt.Fprintln(tw, strings.Join(append(ruleColumns(r), r.Direction.String(), r.ID, r.Name), "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rs.Review) > 0 {
		fmt.Fprintf(w, "\nTo review (%d conversations kept out of the rules):\n", len(rs.Review))
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, it := range rs.Review {
			c := &it.Conversation
			fmt.Fprintf(tw, "  %s\t%s\t%s/%d\t%d sessions\t%s\n", c.Src, c.Dst, ingest.ProtoName(c.Proto), c.DPort, c.Sessions, it.Reason)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	k := rs.Knobs
	_, err := fmt.Fprintf(w, "\n%d rules admitting %d observed (source, destination, port) combinations and %d never seen.\n"+
		"Knobs: collapse peers into a prefix from %d hosts at %.0f%% coverage; Any above %d peers; port scan from %d ports.\n",
		len(rs.Rules), rs.Observed, rs.Permissiveness, k.CollapseMin, k.CollapseCoverage, k.AnyPeers, k.ScanPorts)
	return err
}

type jsonEndpoint struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	Group    string   `json:"group,omitempty"`
	Prefixes []string `json:"prefixes,omitempty"`
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

func endpointJSON(e analysis.Endpoint) jsonEndpoint {
	out := jsonEndpoint{Name: e.Name, Kind: [...]string{"addresses", "group", "any"}[e.Kind], Group: e.Group}
	for _, p := range e.Prefixes {
		out.Prefixes = append(out.Prefixes, p.String())
	}
	return out
}

// WriteRulesJSON writes the rule set as JSON: rules with their evidence,
// the review list, the knobs and the permissiveness figures.
func WriteRulesJSON(w io.Writer, rs analysis.RuleSet) error {
	doc := struct {
		Rules  []jsonRule `json:"rules"`
		Review []struct {
			Flow   jsonFlow `json:"conversation"`
			Reason string   `json:"reason"`
		} `json:"review"`
		Knobs          analysis.Knobs `json:"knobs"`
		Observed       uint64         `json:"observed_combinations"`
		Permissiveness uint64         `json:"unseen_combinations_admitted"`
	}{Rules: []jsonRule{}, Knobs: rs.Knobs, Observed: rs.Observed, Permissiveness: rs.Permissiveness}
	for i := range rs.Rules {
		r := &rs.Rules[i]
		e := &r.Evidence
		doc.Rules = append(doc.Rules, jsonRule{ID: r.ID, Name: r.Name, Direction: r.Direction.String(),
			Src: endpointJSON(r.Src), Dst: endpointJSON(r.Dst), Protocol: ingest.ProtoName(r.Service.Proto),
			Ports: r.Service.PortList(), Service: r.Service.Name, Action: r.Action.String(), Description: r.Description,
			Sessions: e.Sessions, Bytes: e.Bytes, Flows: e.Conversations, FirstSeen: formatTime(e.First),
			LastSeen: formatTime(e.Last), Hosts: nonNil(e.Hosts), Samples: nonNil(e.Samples)})
	}
	for _, it := range rs.Review {
		doc.Review = append(doc.Review, struct {
			Flow   jsonFlow `json:"conversation"`
			Reason string   `json:"reason"`
		}{toJSONFlow(&it.Conversation), it.Reason})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
