package export

import (
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// RuleSheetColumns are the columns of the rules CSV and of the workbook's
// Rules sheet, in order. The first five are the ones change tickets quote.
var RuleSheetColumns = []string{"Source", "Destination", "Protocol", "Destination Port", "Description",
	"Direction", "Service", "Action", "Sessions", "Bytes", "First seen", "Last seen", "Evidence", "Name", "Rule ID"}

// Limits of the Source, Destination and Evidence texts.
const (
	maxListedMembers = 8 // an address set with more members shows its name only
	maxListedHosts   = 5 // reporting hosts named in the evidence
)

// ruleRow is one rule as the RuleSheetColumns, with numbers and times typed.
type ruleRow struct {
	src, dst, proto, ports, desc string
	dir, service, action         string
	sessions, bytes              uint64
	first, last                  time.Time
	evidence                     string
	name, id                     string
}

// newRuleRow renders r, with its sample lines, as the RuleSheetColumns.
func newRuleRow(r *rules.Rule, samples []string) ruleRow {
	e := &r.Evidence
	return ruleRow{
		src: endpointLabel(r.Src), dst: endpointLabel(r.Dst),
		proto: ingest.ProtoName(r.Service.Proto), ports: r.Service.PortList(), desc: r.Description,
		dir: r.Direction.String(), service: r.Service.Name, action: r.Action.String(),
		sessions: e.Sessions, bytes: e.Bytes, first: e.First, last: e.Last,
		evidence: evidenceText(e, samples), name: r.Name, id: r.ID,
	}
}

// record returns the row as CSV fields: integers in decimal, times as RFC
// 3339 UTC ("" when unknown).
func (r *ruleRow) record() []string {
	return []string{r.src, r.dst, r.proto, r.ports, r.desc, r.dir, r.service, r.action,
		strconv.FormatUint(r.sessions, 10), strconv.FormatUint(r.bytes, 10),
		formatTime(r.first), formatTime(r.last), r.evidence, r.name, r.id}
}

// WriteRulesCSV writes the rules of rs as RFC 4180 CSV with a header row of
// RuleSheetColumns, like WriteFlowsCSV: fields quoted when needed, lines
// ended by LF, integers in decimal, times RFC 3339 UTC. Review items are not
// written. It returns the first error of w.
func WriteRulesCSV(w io.Writer, rs rules.Set) error {
	cw := NewCSVWriter(w)
	if err := cw.Write(RuleSheetColumns); err != nil {
		return err
	}
	next, stop := ruleSamples(&rs)
	defer stop()
	for i := range rs.Rules {
		row := newRuleRow(&rs.Rules[i], next(i))
		if err := cw.Write(Defuse(row.record())); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return rs.Table.Err()
}

// ruleSamples returns a function of i that gives the sample lines of rule
// i of rs, reading them a chunk of rules at a time, the next chunk on
// another goroutine while the caller writes the rules of this one (on a
// workspace the lines are read from it: a third of writing its rules). i
// must go up by one. stop ends the reading and waits for it; call it once
// the rules are written.
func ruleSamples(rs *rules.Set) (next func(i int) []string, stop func()) {
	const chunk = 1024
	chunks := make(chan [][]string, 1)
	quit := make(chan struct{})
	go func() {
		defer close(chunks)
		for from := 0; from < len(rs.Rules); from += chunk {
			rules := make([]*rules.Rule, 0, chunk)
			for j := from; j < min(from+chunk, len(rs.Rules)); j++ {
				rules = append(rules, &rs.Rules[j])
			}
			select {
			case chunks <- rs.SamplesOf(rules):
			case <-quit:
				return
			}
		}
	}()
	var lines [][]string
	next = func(i int) []string {
		if i%chunk == 0 {
			lines = <-chunks
		}
		return lines[i%chunk]
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			close(quit)
			for range chunks {
			}
		})
	}
	return next, stop
}

// endpointLabel renders e for people: its name, followed by the members of a
// small address set or IP set ("DNS servers (10.0.0.1, 10.0.0.2)"). An
// address set without a name shows its members, at most maxListedMembers of
// them.
func endpointLabel(e rules.Endpoint) string {
	name, ps := endpointParts(e)
	if ps == nil {
		return name
	}
	members := prefixList(ps, maxListedMembers)
	if name == "" {
		return members
	}
	return name + " (" + members + ")"
}

// endpointParts are what endpointLabel shows of e: a name ("" for none) and
// the members listed after it (nil for none).
func endpointParts(e rules.Endpoint) (string, []netip.Prefix) {
	name := e.Name
	if name == "" {
		switch e.Kind {
		case rules.KindAny:
			return "Any", nil
		case rules.KindGroup:
			return e.Group, nil
		}
	}
	if (e.Kind != rules.KindAddresses && e.Kind != rules.KindIPSet) || len(e.Prefixes) == 0 ||
		name != "" && len(e.Prefixes) > maxListedMembers {
		return name, nil
	}
	if name == prefixList(e.Prefixes, maxListedMembers) {
		name = ""
	}
	return name, e.Prefixes
}

