package export

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// nsxGroupsBody is what the IP-set tests read of a body: the domain's
// Groups (with their deletion) and the policy's rules.
type nsxGroupsBody struct {
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
						ID                string
						SourceGroups      []string `json:"source_groups"`
						DestinationGroups []string `json:"destination_groups"`
					}
				}
			}
		}
	}
}

// nsxIPSets is a body's IP-set Groups by path, the paths marked for
// delete (in body order), where the policy is among the domain's children
// and where the first deletion is, and each live rule's group paths.
type nsxIPSets struct {
	names           map[string]string // path → display name
	members         map[string]string // path → addresses
	deleted         []string
	policyAt, delAt int
	rules           map[string][]string // rule id → its source and destination entries
}

// nsxWriteIPSets writes the NSX body of rs, validates it and reads its IP sets.
func nsxWriteIPSets(t *testing.T, rs rules.Set, o VendorOptions, external ...string) nsxIPSets {
	t.Helper()
	var b bytes.Buffer
	if err := WriteNSXPolicy(&b, rs, o); err != nil {
		t.Fatal(err)
	}
	if err := validateNSX(t, b.Bytes(), external...); err != nil {
		t.Fatal(err)
	}
	var body nsxGroupsBody
	if err := json.Unmarshal(b.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	out := nsxIPSets{names: map[string]string{}, members: map[string]string{}, rules: map[string][]string{}, delAt: -1}
	for i, c := range body.Children[len(body.Children)-1].Children {
		switch {
		case c.SecurityPolicy != nil:
			out.policyAt = i
			for _, r := range c.SecurityPolicy.Children {
				if !r.MarkedForDelete {
					out.rules[r.Rule.ID] = slices.Concat(r.Rule.SourceGroups, r.Rule.DestinationGroups)
				}
			}
		case c.Group != nil && c.MarkedForDelete:
			out.deleted = append(out.deleted, nsxDomain+"/groups/"+c.Group.ID)
			if out.delAt < 0 {
				out.delAt = i
			}
		case c.Group != nil && strings.HasPrefix(c.Group.ID, nsxIPSetPrefix):
			path := nsxDomain + "/groups/" + c.Group.ID
			out.names[path] = c.Group.DisplayName
			out.members[path] = strings.Join(c.Group.Expression[0].IPAddresses, ",")
		}
	}
	return out
}

// TestNSXIPSetPerMembers: one Group per set of peers, whichever rules name
// it and whatever their IP-set identities (the rule's role), named after
// the set alone; the same set in another policy is another Group.
func TestNSXIPSetPerMembers(t *testing.T) {
	fx := vtBooks()
	got := nsxWriteIPSets(t, fx.rs, fx.opts, vtNSXExternal(fx)...)
	want := map[string]string{"dc-01, dc-02": "10.10.0.10,10.10.0.11", "HTTPS servers": "192.0.2.80,192.0.2.81"}
	if len(got.names) != len(want) {
		t.Errorf("IP-set groups %v, want one per set of members %v", got.names, want)
	}
	for path, name := range got.names {
		if want[name] != got.members[path] {
			t.Errorf("group %s: %q of %s", path, name, got.members[path])
		}
	}
	web, db := got.rules["fs-r-webdns"], got.rules["fs-r-dbdns"]
	if len(web) != 2 || len(db) != 2 || web[1] != db[1] || got.names[web[1]] != "dc-01, dc-02" {
		t.Errorf("web and db DNS rules name %v and %v, want the same dc-01, dc-02 group", web, db)
	}
	fx.opts.PolicyName = "Shop"
	other := nsxWriteIPSets(t, fx.rs, fx.opts, vtNSXExternal(fx)...)
	for path := range other.names {
		if got.names[path] != "" {
			t.Errorf("policy Shop writes group %s of policy Books: deleting it from one would break the other", path)
		}
	}
}

// TestNSXIPSetNames: a set is named after what its rules call it; two sets
// of one name are told apart by their rules' other sides, then by their
// members.
func TestNSXIPSetNames(t *testing.T) {
	out, udp := ingest.DirOutbound, vtSvc(ingest.ProtoUDP, "53")
	web, db := vtTier("Web", "SGTSWEB", "10.20.10.11"), vtTier("DB", "SGTSDB", "10.20.30.31")
	dns := func(role string, addrs ...string) rules.Endpoint { return vtIPSet("DNS servers", role, addrs...) }
	for _, tc := range []struct {
		name  string
		rules []rules.Rule
		want  []string
	}{
		{"one set, two names", []rules.Rule{
			vtRule("a", out, web, dns("a", "10.10.0.10", "10.10.0.11"), udp),
			vtRule("b", out, db, vtIPSet("Kerberos servers", "b", "10.10.0.10", "10.10.0.11"), vtSvc(ingest.ProtoTCP, "88")),
		}, []string{"DNS servers / Kerberos servers"}},
		{"two sets, one name", []rules.Rule{
			vtRule("a", out, web, dns("a", "10.10.0.10", "10.10.0.11"), udp),
			vtRule("b", out, db, dns("b", "10.10.0.10"), udp),
		}, []string{"DNS servers for AppTier:DB", "DNS servers for AppTier:Web"}},
		{"two sets, one name, one side", []rules.Rule{
			vtRule("a", out, web, dns("a", "10.10.0.10", "10.10.0.11"), udp),
			vtRule("b", out, web, dns("b", "10.10.0.12"), vtSvc(ingest.ProtoTCP, "53")),
		}, []string{"DNS servers for AppTier:Web (10.10.0.10, 10.10.0.11)", "DNS servers for AppTier:Web (10.10.0.12)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := nsxWriteIPSets(t, rules.Set{Rules: tc.rules}, VendorOptions{PolicyName: "Books"},
				"/infra/domains/default/groups/SGTSWEB", "/infra/domains/default/groups/SGTSDB")
			names := slices.Sorted(func(yield func(string) bool) {
				for _, n := range got.names {
					if !yield(n) {
						return
					}
				}
			})
			if !slices.Equal(names, tc.want) {
				t.Errorf("names %q, want %q", names, tc.want)
			}
		})
	}
}

