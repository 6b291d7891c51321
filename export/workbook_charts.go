package export

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/analysis/services"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// Sizes of the Summary's chart tables.
const (
	chartTags     = 15 // tags charted; the others are summed as "(other tags)"
	chartServices = 10 // services charted
)

// trafficTotals are the figures of the Summary, gathered in one pass.
type trafficTotals struct {
	analysis.Totals
	tags     map[string]*[4]uint64 // sessions per tag and tag direction
	untagged [4]uint64             // sessions per direction
	services map[serviceKey]uint64 // sessions per service
}

// serviceKey is a protocol and destination port (0 for ICMP: its types
// are one service).
type serviceKey struct {
	proto uint8
	port  uint16
}

// sumTraffic adds up the conversations of tb.
func sumTraffic(tb *analysis.Table) *trafficTotals {
	t := &trafficTotals{tags: make(map[string]*[4]uint64), services: make(map[serviceKey]uint64)}
	for i := range tb.Len() {
		t.AddRow(tb, i)
		sessions := tb.Sessions(i)
		tags := tb.Tags(i)
		for _, tag := range tags {
			per := t.tags[tag.Name]
			if per == nil {
				per = new([4]uint64)
				t.tags[tag.Name] = per
			}
			per[tag.Direction&3] += sessions
		}
		if len(tags) == 0 {
			t.untagged[tb.Direction(i)&3] += sessions
		}
		t.services[serviceKey{tb.Proto(i), tb.ServicePort(i)}] += sessions
	}
	return t
}

// summaryItem is a row of the Summary's totals.
type summaryItem struct {
	label string
	value any
	style int
}

// summaryItems lists the Summary's totals.
func (b *book) summaryItems(rs *rules.Set, flows *analysis.Table, sources []Source,
	o *WorkbookOptions, t *trafficTotals) []summaryItem {
	var lines, events, malformed int64
	for i := range sources {
		lines += sources[i].Lines
		events += sources[i].Events
		malformed += sources[i].Malformed
	}
	items := []summaryItem{
		{"Title", o.Title, 0},
		{"Generated (UTC)", dateCell(o.Generated), b.date},
		{"Rules", len(rs.Rules), b.count},
		{"Review items", len(rs.Review), b.count},
		{"Conversations", flows.Len(), b.count},
		{"Sessions", t.Sessions, b.count},
		{"Packets", t.Packets, b.count},
		{"Bytes", t.Bytes, b.count},
		{"First seen (UTC)", dateCell(t.First), b.date},
		{"Last seen (UTC)", dateCell(t.Last), b.date},
		{"Input files", len(sources), b.count},
		{"Lines read", lines, b.count},
		{"Events", events, b.count},
		{"Malformed lines", malformed, b.count},
		{"Observed (source, destination, port) combinations", rs.Observed, b.count},
		{"Admitted by the rules but never seen", rs.Permissiveness, b.count},
	}
	for _, c := range []struct {
		sheet string
		n     int
	}{{SheetRules, len(rs.Rules)}, {SheetFlows, flows.Len()}, {SheetReview, len(rs.Review)}, {SheetSources, len(sources)}} {
		if c.n > MaxSheetRows {
			items = append(items, summaryItem{"Note", fmt.Sprintf("%s shows the first %d of %d rows (the sheet is full)",
				c.sheet, MaxSheetRows, c.n), 0})
		}
	}
	return items
}

