package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis/rules"
)

// The objects an admin finds in NSX and Prism after importing the demo's
// exports: one IP-address group per set of outside peers, reused by every
// rule naming it and named plainly; one v4 rule per secured tier and peer.

// nsxIPSets is what the test reads of an NSX body's IP-set groups.
type nsxIPSets struct {
	live    map[string][]string // id → addresses
	names   map[string]string   // id → display name
	deleted []string
	refs    map[string]int // id → live rules naming it
}

func readNSXIPSets(t *testing.T, path string) nsxIPSets {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Children []struct {
			Children []struct {
				MarkedForDelete bool `json:"marked_for_delete"`
				Group           *struct {
					ID          string
					DisplayName string `json:"display_name"`
					Expression  []struct {
						IPAddresses []string `json:"ip_addresses"`
					}
				}
				SecurityPolicy *struct {
					Children []struct {
						MarkedForDelete bool `json:"marked_for_delete"`
						Rule            struct {
							Src []string `json:"source_groups"`
							Dst []string `json:"destination_groups"`
						}
					}
				}
			}
		}
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	g := nsxIPSets{live: map[string][]string{}, names: map[string]string{}, refs: map[string]int{}}
	for _, c := range doc.Children {
		for _, d := range c.Children {
			switch {
			case d.Group != nil && d.MarkedForDelete:
				g.deleted = append(g.deleted, d.Group.ID)
			case d.Group != nil && strings.HasPrefix(d.Group.ID, "fs-ipset-"):
				g.live[d.Group.ID] = d.Group.Expression[0].IPAddresses
				g.names[d.Group.ID] = d.Group.DisplayName
			case d.SecurityPolicy != nil:
				for _, r := range d.SecurityPolicy.Children {
					for _, p := range slices.Concat(r.Rule.Src, r.Rule.Dst) {
						if !r.MarkedForDelete {
							g.refs[p[strings.LastIndexByte(p, '/')+1:]]++
						}
					}
				}
			}
		}
	}
	return g
}

// ipSetMembers returns the distinct member lists of the rules' IP sets.
func ipSetMembers(rs rules.Set) map[string]bool {
	out := map[string]bool{}
	for _, r := range rs.Rules {
		for _, e := range []rules.Endpoint{r.Src, r.Dst} {
			if e.Kind == rules.KindIPSet {
				var ips []string
				for _, p := range e.Prefixes {
					ips = append(ips, strings.TrimSuffix(p.String(), "/32"))
				}
				out[strings.Join(ips, ",")] = true
			}
		}
	}
	return out
}

