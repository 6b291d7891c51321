package workspace

import (
	"context"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// Synthesize makes the rule base of the conversations of t with the
// workspace's exclusions applied and its edits replayed, and says what
// became of each edit. The CLI (rules, export, check) and the app's
// project synthesise through it, so that their rules agree with each
// other.
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
