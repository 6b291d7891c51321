package workspace

import (
	"context"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// Rules synthesises the rule base of the conversations q selects, with the
// workspace's exclusions applied and its edits replayed, so that every view
// of the rules (CLI, desktop app, exports) agrees. It also returns the
// conversations and what became of each edit.
func (ws *Workspace) Rules(ctx context.Context, q Query, k analysis.Knobs) (analysis.RuleSet, []analysis.Conversation, []analysis.EditResult, error) {
	convs, err := ws.Conversations(ctx, q)
	if err != nil {
		return analysis.RuleSet{}, nil, nil, err
	}
	rs, results, err := ws.Synthesize(ctx, convs, k)
	return rs, convs, results, err
}

// Synthesize makes the rule base of convs with the workspace's exclusions
// and edits.
func (ws *Workspace) Synthesize(ctx context.Context, convs []analysis.Conversation, k analysis.Knobs) (analysis.RuleSet, []analysis.EditResult, error) {
	edits, err := ws.Edits(ctx)
	if err != nil {
		return analysis.RuleSet{}, nil, err
	}
	ex, err := analysis.Exclusions(edits)
	if err != nil {
		return analysis.RuleSet{}, nil, err
	}
	k.Exclude = append(k.Exclude[:len(k.Exclude):len(k.Exclude)], ex...)
	rs, results := analysis.ApplyEdits(analysis.Synthesize(convs, k), edits)
	return rs, results, nil
}
