package workspace

import (
	"context"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
)

// Synthesize makes the rule base of the conversations of t with the
// workspace's exclusions applied and its edits replayed, and says what
// became of each edit. The CLI (rules, export, check) and the app's
// project synthesise through it, so that their rules agree with each
// other.
func (ws *Workspace) Synthesize(ctx context.Context, t *analysis.Table, k rules.Knobs) (rules.Set, []rules.EditResult, error) {
	edits, err := ws.Edits(ctx)
	if err != nil {
		return rules.Set{}, nil, err
	}
	ex, err := rules.Exclusions(edits)
	if err != nil {
		return rules.Set{}, nil, err
	}
	k.Exclude = append(k.Exclude[:len(k.Exclude):len(k.Exclude)], ex...)
	rs, results := rules.ApplyEdits(rules.Synthesize(t, k), edits)
	return rs, results, nil
}