// TestNSXIPSetReexport: after a member change the rules keep their ids and
// name the new set's Group; the old Group is marked for delete, after the
// policy, once no rule of the body names it, and not before; only IP-set
// Groups of the history are ever deleted.
func TestNSXIPSetReexport(t *testing.T) {
	fx := vtBooks()
	ext := vtNSXExternal(fx)
	first := nsxWriteIPSets(t, fx.rs, fx.opts, ext...)
	history, err := NSXObjectIDs(fx.rs, fx.opts)
	if err != nil {
		t.Fatal(err)
	}
	old := first.rules["fs-r-webdns"][1]
	if !slices.Contains(history, "groups/"+strings.TrimPrefix(old, nsxDomain+"/groups/")) {
		t.Fatalf("the history %v lacks the group %s", history, old)
	}
	// The exports' history also holds groups FlowSleuth never deletes.
	fx.opts.NSXHistory = append(history, "groups/SGTSWEB", "groups/fs-AppType-Books-1234", "groups/../x")

	grow := func(id string) {
		for i := range fx.rs.Rules {
			if r := &fx.rs.Rules[i]; r.ID == id {
				r.Dst.Prefixes = append(r.Dst.Prefixes, vtPrefixes("10.10.0.12")...) // same role: same rule id
			}
		}
	}
	grow("r-webdns")
	second := nsxWriteIPSets(t, fx.rs, fx.opts, ext...)
	if len(second.deleted) != 0 {
		t.Errorf("deleted %v while fs-r-dbdns still names %s", second.deleted, old)
	}
	if web := second.rules["fs-r-webdns"]; len(web) != 2 || web[1] == old || second.members[web[1]] != "10.10.0.10,10.10.0.11,10.10.0.12" ||
		second.rules["fs-r-dbdns"][1] != old {
		t.Errorf("after the change: web %v, db %v (old group %s)", web, second.rules["fs-r-dbdns"], old)
	}

	grow("r-dbdns")
	third := nsxWriteIPSets(t, fx.rs, fx.opts, ext...)
	if !slices.Equal(third.deleted, []string{old}) || third.delAt < third.policyAt {
		t.Errorf("deleted %v at child %d (the policy at %d), want %s after the policy", third.deleted, third.delAt, third.policyAt, old)
	}
	for id, refs := range third.rules {
		if slices.Contains(refs, old) {
			t.Errorf("rule %s still names the deleted group", id)
		}
	}
	if len(third.rules) != len(first.rules) || third.rules["fs-r-webdns"] == nil || third.rules["fs-r-dbdns"] == nil {
		t.Errorf("rules %v, want those of the first export", third.rules)
	}
}

// TestNSXDeletedGroupReference: the validator rejects a rule naming a
// Group the same body deletes.
func TestNSXDeletedGroupReference(t *testing.T) {
	fx := vtBooks()
	fx.opts.NSXHistory = append(fx.opts.NSXHistory, "groups/"+nsxIPSetPrefix+"gone")
	var b bytes.Buffer
	if err := WriteNSXPolicy(&b, fx.rs, fx.opts); err != nil {
		t.Fatal(err)
	}
	// The domain's children: the groups, the policy, then the deletion.
	rule := "children.-1.children.-2.SecurityPolicy.children.0.Rule."
	vtRunNegatives(t, b.Bytes(), func(t testing.TB, body []byte) error { return validateNSX(t, body, vtNSXExternal(fx)...) }, []vtNegative{
		{"rule names a deleted group", rule + "source_groups", []any{nsxDomain + "/groups/" + nsxIPSetPrefix + "gone"}, "names no object"},
	})
}
