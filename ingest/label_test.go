package ingest

import "testing"

// TestEventLabel: a line's group is the Nutanix policy, else the NSX tag,
// else the NSX rule (with its rule set) as RuleLabel names it; the model
// names untagged NSX groups with RuleLabel too (analysis TestModel).
func TestEventLabel(t *testing.T) {
	for _, tc := range []struct {
		Name string
		In   Event
		Want string
	}{
		{"nutanix policy", Event{Vendor: Nutanix, Policy: "web-app", Tag: "x"}, "web-app"},
		{"nsx tag", Event{Vendor: NSXV, Tag: "SGTSWEB", Rule: "1031"}, "SGTSWEB"},
		{"nsx rule", Event{Vendor: NSXV, Rule: "1031"}, "rule 1031"},
		{"nsx rule set", Event{Vendor: NSXT, RuleSet: "domain-c46", Rule: "1005"}, "rule domain-c46/1005"},
		{"nothing", Event{Vendor: NSXT}, ""},
	} {
		t.Run(tc.Name, func(t *testing.T) {
			if got := tc.In.Label(); got != tc.Want {
				t.Errorf("Label() = %q, want %q", got, tc.Want)
			}
		})
	}
}