// endpointFitted is endpointLabel in a table that fits a terminal: its list
// of members or addresses summarised ("DNS servers (10.10.0.10 +3 more)"),
// a name never cut at its commas ("DNS, Kerberos servers"). It reports
// whether it summarised.
func endpointFitted(e rules.Endpoint) (string, bool) {
	name, ps := endpointParts(e)
	if ps == nil {
		if e.Kind == rules.KindAddresses { // a name that is the list of its addresses (a merge's)
			return summarise(name, ", ", listMax)
		}
		return name, false
	}
	members, cut := summarise(prefixList(ps, len(ps)), ", ", listMax)
	if name == "" {
		return members, cut
	}
	return name + " (" + members + ")", cut
}

// prefixList joins the first max prefixes (single addresses without their
// length) and says how many more there are.
func prefixList(ps []netip.Prefix, max int) string {
	var b strings.Builder
	for i, p := range ps {
		if i == max {
			b.WriteString(" and " + strconv.Itoa(len(ps)-max) + " more")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		if p.IsSingleIP() {
			b.WriteString(p.Addr().String())
		} else {
			b.WriteString(p.String())
		}
	}
	return b.String()
}

// evidenceText summarises e, whose sample lines are samples: "12
// conversations; hosts ahv-1, ahv-2; sample: <first raw line>".
func evidenceText(e *rules.Evidence, samples []string) string {
	n := e.Conversations
	if n == 0 {
		n = len(e.Rows)
	}
	parts := []string{analysis.Plural(uint64(n), "conversation")}
	if len(e.Hosts) > 0 {
		parts = append(parts, "hosts "+joinFirst(e.Hosts, maxListedHosts))
	}
	if s := firstLine(samples); s != "" {
		parts = append(parts, "sample: "+s)
	}
	return strings.Join(parts, "; ")
}

// joinFirst joins the first max strings with ", " and says how many more
// there are.
func joinFirst(ss []string, max int) string {
	if len(ss) <= max {
		return strings.Join(ss, ", ")
	}
	return strings.Join(ss[:max], ", ") + " and " + analysis.Thousands(uint64(len(ss)-max)) + " more"
}

// ReviewColumns are the columns of review.csv.
var ReviewColumns = []string{"Reason", "Direction", "Source", "Destination", "Protocol", "Destination Port",
	"Sessions", "Unanswered", "First seen", "Last seen", "Source VM", "Destination VM", "Tags", "Sample"}

// WriteReviewCSV writes the conversations kept out of the rules, the review
// list then those outside the scope, as RFC 4180 CSV with a header row of
// ReviewColumns (formula-like text defused). It returns the first error of w.
func WriteReviewCSV(w io.Writer, rs rules.Set) error {
	cw := NewCSVWriter(w)
	if err := cw.Write(ReviewColumns); err != nil {
		return err
	}
	t := rs.Table
	err := eachItem(t, slices.Concat(rs.Review, rs.Outside), func(reason string, i int, samples []string) error {
		rec := []string{reason, t.Direction(i).String(), t.Src(i).String(), t.Dst(i).String(), ingest.ProtoName(t.Proto(i)),
			strconv.Itoa(int(t.DPort(i))), strconv.FormatUint(t.Sessions(i), 10), strconv.FormatUint(t.Unanswered(i), 10),
			formatTime(t.First(i)), formatTime(t.Last(i)), t.SrcVM(i).VM, t.DstVM(i).VM, string(joinTags(nil, t.Tags(i))), firstLine(samples)}
		return cw.Write(Defuse(rec))
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// eachItem calls fn with the reason, the row and its sample lines of each
// review item, the sample lines read a chunk of items at a time. It returns
// fn's first error, else t's.
func eachItem(t *analysis.Table, items []rules.ReviewItem, fn func(reason string, row int, samples []string) error) error {
	rows := make([]int32, len(items))
	for i, it := range items {
		rows[i] = it.Row
	}
	var err error
	next := detailed(t, rows, func(row int, samples []string, i int) any {
		err = fn(items[i].Reason, row, samples)
		return nil
	})
	for i := 0; i < len(rows) && err == nil; i++ {
		next(i)
	}
	if err != nil {
		return err
	}
	return t.Err()
}

// firstLine is the first sample line, trimmed ("" when none).
func firstLine(samples []string) string {
	if len(samples) == 0 {
		return ""
	}
	return strings.TrimSpace(samples[0])
}