func TestAcceptanceNSXGroups(t *testing.T) {
	b := newBooks(t, "nsxt", 1)
	b.export(t, "--nsx", filepath.Join(b.dir, "nsx1.json"))
	rs := b.rules(t)
	first := readNSXIPSets(t, filepath.Join(b.dir, "nsx1.json"))
	sets := ipSetMembers(rs)
	bySet := map[string][]string{}
	for id, ips := range first.live {
		bySet[strings.Join(ips, ",")] = append(bySet[strings.Join(ips, ",")], id)
	}
	for set := range sets {
		if len(bySet[set]) != 1 {
			t.Errorf("peers %s: groups %v, want one", set, bySet[set])
		}
	}
	if len(first.live) != len(sets) {
		t.Errorf("%d IP-set groups for %d sets of peers: %v", len(first.live), len(sets), first.names)
	}
	names := map[string]bool{}
	for id, name := range first.names {
		names[name] = true
		if strings.Contains(name, " for ") || first.refs[id] == 0 {
			t.Errorf("group %s %q, named by %d rules", id, name, first.refs[id])
		}
	}
	for _, want := range []string{"monitor-01", "dc-01, dc-02"} {
		if !names[want] {
			t.Errorf("no group %q among %v", want, first.names)
		}
	}
	for id, name := range first.names {
		if name == "monitor-01" && first.refs[id] < 3 {
			t.Errorf("monitor-01 named by %d rules: the group is not reused", first.refs[id])
		}
	}
	t.Logf("%d IP-set groups: %v", len(first.live), first.names)

	// More data: every group of the first export is in the second or
	// deleted, and no rule of the second names a deleted group.
	second := 2
	for ; second < 40 && !worldContains(t, second, b.vms); second++ {
	}
	b.add(t, "nsxt", second, "2025-04-14T00:00:00Z")
	b.export(t, "--nsx", filepath.Join(b.dir, "nsx2.json"))
	next := readNSXIPSets(t, filepath.Join(b.dir, "nsx2.json"))
	for id := range first.live {
		if next.live[id] == nil && !slices.Contains(next.deleted, id) {
			t.Errorf("group %s of the first export is stale after the second", id)
		}
	}
	t.Logf("second export: %d IP-set groups, %d deleted", len(next.live), len(next.deleted))
	checkDeleted(t, next)

	// A member change (dc-02 kept out of every rule): the rules keep their
	// ids and name the new set's group; the old group, which no rule names
	// any more, is deleted by the next export.
	if code, _, errs := flowsleuth(t, "", "rules", "exclude", "--workspace", b.ws, "10.10.0.11"); code != exitOK {
		t.Fatal(errs)
	}
	b.export(t, "--nsx", filepath.Join(b.dir, "nsx3.json"))
	third := readNSXIPSets(t, filepath.Join(b.dir, "nsx3.json"))
	checkDeleted(t, third)
	var old string
	for id, ips := range next.live {
		if slices.Equal(ips, []string{"10.10.0.10", "10.10.0.11"}) {
			old = id
		}
	}
	if old == "" || !slices.Contains(third.deleted, old) || !slices.ContainsFunc(slices.Collect(maps.Values(third.live)),
		func(ips []string) bool { return slices.Equal(ips, []string{"10.10.0.10"}) }) {
		t.Errorf("after excluding dc-02: groups %v, deleted %v (the old group %q)", third.names, third.deleted, old)
	}
	before, after := readNSXBody(t, filepath.Join(b.dir, "nsx2.json")), readNSXBody(t, filepath.Join(b.dir, "nsx3.json"))
	b.program(t, "nsx3.json") // fails on a reference to a group the body deletes
	slices.Sort(before.live)
	slices.Sort(after.live)
	if !slices.Equal(before.live, after.live) || len(after.deleted) != len(before.deleted) {
		t.Errorf("the rule ids changed with the members:\n%v\n%v", before.live, after.live)
	}
}

// checkDeleted fails when a group the body deletes is still named by one
// of its rules or written by it.
func checkDeleted(t *testing.T, g nsxIPSets) {
	t.Helper()
	for _, id := range g.deleted {
		if g.refs[id] > 0 || g.live[id] != nil {
			t.Errorf("group %s is deleted but named by %d rules", id, g.refs[id])
		}
	}
}

func TestAcceptanceNutanixV4Peers(t *testing.T) {
	b := newBooks(t, "nsxt", 1)
	b.export(t, "--nutanix-v4", filepath.Join(b.dir, "v4.json"))
	raw, err := os.ReadFile(filepath.Join(b.dir, "v4.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pol struct {
		Rules []struct {
			Type, Description string
			Spec              map[string]any
		}
	}
	if err := json.Unmarshal(raw, &pol); err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, r := range pol.Rules {
		if r.Type != "APPLICATION" {
			continue
		}
		s := r.Spec
		key := fmt.Sprint(s["securedGroupCategoryReferences"], s["srcSubnet"], s["destSubnet"], s["srcCategoryReferences"],
			s["destCategoryReferences"], s["srcAllowSpec"], s["destAllowSpec"])
		if prev, ok := seen[key]; ok {
			t.Errorf("v4 rules %q and %q secure the same tier towards the same peer", prev, r.Description)
		}
		seen[key] = r.Description
	}
	t.Logf("%d v4 rules, %d APPLICATION", len(pol.Rules), len(seen))
}
