// Package export writes conversations and rules for people and for vendor
// APIs: CSV, JSON and, later, XLSX workbooks and policy bodies.
package export

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// FlowColumns are the columns of the flows CSV, in order.
var FlowColumns = []string{"direction", "tags", "src", "dst", "proto", "dport", "sessions",
	"packets", "bytes", "first_seen", "last_seen", "actions", "hosts"}

// flowRecord renders row i of t as the flows CSV columns.
func flowRecord(t *analysis.Table, i int) []string {
	return []string{
		t.Direction(i).String(),
		string(joinTags(nil, t.Tags(i))),
		t.Src(i).String(),
		t.Dst(i).String(),
		ingest.ProtoName(t.Proto(i)),
		strconv.Itoa(int(t.DPort(i))),
		strconv.FormatUint(t.Sessions(i), 10),
		strconv.FormatUint(t.Packets(i), 10),
		strconv.FormatUint(t.Bytes(i), 10),
		formatTime(t.First(i)),
		formatTime(t.Last(i)),
		strings.Join(actionNames(t.Actions(i)), ";"),
		strings.Join(t.Hosts(i), ";"),
	}
}

// joinTags appends the tag names joined with ';', as TagNames and
// strings.Join would give them.
func joinTags(b []byte, tags []analysis.Tag) []byte {
	for i, t := range tags {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, t.Name...)
	}
	return b
}

// NewCSVWriter returns a CSV writer as RFC 4180 asks: CRLF line ends.
func NewCSVWriter(w io.Writer) *csv.Writer {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return cw
}

// Defuse protects a CSV record from formula injection: tags, host names
// and descriptions come from untrusted logs, and a spreadsheet runs a cell
// that starts with '=', '+', '-', '@', TAB or CR as a formula. Such cells
// get a leading apostrophe (OWASP's advice), which spreadsheets hide.
// Numbers, addresses and dates never start with those characters.
func Defuse(record []string) []string {
	for i, f := range record {
		if f != "" && isFormulaStart(f[0]) {
			record[i] = "'" + f
		}
	}
	return record
}

// formatTime renders t as RFC 3339 UTC to the second; the zero time is "".
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Truncate(time.Second).Format(time.RFC3339)
}

// actionNames returns the names of as, sorted alphabetically.
func actionNames(as []ingest.Action) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	slices.Sort(out)
	return out
}

