package export

import (
	"github.com/flowsleuth/flowsleuth/analysis/policy"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// Sheets of a policy check, added after the others when the workbook is
// written with WorkbookOptions.WhatIf.
const (
	SheetWhatIf      = "What-if"
	SheetWhatIfRules = "What-if rules"
)

// whatIfSheet are the columns of the What-if sheet.
var whatIfSheet = []sheetColumn{
	{"Verdict", 12, colText}, {"Would break", 12, colText}, {"Rule", 40, colText}, {"Policy", 28, colText},
	{"File", 20, colText}, {"Point", 30, colText}, {"Review", 30, colText}, {"Direction", 11, colText},
	{"Tags", 24, colText}, {"Source", 18, colText}, {"Destination", 18, colText}, {"Protocol", 9, colText},
	{"Destination Port", 18, colPort}, {"Sessions", 12, colCount}, {"Bytes", 16, colCount},
	{"First seen", 20, colDate}, {"Last seen", 20, colDate}, {"Source VM", 20, colText},
	{"Destination VM", 20, colText}, {"Why", 80, colText}, {"Uncertain", 40, colText},
}

// whatIfRulesSheet are the columns of the What-if rules sheet.
var whatIfRulesSheet = []sheetColumn{
	{"Rule", 40, colText}, {"ID", 24, colText}, {"Action", 12, colText}, {"Policy", 28, colText},
	{"File", 20, colText}, {"Conversations", 14, colCount}, {"Sessions", 12, colCount}, {"Bytes", 16, colCount},
	{"Status", 20, colText},
}

// writeWhatIf writes the What-if sheets: every conversation with its
// verdict, what would break first; then every rule of the policy with its
// hit counts, the unused ones marked.
func (b *book) writeWhatIf(x *WhatIf) error {
	if x == nil {
		return nil
	}
	for _, name := range []string{SheetWhatIf, SheetWhatIfRules} {
		if _, err := b.f.NewSheet(name); err != nil {
			return err
		}
	}
	if err := b.writeVerdicts(x); err != nil {
		return err
	}
	return b.writeHits(x)
}

// writeVerdicts writes the What-if sheet: what would break, then what else
// is blocked, then what is allowed.
func (b *book) writeVerdicts(x *WhatIf) error {
	r := &x.Result.Report
	order := make([]int, 0, x.Convs.Len())
	broken := make(map[int]bool, len(r.Broken))
	for _, i := range r.Broken {
		order = append(order, i)
		broken[i] = true
	}
	for _, allowedPass := range []bool{false, true} {
		for i := range x.Convs.Len() {
			if !broken[i] && (x.Result.Verdicts[i].Outcome == policy.Allowed) == allowedPass {
				order = append(order, i)
			}
		}
	}
	n := capRows(len(order))
	s, err := b.stream(SheetWhatIf, whatIfSheet, n)
	if err != nil {
		return err
	}
	for _, i := range order[:n] {
		tb, v := x.Convs, &x.Result.Verdicts[i]
		copy(s.row, []any{v.Outcome.String(), yesNo(broken[i]), ruleName(*v.Rule), v.Rule.Policy, v.Rule.File, v.Point,
			x.review(i), tb.Direction(i).String(), string(joinTags(nil, tb.Tags(i))), tb.Src(i).String(), tb.Dst(i).String(),
			ingest.ProtoName(tb.Proto(i)), uint64(tb.DPort(i)), tb.Sessions(i), tb.Bytes(i), dateCell(tb.First(i)), dateCell(tb.Last(i)),
			tb.SrcVM(i).VM, tb.DstVM(i).VM, v.Why, v.Uncertain})
		if err := s.next(); err != nil {
			return err
		}
	}
	return s.sw.Flush()
}

// writeHits writes the What-if rules sheet.
func (b *book) writeHits(x *WhatIf) error {
	rules := x.Result.Program.Rules()
	hits := x.Result.Report.Hits
	n := capRows(len(rules))
	s, err := b.stream(SheetWhatIfRules, whatIfRulesSheet, n)
	if err != nil {
		return err
	}
	for i, r := range rules[:n] {
		status := ""
		switch {
		case r.Implicit:
			status = "implicit"
		case hits[i].Conversations == 0:
			status = "unused"
		}
		copy(s.row, []any{ruleName(r), r.ID, r.Action, r.Policy, r.File, uint64(hits[i].Conversations),
			hits[i].Sessions, hits[i].Bytes, status})
		if err := s.next(); err != nil {
			return err
		}
	}
	return s.sw.Flush()
}
