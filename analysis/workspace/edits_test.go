package workspace

import (
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis/rules"
)

// TestMergeIntoItselfRefused: merging a rule into itself is refused when
// it is recorded, rather than kept and replayed forever.
func TestMergeIntoItselfRefused(t *testing.T) {
	ws := openTemp(t)
	if _, err := ws.AddEdit(ctx, rules.Edit{Op: rules.EditMerge, Rule: "r-1", Arg: "r-1"}); err == nil {
		t.Error("merge r-1 into r-1 was recorded")
	}
	if edits, _ := ws.Edits(ctx); len(edits) != 0 {
		t.Errorf("edits %+v", edits)
	}
	if _, err := ws.AddEdit(ctx, rules.Edit{Op: rules.EditMerge, Rule: "r-1", Arg: "r-2"}); err != nil {
		t.Errorf("merge r-1 with r-2: %v", err)
	}
}
