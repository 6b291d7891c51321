package workspace

import (
	"context"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// Rules synthesises the rule base of the conversations q selects, with the
// workspace's exclusions applied and its edits replayed (as Synthesize). It
// also returns what became of each edit. The rule set's table reads its
// sample lines from the workspace: keep it open while using them.
func (ws *Workspace) Rules(ctx context.Context, q Query, k analysis.Knobs) (analysis.RuleSet, []analysis.EditResult, error) {
	t, err := ws.Table(ctx, q)
	if err != nil {
		return analysis.RuleSet{}, nil, err
	}
	return ws.Synthesize(ctx, t, k)
}

// Synthesize makes the rule base of the conversations of t with the
// workspace's exclusions and edits, so that every view of the rules (CLI,
// desktop app, exports) agrees.
func (ws *Workspace) Synthesize(ctx context.Context, t *analysis.Table, k analysis.Knobs) (analysis.RuleSet, []analysis.EditResult, error) {
	edits, err := ws.Edits(ctx)
	if err != nil {
		return analysis.RuleSet{}, nil, err
	}
	ex, err := analysis.Exclusions(edits)
	if err != nil {
		return analysis.RuleSet{}, nil, err
	}
	k.Exclude = append(k.Exclude[:len(k.Exclude):len(k.Exclude)], ex...)
	rs, results := analysis.ApplyEdits(analysis.Synthesize(t, k), edits)
	return rs, results, nil
}
