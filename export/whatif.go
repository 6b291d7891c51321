package export

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/policy"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// WhatIf is a policy check to write: the conversations, why synthesis
// reviews some of them, the check, and optionally a second policy's check
// and the comparison of the two.
type WhatIf struct {
	Policies []string // the files checked
	Convs    *analysis.Table
	Review   []string // per conversation, as rules.ReviewReasons
	Result   policy.Result
	Env      EnvSummary

	Against      []string // the files of the policy compared with, if any
	AgainstCheck *policy.Result
	Diff         *policy.Diff

	Top int // items listed per section of the table; 0 means 50
}

// EnvSummary says what the evaluator knew of the estate.
type EnvSummary struct {
	VMs           int    `json:"vms"`
	LearnedGroups int    `json:"learned_groups"`
	GivenGroups   int    `json:"given_groups"`
	Categories    int    `json:"category_ids"`
	Default       string `json:"nsx_default_rule"` // "allow" or "drop"
}

// WhatIfColumns are the columns of the check's CSV, one row per conversation.
var WhatIfColumns = []string{"verdict", "rule", "policy", "file", "point", "review", "uncertain",
	"direction", "tags", "src", "dst", "proto", "dport", "sessions", "bytes", "first_seen", "last_seen", "why"}

// whatIfRecord renders conversation i as WhatIfColumns.
func (x *WhatIf) record(i int) []string {
	tb, v := x.Convs, &x.Result.Verdicts[i]
	return []string{
		v.Outcome.String(), ruleName(*v.Rule), v.Rule.Policy, v.Rule.File, v.Point, x.review(i), v.Uncertain,
		tb.Direction(i).String(), string(joinTags(nil, tb.Tags(i))), tb.Src(i).String(), tb.Dst(i).String(),
		ingest.ProtoName(tb.Proto(i)), strconv.Itoa(int(tb.DPort(i))), strconv.FormatUint(tb.Sessions(i), 10),
		strconv.FormatUint(tb.Bytes(i), 10), formatTime(tb.First(i)), formatTime(tb.Last(i)), v.Why,
	}
}

func (x *WhatIf) review(i int) string {
	if i < len(x.Review) {
		return x.Review[i]
	}
	return ""
}

// ruleName names a verdict's rule: its name, else its id, "" for none.
func ruleName(r policy.RuleRef) string {
	if r.Index < 0 {
		return ""
	}
	if r.Name != "" {
		return r.Name
	}
	return r.ID
}

// WriteWhatIfCSV writes one row per conversation (WhatIfColumns, then, with
// a comparison, the other policy's verdict and rule). Text a spreadsheet
// would run as a formula is defused.
func WriteWhatIfCSV(w io.Writer, x *WhatIf) error {
	cw := NewCSVWriter(w)
	head := WhatIfColumns
	if x.AgainstCheck != nil {
		head = append(head[:len(head):len(head)], "against_verdict", "against_rule")
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for i := range x.Convs.Len() {
		rec := x.record(i)
		if x.AgainstCheck != nil {
			o := &x.AgainstCheck.Verdicts[i]
			rec = append(rec, o.Outcome.String(), ruleName(*o.Rule))
		}
		if err := cw.Write(Defuse(rec)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// verdictLine renders a conversation and its verdict for the table.
func (x *WhatIf) verdictLine(i int) string {
	tb, v := x.Convs, &x.Result.Verdicts[i]
	return strings.Join([]string{endpointName(tb.Src(i), tb.SrcVM(i).VM), endpointName(tb.Dst(i), tb.DstVM(i).VM), serviceLabel(tb.Proto(i), tb.DPort(i)),
		analysis.Thousands(tb.Sessions(i)), v.Outcome.String(), ruleName(*v.Rule), v.Point}, "\t") + "\t"
}

func endpointName(a fmt.Stringer, vm string) string {
	if vm != "" {
		return a.String() + " (" + vm + ")"
	}
	return a.String()
}

// serviceLabel renders "443/tcp", "ICMP".
func serviceLabel(proto uint8, port uint16) string {
	switch proto {
	case ingest.ProtoTCP, ingest.ProtoUDP:
		return strconv.Itoa(int(port)) + "/" + strings.ToLower(ingest.ProtoName(proto))
	}
	return ingest.ProtoName(proto)
}

// CheckRequest is a policy check as the CLI and the app run it.
type CheckRequest struct {
	Policies, Against []string // policy files; Against may be empty
	Sources           policy.Sources
	Convs             *analysis.Table
	Knobs             rules.Knobs // what synthesis reviews (with the user's exclusions)
	Top               int
}

// RunCheck loads the policies, builds the environment, evaluates every
// conversation, summarises, and compares with Against when given. Errors
// name the file at fault.
func RunCheck(req CheckRequest) (*WhatIf, error) {
	set, err := policy.LoadFiles(req.Policies...)
	if err != nil {
		return nil, err
	}
	review := rules.ReviewReasons(req.Convs, req.Knobs)
	env := req.Sources.Env(req.Convs)
	summary := envSummary(req.Sources, env)
	// The environment's learned groups (60 MB of a million conversations)
	// are needed again only to compile the Against files: otherwise
	// nothing holds them once the policy is compiled, while it evaluates.
	var againstEnv policy.Env
	if len(req.Against) > 0 {
		againstEnv = env
	}
	x := &WhatIf{Policies: req.Policies, Convs: req.Convs, Review: review, Top: req.Top,
		Result: policy.Check(set, env, req.Convs, review), Env: summary}
	if len(req.Against) > 0 {
		other, err := policy.LoadFiles(req.Against...)
		if err != nil {
			return nil, err
		}
		o := policy.Check(other, againstEnv, req.Convs, review)
		d := policy.Compare(req.Convs, x.Result.Program, x.Result.Verdicts, o.Program, o.Verdicts)
		x.Against, x.AgainstCheck, x.Diff = req.Against, &o, &d
	}
	return x, nil
}

// envSummary counts what the environment holds, for the report's header.
func envSummary(src policy.Sources, env policy.Env) EnvSummary {
	given := len(src.Members)
	return EnvSummary{VMs: len(env.VMs), LearnedGroups: max(len(env.Groups)-given, 0), GivenGroups: given + len(src.TagPaths),
		Categories: len(env.CategoryIDs), Default: env.Default.String()}
}