// WriteFlowsCSV writes the given rows of t (t.All() for all), in that
// order, as RFC 4180 CSV (CRLF line ends) with a header row of
// FlowColumns; lists are joined with ';' and times are RFC 3339 UTC. Text
// that a spreadsheet would run as a formula is defused.
func WriteFlowsCSV(w io.Writer, t *analysis.Table, rows []int32) error {
	cw := NewCSVWriter(w)
	if err := cw.Write(FlowColumns); err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil || len(rows) == 0 { // no rows: t may be nil
		return err
	}
	c := flowsCSV{t: t, tags: make([]*string, t.TagSets()), hosts: make([]*string, t.HostSets()),
		acts: make([]*string, t.ActionSets())}
	var b []byte
	for n, i := range rows {
		b = c.appendRow(b, int(i))
		if len(b) >= 32<<10 || n == len(rows)-1 {
			if _, err := w.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	return nil
}

// flowsCSV appends the rows of the flows CSV to a buffer: the bytes a
// csv.Writer (NewCSVWriter) writes of Defuse(flowRecord), without making
// a dozen strings a row (the writing was a third of its time in the
// garbage collector). A row's lists are joined once per distinct list.
type flowsCSV struct {
	t                 *analysis.Table
	tags, hosts, acts []*string // per list number: the list joined, once made
	num               []byte
}

func (c *flowsCSV) appendRow(b []byte, i int) []byte {
	t := c.t
	b = appendCSVField(b, t.Direction(i).String())
	b = appendCSVField(append(b, ','), joined(c.tags, t.TagSet(i), func(n int) string { return string(joinTags(nil, t.TagSetOf(n))) }))
	for _, a := range [...]netip.Addr{t.Src(i), t.Dst(i)} {
		c.num = a.AppendTo(c.num[:0])
		b = appendCSVField(append(b, ','), c.num)
	}
	b = appendCSVField(append(b, ','), ingest.ProtoName(t.Proto(i)))
	for _, n := range [...]uint64{uint64(t.DPort(i)), t.Sessions(i), t.Packets(i), t.Bytes(i)} {
		c.num = strconv.AppendUint(c.num[:0], n, 10)
		b = appendCSVField(append(b, ','), c.num)
	}
	for _, at := range [...]time.Time{t.First(i), t.Last(i)} {
		c.num = c.num[:0]
		if !at.IsZero() {
			c.num = at.UTC().Truncate(time.Second).AppendFormat(c.num, time.RFC3339)
		}
		b = appendCSVField(append(b, ','), c.num)
	}
	b = appendCSVField(append(b, ','), joined(c.acts, t.ActionSet(i), func(n int) string {
		return strings.Join(actionNames(t.ActionSetOf(n)), ";")
	}))
	b = appendCSVField(append(b, ','), joined(c.hosts, t.HostSet(i), func(n int) string { return strings.Join(t.HostSetOf(n), ";") }))
	return append(b, '\r', '\n')
}

// joined returns list n joined by join, made once.
func joined(lists []*string, n int, join func(n int) string) string {
	if lists[n] == nil {
		s := join(n)
		lists[n] = &s
	}
	return *lists[n]
}

// appendCSVField appends field f as NewCSVWriter writes Defuse's f: with
// an apostrophe before a formula's first character, quoted when it holds
// a comma, a quote or a line end, starts with a space, or is \. (quotes
// doubled, CR dropped and LF written CRLF inside quotes).
func appendCSVField[S ~string | ~[]byte](b []byte, f S) []byte {
	defuse := len(f) > 0 && isFormulaStart(f[0])
	if !csvQuoted(f, defuse) {
		if defuse {
			b = append(b, '\'')
		}
		return append(b, f...)
	}
	b = append(b, '"')
	if defuse {
		b = append(b, '\'')
	}
	return append(appendCSVEscaped(b, f), '"')
}

// csvQuoted reports whether csv.Writer quotes f (with an apostrophe before
// it when defuse).
func csvQuoted[S ~string | ~[]byte](f S, defuse bool) bool {
	if !defuse && len(f) == 2 && f[0] == '\\' && f[1] == '.' {
		return true
	}
	for i := 0; i < len(f); i++ {
		if c := f[i]; c == ',' || c == '"' || c == '\r' || c == '\n' {
			return true
		}
	}
	if defuse || len(f) == 0 {
		return false
	}
	var head [utf8.UTFMax]byte
	r, _ := utf8.DecodeRune(head[:copy(head[:], f[:min(len(f), utf8.UTFMax)])])
	return unicode.IsSpace(r)
}

// appendCSVEscaped appends f as it is written inside quotes.
func appendCSVEscaped[S ~string | ~[]byte](b []byte, f S) []byte {
	for i := 0; i < len(f); i++ {
		switch f[i] {
		case '"':
			b = append(b, '"', '"')
		case '\r': // NewCSVWriter's CRLF: a CR is dropped, an LF written CRLF
		case '\n':
			b = append(b, '\r', '\n')
		default:
			b = append(b, f[i])
		}
	}
	return b
}

// isFormulaStart reports whether a cell starting with c is defused.
func isFormulaStart(c byte) bool {
	return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r'
}

// flowTableCols are the columns of the flows table. Tags, VM names (with
// the addresses) and hosts may be cut; the figures and times never are.
var flowTableCols = []tableCol{{title: "DIRECTION"}, {title: "TAGS", soft: 16, cut: 8, sep: ";"},
	{title: "SOURCE", soft: 28, cut: 15}, {title: "DESTINATION", soft: 28, cut: 15}, {title: "PROTO"}, {title: "PORT"},
	{title: "SESSIONS"}, {title: "PACKETS", optional: true}, {title: "BYTES"}, {title: "FIRST SEEN", short: shortTime}, {title: "LAST SEEN", short: shortTime},
	{title: "ACTIONS", optional: true, sep: ";"}, {title: "HOSTS", soft: 16, cut: 8, optional: true, sep: ";"}}

// flowTableRow fills the flows table's cells of row i of t.
func flowTableRow(t *analysis.Table, i int, cells []string) {
	copy(cells, flowRecord(t, i))
	cells[8] = HumanBytes(t.Bytes(i))
	if vm := t.SrcVM(i).VM; vm != "" {
		cells[2] += " (" + vm + ")"
	}
	if vm := t.DstVM(i).VM; vm != "" {
		cells[3] += " (" + vm + ")"
	}
	if t.Suspect(i) {
		cells[6] += " (unanswered)"
	}
}

// WriteFlowsTable writes the given rows of t as an aligned text table for
// terminals, fitted to o.Width unless o.Wide (see TableOptions).
func WriteFlowsTable(w io.Writer, t *analysis.Table, rows []int32, o TableOptions) error {
	return textTable(w, flowTableCols, len(rows), func(i int, cells []string) {
		flowTableRow(t, int(rows[i]), cells)
	}, o)
}

// HumanBytes renders n with a binary unit: 1536 → "1.5 KiB".
func HumanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatUint(n, 10) + " B"
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// jsonFlow is the JSON form of a conversation.
type jsonFlow struct {
	Direction  string     `json:"direction"`
	Tags       []jsonTag  `json:"tags"`
	Src        string     `json:"src"`
	Dst        string     `json:"dst"`
	SrcVM      string     `json:"src_vm,omitempty"`
	DstVM      string     `json:"dst_vm,omitempty"`
	SrcGroups  []string   `json:"src_groups,omitempty"`
	DstGroups  []string   `json:"dst_groups,omitempty"`
	Proto      string     `json:"proto"`
	DPort      uint16     `json:"dport"`
	Sessions   uint64     `json:"sessions"`
	Unanswered uint64     `json:"unanswered"`
	Packets    [2]uint64  `json:"packets"` // [source→destination, destination→source]
	Bytes      [2]uint64  `json:"bytes"`
	FirstSeen  string     `json:"first_seen,omitempty"`
	LastSeen   string     `json:"last_seen,omitempty"`
	Actions    []string   `json:"actions"`
	Vendors    []string   `json:"vendors"`
	Hosts      []string   `json:"hosts"`
	Hourly     []jsonHour `json:"sessions_per_hour"`
	Samples    []string   `json:"samples"`
	Suspect    bool       `json:"suspect"`
}

type jsonTag struct {
	Name      string `json:"name"`
	Direction string `json:"direction"`
}

type jsonHour struct {
	Hour     string `json:"hour"`
	Sessions uint64 `json:"sessions"`
}

// toJSONFlow is the JSON form of row i of t, with its sample lines.
func toJSONFlow(t *analysis.Table, i int, samples []string) jsonFlow {
	origPkts, origBytes, replyPkts, replyBytes := t.Counters(i)
	src, dst := t.SrcVM(i), t.DstVM(i)
	f := jsonFlow{
		Direction: t.Direction(i).String(), Src: t.Src(i).String(), Dst: t.Dst(i).String(),
		Proto: ingest.ProtoName(t.Proto(i)), DPort: t.DPort(i), Sessions: t.Sessions(i),
		Unanswered: t.Unanswered(i), Packets: [2]uint64{origPkts, replyPkts},
		Bytes: [2]uint64{origBytes, replyBytes}, FirstSeen: formatTime(t.First(i)),
		LastSeen: formatTime(t.Last(i)), Actions: actionNames(t.Actions(i)),
		Hosts: nonNil(t.Hosts(i)), Samples: samples, Suspect: t.Suspect(i),
		SrcVM: src.VM, DstVM: dst.VM, SrcGroups: src.Groups, DstGroups: dst.Groups,
		Tags: []jsonTag{}, Vendors: []string{}, Hourly: []jsonHour{},
	}
	for _, tg := range t.Tags(i) {
		f.Tags = append(f.Tags, jsonTag{tg.Name, tg.Direction.String()})
	}
	for _, v := range t.Vendors(i) {
		f.Vendors = append(f.Vendors, v.String())
	}
	for _, h := range t.HourCounts(i) {
		f.Hourly = append(f.Hourly, jsonHour{formatTime(time.Unix(int64(h.Hour)*3600, 0)), uint64(h.N)})
	}
	return f
}

// WriteFlowsJSON writes the given rows of t as a JSON array, with the
// detail the CSV leaves out (per-direction counters, hourly sessions,
// sample lines). It is written a few thousand conversations at a time, as
// one json.Encoder (indented by two spaces) writes the whole array.
func WriteFlowsJSON(w io.Writer, t *analysis.Table, rows []int32) error {
	js := newJSONStream(w, true)
	js.array(0, len(rows), detailed(t, rows, func(row int, samples []string, _ int) any { return toJSONFlow(t, row, samples) }))
	if err := js.end(); err != nil {
		return err
	}
	return t.Err()
}

// detailed returns a function of i that hands mk the row rows[i] of t
// with its sample lines, reading the samples a chunk of rows at a time.
// i must go up by one.
func detailed(t *analysis.Table, rows []int32, mk func(row int, samples []string, i int) any) func(i int) any {
	const chunk = 4096
	var samples [][]string
	return func(i int) any {
		if i%chunk == 0 {
			samples = t.SamplesOf(rows[i:min(i+chunk, len(rows))])
		}
		return mk(int(rows[i]), samples[i%chunk], i)
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
