package export

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// rulesSheet are the columns of the Rules sheet (RuleSheetColumns).
var rulesSheet = []sheetColumn{
	{"Source", 30, colText}, {"Destination", 30, colText}, {"Protocol", 9, colText},
	{"Destination Port", 18, colText}, {"Description", 60, colText}, {"Direction", 11, colText},
	{"Service", 14, colText}, {"Action", 9, colText}, {"Sessions", 12, colCount}, {"Bytes", 16, colCount},
	{"First seen", 20, colDate}, {"Last seen", 20, colDate}, {"Evidence", 80, colText},
	{"Name", 40, colText}, {"Rule ID", 16, colText},
}

// flowsSheet are the columns of the Flows sheet: FlowColumns and three more.
var flowsSheet = []sheetColumn{
	{"direction", 11, colText}, {"tags", 24, colText}, {"src", 18, colText}, {"dst", 18, colText},
	{"proto", 8, colText}, {"dport", 8, colPort}, {"sessions", 12, colCount}, {"packets", 12, colCount},
	{"bytes", 16, colCount}, {"first_seen", 20, colDate}, {"last_seen", 20, colDate},
	{"actions", 14, colText}, {"hosts", 20, colText},
	{"Source VM", 20, colText}, {"Destination VM", 20, colText}, {"Unanswered", 12, colCount},
}

// reviewSheet are the columns of the Review sheet.
var reviewSheet = []sheetColumn{
	{"Reason", 36, colText}, {"Direction", 11, colText}, {"Tags", 24, colText}, {"Source", 18, colText},
	{"Destination", 18, colText}, {"Protocol", 9, colText}, {"Destination Port", 18, colPort},
	{"Sessions", 12, colCount}, {"Unanswered", 12, colCount}, {"Packets", 12, colCount},
	{"Bytes", 16, colCount}, {"First seen", 20, colDate}, {"Last seen", 20, colDate},
	{"Actions", 14, colText}, {"Hosts", 20, colText}, {"Source VM", 20, colText},
	{"Destination VM", 20, colText}, {"Sample", 80, colText},
}

// sourcesSheet are the columns of the Sources sheet.
var sourcesSheet = []sheetColumn{
	{"File", 48, colText}, {"Size (bytes)", 16, colCount}, {"Lines", 12, colCount},
	{"Events", 12, colCount}, {"Skipped", 12, colCount}, {"Unsupported", 13, colCount},
	{"Malformed", 12, colCount}, {"Imported", 20, colDate}, {"Malformed samples", 100, colWrap},
}

// WriteWorkbook writes an XLSX workbook for review and change tickets, with
// the sheets Summary (totals and charts), Rules, Flows (every conversation
// of flows, most often rs.Table),
// Review (suspect traffic) and Sources (input files); Rules is the one that
// opens. Each sheet has a bold, frozen, filtered header row; numbers are
// numbers and times are Excel dates (UTC). Sheets hold at most MaxSheetRows
// rows. Large sheets are streamed through temporary files, so memory does
// not grow with the number of rows. It returns the first error, w's
// included.
func WriteWorkbook(w io.Writer, rs rules.Set, flows *analysis.Table, sources []Source, o WorkbookOptions) (err error) {
	f := excelize.NewFile()
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write workbook: %w", cerr)
		}
	}()
	b := &book{f: f, fill: make(map[string]func(io.Writer) error)}
	steps := []struct {
		name string
		do   func() error
	}{
		{"setup", b.setup},
		{SheetSummary, func() error { return b.writeSummary(rs, flows, sources, o) }},
		{SheetRules, func() error { return b.writeRules(&rs) }},
		{SheetFlows, func() error { return b.writeFlows(flows) }},
		{SheetReview, func() error { return b.writeReview(rs.Table, slices.Concat(rs.Review, rs.Outside)) }},
		{SheetSources, func() error { return b.writeSources(sources) }},
		{SheetWhatIf, func() error { return b.writeWhatIf(o.WhatIf) }},
		{"save", func() error { return b.save(w) }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			return fmt.Errorf("write workbook: %s: %w", s.name, err)
		}
	}
	return nil
}

// writeRules writes the Rules sheet.
func (b *book) writeRules(rs *rules.Set) error {
	var next func(i int) []string
	n := capRows(len(rs.Rules))
	err := b.spliced(SheetRules, rulesSheet, n, func(e *rowEncoder, i int) error {
		r := newRuleRow(&rs.Rules[i], next(i))
		for _, s := range []string{r.src, r.dst, r.proto, r.ports, r.desc, r.dir, r.service, r.action} {
			e.text(s)
		}
		e.number(r.sessions)
		e.number(r.bytes)
		e.date(r.first)
		e.date(r.last)
		e.text(r.evidence)
		e.text(r.name)
		e.text(r.id)
		if i == n-1 {
			return rs.Table.Err()
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The rows are written as the file is saved: the sample lines are
	// read then, beside them.
	part, err := b.sheetPart(SheetRules)
	if err != nil {
		return err
	}
	fill := b.fill[part]
	b.fill[part] = func(w io.Writer) error {
		var stop func()
		next, stop = ruleSamples(rs)
		defer stop()
		return fill(w)
	}
	return nil
}

// writeFlows writes the Flows sheet: the flows CSV columns, with numbers and
// dates typed, and the VM names and unanswered sessions.
func (b *book) writeFlows(t *analysis.Table) error {
	n := capRows(t.Len())
	var scratch []byte
	return b.spliced(SheetFlows, flowsSheet, n, func(e *rowEncoder, i int) error {
		scratch = flowCells(e, t, i, scratch)
		return nil
	})
}

// writeReview writes the Review sheet: suspect traffic and the reason.
func (b *book) writeReview(t *analysis.Table, items []rules.ReviewItem) error {
	n := capRows(len(items))
	rows := make([]int32, n)
	for i := range rows {
		rows[i] = items[i].Row
	}
	next := detailed(t, rows, func(_ int, samples []string, _ int) any { return samples })
	return b.spliced(SheetReview, reviewSheet, n, func(e *rowEncoder, i int) error {
		samples, row := next(i).([]string), int(rows[i])
		e.text(items[i].Reason)
		e.text(t.Direction(row).String())
		e.text(string(joinTags(nil, t.Tags(row))))
		e.text(t.Src(row).String())
		e.text(t.Dst(row).String())
		e.text(ingest.ProtoName(t.Proto(row)))
		for _, v := range []uint64{uint64(t.DPort(row)), t.Sessions(row), t.Unanswered(row), t.Packets(row), t.Bytes(row)} {
			e.number(v)
		}
		e.date(t.First(row))
		e.date(t.Last(row))
		for _, s := range []string{strings.Join(actionNames(t.Actions(row)), ";"), strings.Join(t.Hosts(row), ";"), t.SrcVM(row).VM, t.DstVM(row).VM, firstLine(samples)} {
			e.text(s)
		}
		if i == n-1 {
			return t.Err()
		}
		return nil
	})
}

// writeSources writes the Sources sheet: one row per input file.
func (b *book) writeSources(sources []Source) error {
	n := capRows(len(sources))
	s, err := b.stream(SheetSources, sourcesSheet, n)
	if err != nil {
		return err
	}
	for i := range sources[:n] {
		src := &sources[i]
		copy(s.row, []any{src.Path, src.Size, src.Lines, src.Events, src.Skipped, src.Unsupported,
			src.Malformed, dateCell(src.Imported), strings.Join(src.MalformedSamples, "\n")})
		if err := s.next(); err != nil {
			return err
		}
	}
	return s.sw.Flush()
}
