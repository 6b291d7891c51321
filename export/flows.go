// Package export writes conversations and rules for people and for vendor
// APIs: CSV, JSON and, later, XLSX workbooks and policy bodies.
package export

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// FlowColumns are the columns of the flows CSV, in order.
var FlowColumns = []string{"direction", "tags", "src", "dst", "proto", "dport", "sessions",
	"packets", "bytes", "first_seen", "last_seen", "actions", "hosts"}

// flowRecord renders one conversation as the flows CSV columns.
func flowRecord(c *analysis.Conversation) []string {
	return []string{
		c.Direction.String(),
		strings.Join(c.TagNames(), ";"),
		c.Src.String(),
		c.Dst.String(),
		ingest.ProtoName(c.Proto),
		strconv.Itoa(int(c.DPort)),
		strconv.FormatUint(c.Sessions, 10),
		strconv.FormatUint(c.Packets(), 10),
		strconv.FormatUint(c.Bytes(), 10),
		formatTime(c.First),
		formatTime(c.Last),
		strings.Join(actionNames(c.Actions), ";"),
		strings.Join(c.Hosts, ";"),
	}
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
		if f != "" && strings.ContainsRune("=+-@\t\r", rune(f[0])) {
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
	for _, i := range rows {
		c := t.Conv(int(i))
		if err := cw.Write(Defuse(flowRecord(&c))); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// flowTableCols are the columns of the flows table. Tags, VM names (with
// the addresses) and hosts may be cut; the figures and times never are.
var flowTableCols = []tableCol{{title: "DIRECTION"}, {title: "TAGS", soft: 16, cut: 8, sep: ";"},
	{title: "SOURCE", soft: 28, cut: 15}, {title: "DESTINATION", soft: 28, cut: 15}, {title: "PROTO"}, {title: "PORT"},
	{title: "SESSIONS"}, {title: "PACKETS", optional: true}, {title: "BYTES"}, {title: "FIRST SEEN", short: shortTime}, {title: "LAST SEEN", short: shortTime},
	{title: "ACTIONS", optional: true, sep: ";"}, {title: "HOSTS", soft: 16, cut: 8, optional: true, sep: ";"}}

// flowTableRow fills the flows table's cells of c.
func flowTableRow(c *analysis.Conversation, cells []string) {
	copy(cells, flowRecord(c))
	cells[8] = HumanBytes(c.Bytes())
	if c.SrcVM != "" {
		cells[2] += " (" + c.SrcVM + ")"
	}
	if c.DstVM != "" {
		cells[3] += " (" + c.DstVM + ")"
	}
	if c.Suspect() {
		cells[6] += " (unanswered)"
	}
}

// WriteFlowsTable writes the given rows of t as an aligned text table for
// terminals, fitted to o.Width unless o.Wide (see TableOptions).
func WriteFlowsTable(w io.Writer, t *analysis.Table, rows []int32, o TableOptions) error {
	return textTable(w, flowTableCols, len(rows), func(i int, cells []string) {
		c := t.Conv(int(rows[i]))
		flowTableRow(&c, cells)
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

// toJSONFlow is the JSON form of c.
func toJSONFlow(c *analysis.Conversation) jsonFlow {
	f := jsonFlow{
		Direction: c.Direction.String(), Src: c.Src.String(), Dst: c.Dst.String(),
		Proto: ingest.ProtoName(c.Proto), DPort: c.DPort, Sessions: c.Sessions,
		Unanswered: c.Unanswered, Packets: [2]uint64{c.OrigPkts, c.ReplyPkts},
		Bytes: [2]uint64{c.OrigBytes, c.ReplyBytes}, FirstSeen: formatTime(c.First),
		LastSeen: formatTime(c.Last), Actions: actionNames(c.Actions),
		Hosts: nonNil(c.Hosts), Samples: c.Samples, Suspect: c.Suspect(),
		SrcVM: c.SrcVM, DstVM: c.DstVM, SrcGroups: c.SrcGroups, DstGroups: c.DstGroups,
		Tags: []jsonTag{}, Vendors: []string{}, Hourly: []jsonHour{},
	}
	for _, t := range c.Tags {
		f.Tags = append(f.Tags, jsonTag{t.Name, t.Direction.String()})
	}
	for _, v := range c.Vendors {
		f.Vendors = append(f.Vendors, v.String())
	}
	for _, h := range c.Hourly {
		f.Hourly = append(f.Hourly, jsonHour{formatTime(h.Start), h.Sessions})
	}
	return f
}

// WriteFlowsJSON writes the given rows of t as a JSON array, with the
// detail the CSV leaves out (per-direction counters, hourly sessions,
// sample lines). It is written a few thousand conversations at a time, as
// one json.Encoder (indented by two spaces) writes the whole array.
func WriteFlowsJSON(w io.Writer, t *analysis.Table, rows []int32) error {
	js := newJSONStream(w, true)
	js.array(0, len(rows), detailed(t, rows, func(c *analysis.Conversation, _ int) any { return toJSONFlow(c) }))
	if err := js.end(); err != nil {
		return err
	}
	return t.Err()
}

// detailed returns a function of i that makes the conversation of rows[i]
// with its hourly counts and sample lines (Table.Detail) and hands it to
// mk, reading the samples a chunk of rows at a time. i must go up by one.
func detailed(t *analysis.Table, rows []int32, mk func(c *analysis.Conversation, i int) any) func(i int) any {
	const chunk = 4096
	var samples [][]string
	return func(i int) any {
		if i%chunk == 0 {
			samples = t.SamplesOf(rows[i:min(i+chunk, len(rows))])
		}
		c := t.Conv(int(rows[i]))
		c.Hourly = t.Hourly(int(rows[i]))
		c.Samples = samples[i%chunk]
		return mk(&c, i)
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