// writeSummary writes the Summary sheet: the totals as a filtered table
// under a frozen header, then the tables the two charts draw.
func (b *book) writeSummary(rs rules.Set, flows *analysis.Table, sources []Source, o WorkbookOptions) error {
	const sh = SheetSummary
	t := sumTraffic(flows)
	items := b.summaryItems(&rs, flows, sources, &o, t)
	if err := b.tableHeader(1, "Item", "Value"); err != nil {
		return err
	}
	for i, it := range items {
		row := i + 2
		if err := b.f.SetSheetRow(sh, "A"+strconv.Itoa(row), &[]any{it.label, it.value}); err != nil {
			return err
		}
		if it.style != 0 {
			if err := b.f.SetCellStyle(sh, cellName(2, row), cellName(2, row), it.style); err != nil {
				return err
			}
		}
	}
	last := len(items) + 1
	steps := []func() error{
		func() error { return b.f.SetPanes(sh, headerPanes()) },
		func() error { return b.f.AutoFilter(sh, "A1:B"+strconv.Itoa(last), nil) },
		func() error { return b.f.SetColWidth(sh, "A", "A", 48) },
		func() error { return b.f.SetColWidth(sh, "B", "B", 20) },
		func() error { return b.f.SetColWidth(sh, "C", "E", 12) },
		func() error {
			end, err := b.tagChart(last+2, t)
			if err != nil {
				return err
			}
			return b.serviceChart(end+2, t)
		},
		func() error {
			props := &excelize.DocProperties{Title: o.Title, Creator: "FlowSleuth"}
			if !o.Generated.IsZero() {
				props.Created = o.Generated.UTC().Format(time.RFC3339)
			}
			return b.f.SetDocProps(props)
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// tableHeader writes a bold header row on the Summary.
func (b *book) tableHeader(row int, names ...string) error {
	vals := make([]any, len(names))
	for i, n := range names {
		vals[i] = n
	}
	if err := b.f.SetSheetRow(SheetSummary, cellName(1, row), &vals); err != nil {
		return err
	}
	return b.f.SetCellStyle(SheetSummary, cellName(1, row), cellName(len(names), row), b.header)
}

// tagRow is a row of the tag chart's table.
type tagRow struct {
	name string
	dirs [4]uint64 // indexed by ingest.Direction
}

// tagRows returns the chartTags busiest tags, the rest summed, and the
// untagged traffic; or one empty row, so that the chart has a range.
func tagRows(t *trafficTotals) []tagRow {
	total := func(r tagRow) uint64 { return r.dirs[0] + r.dirs[1] + r.dirs[2] + r.dirs[3] }
	rows := make([]tagRow, 0, len(t.tags))
	for name, d := range t.tags {
		rows = append(rows, tagRow{name, *d})
	}
	slices.SortFunc(rows, func(a, b tagRow) int {
		return cmp.Or(cmp.Compare(total(b), total(a)), cmp.Compare(a.name, b.name))
	})
	if len(rows) > chartTags {
		other := tagRow{name: fmt.Sprintf("(%d other tags)", len(rows)-chartTags)}
		for _, r := range rows[chartTags:] {
			for d := range other.dirs {
				other.dirs[d] += r.dirs[d]
			}
		}
		rows = append(rows[:chartTags], other)
	}
	if u := (tagRow{"(untagged)", t.untagged}); total(u) > 0 {
		rows = append(rows, u)
	}
	if len(rows) == 0 {
		rows = append(rows, tagRow{name: "(no traffic)"})
	}
	return rows
}

// tagChart writes the sessions per tag and direction from row top, charts
// them as stacked bars and returns the table's last row.
func (b *book) tagChart(top int, t *trafficTotals) (int, error) {
	rows := tagRows(t)
	dirs := []ingest.Direction{ingest.DirInbound, ingest.DirOutbound, ingest.DirIntra}
	for _, r := range rows {
		if r.dirs[ingest.DirUnknown] > 0 {
			dirs = append(dirs, ingest.DirUnknown)
			break
		}
	}
	names := []string{"Tag (sessions)"}
	for _, d := range dirs {
		names = append(names, titleCase(d.String()))
	}
	if err := b.tableHeader(top, names...); err != nil {
		return 0, err
	}
	for i, r := range rows {
		vals := []any{r.name}
		for _, d := range dirs {
			vals = append(vals, r.dirs[d])
		}
		if err := b.setCountRow(top+1+i, vals); err != nil {
			return 0, err
		}
	}
	series := make([]excelize.ChartSeries, len(dirs))
	for i := range dirs {
		series[i] = chartSeries(top, len(rows), i+2)
	}
	return top + len(rows), b.addChart("G2", excelize.BarStacked, "Sessions per tag and direction", series, "bottom")
}

// serviceChart writes the chartServices busiest services from row top and
// charts their sessions as bars.
func (b *book) serviceChart(top int, t *trafficTotals) error {
	keys := make([]serviceKey, 0, len(t.services))
	for k := range t.services {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, c serviceKey) int {
		return cmp.Or(cmp.Compare(t.services[c], t.services[a]), cmp.Compare(a.proto, c.proto), cmp.Compare(a.port, c.port))
	})
	keys = keys[:min(len(keys), chartServices)]
	if err := b.tableHeader(top, "Service", "Sessions"); err != nil {
		return err
	}
	rows := len(keys)
	for i, k := range keys {
		if err := b.setCountRow(top+1+i, []any{services.Label(k.proto, k.port), t.services[k]}); err != nil {
			return err
		}
	}
	if rows == 0 {
		rows = 1
		if err := b.setCountRow(top+1, []any{"(no traffic)", 0}); err != nil {
			return err
		}
	}
	series := []excelize.ChartSeries{chartSeries(top, rows, 2)}
	return b.addChart("G24", excelize.Bar, fmt.Sprintf("Top %d services (sessions)", chartServices), series, "none")
}

// setCountRow writes a label and counts on the Summary.
func (b *book) setCountRow(row int, vals []any) error {
	if err := b.f.SetSheetRow(SheetSummary, cellName(1, row), &vals); err != nil {
		return err
	}
	return b.f.SetCellStyle(SheetSummary, cellName(2, row), cellName(len(vals), row), b.count)
}

// chartSeries is the series of column col of the Summary table whose
// header is on row top, with rows rows and categories in column A.
func chartSeries(top, rows, col int) excelize.ChartSeries {
	c, _ := excelize.ColumnNumberToName(col)
	ref := func(col string, from, to int) string {
		return fmt.Sprintf("%s!$%s$%d:$%s$%d", SheetSummary, col, from, col, to)
	}
	return excelize.ChartSeries{
		Name:       fmt.Sprintf("%s!$%s$%d", SheetSummary, c, top),
		Categories: ref("A", top+1, top+rows),
		Values:     ref(c, top+1, top+rows),
	}
}

// addChart adds a bar chart at cell of the Summary.
func (b *book) addChart(cell string, typ excelize.ChartType, title string, series []excelize.ChartSeries, legend string) error {
	noVary := false
	return b.f.AddChart(SheetSummary, cell, &excelize.Chart{
		Type:       typ,
		Series:     series,
		Title:      excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: title}}},
		Legend:     excelize.ChartLegend{Position: legend},
		Dimension:  excelize.ChartDimension{Width: 720, Height: 400},
		VaryColors: &noVary,
	})
}

// cellName returns the name of the cell at column col and row (both from 1).
func cellName(col, row int) string {
	name, _ := excelize.CoordinatesToCellName(col, row)
	return name
}

// titleCase turns "INBOUND" into "Inbound".
func titleCase(s string) string {
	if s == "" {
		return s
	}
	return s[:1] + strings.ToLower(s[1:])
}
