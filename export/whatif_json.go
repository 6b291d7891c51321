package export

import (
	"bufio"
	"encoding/json"
	"io"

	"github.com/flowsleuth/flowsleuth/analysis/policy"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// jsonRuleRef is the JSON form of a rule reference.
type jsonRuleRef struct {
	Name     string `json:"name"`
	ID       string `json:"id,omitempty"`
	Policy   string `json:"policy,omitempty"`
	PolicyID string `json:"policy_id,omitempty"`
	File     string `json:"file,omitempty"`
	Vendor   string `json:"vendor,omitempty"`
	Action   string `json:"action,omitempty"`
	Implicit bool   `json:"implicit,omitempty"`
}

func toJSONRule(r policy.RuleRef) *jsonRuleRef {
	if r.Index < 0 {
		return nil
	}
	return &jsonRuleRef{Name: ruleName(r), ID: r.ID, Policy: r.Policy, PolicyID: r.PolicyID, File: r.File, Vendor: r.Vendor,
		Action: r.Action, Implicit: r.Implicit}
}

type jsonTotals struct {
	Conversations int    `json:"conversations"`
	Sessions      uint64 `json:"sessions"`
	Bytes         uint64 `json:"bytes"`
}

func toJSONTotals(t policy.Totals) jsonTotals {
	return jsonTotals{t.Conversations, t.Sessions, t.Bytes}
}

type jsonRuleTotals struct {
	Rule    *jsonRuleRef `json:"rule"`
	Verdict string       `json:"verdict"`
	jsonTotals
}

type jsonTagTotals struct {
	Tag       string `json:"tag"`
	Direction string `json:"direction"`
	Verdict   string `json:"verdict"`
	jsonTotals
}

type jsonWide struct {
	Rule     *jsonRuleRef `json:"rule"`
	Admitted uint64       `json:"admitted"`
	Observed uint64       `json:"observed"`
}

type jsonCompare struct {
	Against  []string       `json:"against"`
	OnlyA    []int          `json:"allowed_only_by_policy"`  // indices into verdicts
	OnlyB    []int          `json:"allowed_only_by_against"` // indices into verdicts
	CoveredA []*jsonRuleRef `json:"policy_rules_covering_nothing_new"`
	CoveredB []*jsonRuleRef `json:"against_rules_covering_nothing_new"`
}

// jsonSummary is everything but the verdicts.
type jsonSummary struct {
	OK              bool                  `json:"ok"`
	Policies        []string              `json:"policies"`
	Environment     EnvSummary            `json:"environment"`
	Total           jsonTotals            `json:"total"`
	ByVerdict       map[string]jsonTotals `json:"by_verdict"`
	InReview        map[string]jsonTotals `json:"in_review_by_verdict"`
	Unprotected     jsonTotals            `json:"no_enforcement_point"`
	Uncertain       int                   `json:"uncertain"`
	Broken          []int                 `json:"broken"`           // indices into verdicts
	SuspectAdmitted []int                 `json:"suspect_admitted"` // indices into verdicts
	ByRule          []jsonRuleTotals      `json:"blocked_by_rule"`
	ByTag           []jsonTagTotals       `json:"blocked_by_tag"`
	Unused          []*jsonRuleRef        `json:"unused_rules"`
	Wide            []jsonWide            `json:"wide_rules"`
	Problems        []string              `json:"problems"`
	Notes           []string              `json:"notes"`
	Compare         *jsonCompare          `json:"compare,omitempty"`
}

// jsonVerdict is one conversation and its verdict.
type jsonVerdict struct {
	Src       string       `json:"src"`
	Dst       string       `json:"dst"`
	Proto     string       `json:"proto"`
	DPort     uint16       `json:"dport"`
	Direction string       `json:"direction"`
	Sessions  uint64       `json:"sessions"`
	Bytes     uint64       `json:"bytes"`
	Verdict   string       `json:"verdict"`
	Rule      *jsonRuleRef `json:"rule"`
	Point     string       `json:"point,omitempty"`
	Why       string       `json:"why"`
	Uncertain string       `json:"uncertain,omitempty"`
	Review    string       `json:"review,omitempty"`
	Against   string       `json:"against_verdict,omitempty"`
}

// WriteWhatIfJSON writes the check as one JSON object: the summary fields,
// then "verdicts", one per conversation in order (the summary's lists refer
// to them by index). The verdicts are streamed, not held in memory twice.
func WriteWhatIfJSON(w io.Writer, x *WhatIf) error {
	bw := bufio.NewWriter(w)
	head, err := json.MarshalIndent(x.summary(), "", "  ")
	if err != nil {
		return err
	}
	bw.Write(head[:len(head)-2]) // without the closing "\n}"
	bw.WriteString(",\n  \"verdicts\": [")
	enc := json.NewEncoder(bw)
	for i := range x.Convs.Len() {
		if i > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n    ")
		if err := enc.Encode(x.jsonVerdict(i)); err != nil {
			return err
		}
	}
	bw.WriteString("  ]\n}\n")
	return bw.Flush()
}

func (x *WhatIf) jsonVerdict(i int) jsonVerdict {
	tb, v := x.Convs, &x.Result.Verdicts[i]
	jv := jsonVerdict{Src: tb.Src(i).String(), Dst: tb.Dst(i).String(), Proto: ingest.ProtoName(tb.Proto(i)), DPort: tb.DPort(i),
		Direction: tb.Direction(i).String(), Sessions: tb.Sessions(i), Bytes: tb.Bytes(i), Verdict: v.Outcome.String(),
		Rule: toJSONRule(*v.Rule), Point: v.Point, Why: v.Why, Uncertain: v.Uncertain, Review: x.review(i)}
	if x.AgainstCheck != nil {
		jv.Against = x.AgainstCheck.Verdicts[i].Outcome.String()
	}
	return jv
}

func (x *WhatIf) summary() jsonSummary {
	r := &x.Result.Report
	s := jsonSummary{OK: r.OK(), Policies: x.Policies, Environment: x.Env, Total: toJSONTotals(r.Total),
		ByVerdict: map[string]jsonTotals{}, InReview: map[string]jsonTotals{}, Unprotected: toJSONTotals(r.Unprotected),
		Uncertain: r.Uncertain, Broken: nonNilInts(r.Broken), SuspectAdmitted: nonNilInts(r.SuspectAdmitted),
		ByRule: []jsonRuleTotals{}, ByTag: []jsonTagTotals{}, Unused: jsonRules(r.Unused), Wide: []jsonWide{},
		Problems: nonNil(r.Problems), Notes: nonNil(r.Notes)}
	for _, o := range []policy.Outcome{policy.Allowed, policy.WouldBlock, policy.Blocked} {
		s.ByVerdict[o.String()] = toJSONTotals(r.ByOutcome[o])
		s.InReview[o.String()] = toJSONTotals(r.InReview[o])
	}
	for _, t := range r.ByRule {
		s.ByRule = append(s.ByRule, jsonRuleTotals{toJSONRule(t.Rule), t.Outcome.String(), toJSONTotals(t.Totals)})
	}
	for _, t := range r.ByTag {
		s.ByTag = append(s.ByTag, jsonTagTotals{t.Tag, t.Direction.String(), t.Outcome.String(), toJSONTotals(t.Totals)})
	}
	for _, wr := range r.Wide {
		s.Wide = append(s.Wide, jsonWide{toJSONRule(wr.Rule), wr.Admitted, wr.Observed})
	}
	if x.Diff != nil {
		s.Compare = &jsonCompare{Against: x.Against, OnlyA: nonNilInts(x.Diff.OnlyA), OnlyB: nonNilInts(x.Diff.OnlyB),
			CoveredA: jsonRules(x.Diff.CoveredA), CoveredB: jsonRules(x.Diff.CoveredB)}
	}
	return s
}

func jsonRules(rs []policy.RuleRef) []*jsonRuleRef {
	out := make([]*jsonRuleRef, 0, len(rs))
	for _, r := range rs {
		out = append(out, toJSONRule(r))
	}
	return out
}

func nonNilInts(s []int) []int {
	if s == nil {
		return []int{}
	}
	return s
}
