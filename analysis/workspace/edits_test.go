package workspace

import (
	"fmt"
	"net/netip"
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

// TestKnobs: the knobs everything synthesises with keep the caller's
// exclusions, add the exclude edits' after them without writing into the
// caller's array, and come with every edit in order.
func TestKnobs(t *testing.T) {
	ws := openTemp(t)
	for _, e := range []rules.Edit{
		{Op: rules.EditRename, Rule: "r-1", Arg: "web"},
		{Op: rules.EditExclude, Arg: "10.0.0.9"},
		{Op: rules.EditExclude, Arg: "10.1.0.0/16"},
	} {
		if _, err := ws.AddEdit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	mine := make([]netip.Prefix, 1, 4)
	mine[0] = netip.MustParsePrefix("192.168.0.0/24")
	k, edits, err := ws.Knobs(ctx, rules.Knobs{Exclude: mine})
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(k.Exclude)
	if want := "[192.168.0.0/24 10.0.0.9/32 10.1.0.0/16]"; got != want {
		t.Errorf("Exclude %s, want %s", got, want)
	}
	if mine[:2][1].IsValid() {
		t.Errorf("Knobs wrote into the caller's array: %v", mine[:2])
	}
	if len(edits) != 3 || edits[0].Op != rules.EditRename || edits[2].Arg != "10.1.0.0/16" {
		t.Errorf("edits %+v", edits)
	}
	if _, err := ws.AddEdit(ctx, rules.Edit{Op: rules.EditExclude, Arg: "not-an-address"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws.Knobs(ctx, rules.Knobs{}); err == nil {
		t.Error("a bad exclude edit gave no error")
	}
}
