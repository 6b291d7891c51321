package workspace

import (
	"context"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
)

// Knobs returns k with the workspace's exclusions (its exclude edits)
// added, and the workspace's edits, to replay on the rules synthesised
// with those knobs (rules.ApplyEdits). Everything that synthesises or
// checks the workspace's traffic takes its knobs from here, so that check,
// readiness and rules review the same conversations. k's Exclude is not
// changed in place.
func (ws *Workspace) Knobs(ctx context.Context, k rules.Knobs) (rules.Knobs, []rules.Edit, error) {
	edits, err := ws.Edits(ctx)
	if err != nil {
		return k, nil, err
	}
	ex, err := rules.Exclusions(edits)
	if err != nil {
		return k, nil, err
	}
	k.Exclude = append(k.Exclude[:len(k.Exclude):len(k.Exclude)], ex...)
	return k, edits, nil
}

// Synthesize makes the rule base of the conversations of t with the
// workspace's exclusions applied and its edits replayed, and says what
// became of each edit. The CLI (rules, export, check) and the app's
// project synthesise through it, so that their rules agree with each
// other.
func (ws *Workspace) Synthesize(ctx context.Context, t *analysis.Table, k rules.Knobs) (rules.Set, []rules.EditResult, error) {
	k, edits, err := ws.Knobs(ctx, k)
	if err != nil {
		return rules.Set{}, nil, err
	}
	rs, results := rules.ApplyEdits(rules.Synthesize(t, k), edits)
	return rs, results, nil
}
