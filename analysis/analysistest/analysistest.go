// Package analysistest holds test helpers shared by the analysis packages'
// tests.
package analysistest

import (
	"reflect"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// SameConversations fails t unless got and want hold the same
// conversations in the same order, sample lines aside: they are the first
// lines of a conversation that each reader happened to see.
func SameConversations(t testing.TB, got, want []analysis.Conversation) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d conversations, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		g.Samples, w.Samples = nil, nil
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("conversation %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}
