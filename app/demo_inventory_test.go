package app

import (
	"context"
	"testing"
)

// TestDemoHasTiers: the built-in demo workspace holds the inventory of its
// VMs, so the rules name the application's tiers.
func TestDemoHasTiers(t *testing.T) {
	path, err := EnsureDemo(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p, err := OpenProject(path)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s, err := p.Reload(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	tiers := map[string]bool{}
	for _, r := range s.Rules.Rules {
		for _, e := range r.Monitored() {
			tiers[e.Name] = true
		}
	}
	for _, want := range []string{"AppTier:Web", "AppTier:App", "AppTier:DB"} {
		if !tiers[want] {
			t.Errorf("no rule secures %s; monitored sides: %v", want, tiers)
		}
	}
	if got := s.Rules.Scope.AppCategories; len(got) != 1 || got[0] != "AppType:Books" {
		t.Errorf("application categories %v", got)
	}
}
