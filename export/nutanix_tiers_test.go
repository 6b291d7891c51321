package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// nxV3Doc is what the Nutanix tests read of v3 bodies.
type nxV3Doc []struct {
	Metadata map[string]any
	Spec     struct {
		Name      string
		Resources struct {
			AppRule struct {
				TargetGroup struct {
					DefaultInternalPolicy string `json:"default_internal_policy"`
					Filter                struct {
						Type   string
						Params map[string][]string
					}
				} `json:"target_group"`
				Inbound  []nxV3Entry `json:"inbound_allow_list"`
				Outbound []nxV3Entry `json:"outbound_allow_list"`
			} `json:"app_rule"`
		}
	}
}

type nxV3Entry struct {
	PeerType    string `json:"peer_specification_type"`
	Description string
	Filter      struct {
		Type   string
		Params map[string][]string
	}
}

func nxBooksV3(t *testing.T, o func(*VendorOptions)) (nxV3Doc, string) {
	t.Helper()
	fx := vtBooks()
	o(&fx.opts)
	body, rep := vtWrite(t, vtFormats()[0], fx)
	if err := validateNutanixV3(t, body); err != nil {
		t.Fatal(err)
	}
	var doc nxV3Doc
	if err := vtJSON(body, &doc); err != nil {
		t.Fatalf("%v:\n%s", err, body)
	}
	return doc, rep
}

func vtJSON(body []byte, v any) error { return json.Unmarshal(body, v) }

// TestNutanixV3Tiers: with tiers, one network_security_rule per tier, its
// target the tier ANDed with the application's category; tier-to-tier
// traffic is an outbound entry on the source tier and an inbound entry on
// the destination tier, both by category set (ANDed); intra-tier traffic is
// the tier's internal policy; no "all or nothing" warning for what the
// format says exactly.
func TestNutanixV3Tiers(t *testing.T) {
	doc, rep := nxBooksV3(t, func(*VendorOptions) {})
	if len(doc) != 3 {
		t.Fatalf("%d bodies, want one per tier", len(doc))
	}
	byTier := map[string]int{}
	for i, b := range doc {
		f := b.Spec.Resources.AppRule.TargetGroup.Filter
		if f.Type != "CATEGORIES_MATCH_ALL" || !slices.Equal(f.Params["AppType"], []string{"Books"}) || len(f.Params["AppTier"]) != 1 {
			t.Errorf("body %d target %+v", i, f)
		}
		byTier[f.Params["AppTier"][0]] = i
	}
	web, app := doc[byTier["Web"]].Spec.Resources.AppRule, doc[byTier["App"]].Spec.Resources.AppRule
	toApp := slices.IndexFunc(web.Outbound, func(e nxV3Entry) bool { return e.Description == "r-webapp" })
	fromWeb := slices.IndexFunc(app.Inbound, func(e nxV3Entry) bool { return e.Description == "r-webapp" })
	if toApp < 0 || fromWeb < 0 {
		t.Fatalf("web→app is not on both ends: web out %+v, app in %+v", web.Outbound, app.Inbound)
	}
	for _, e := range []nxV3Entry{web.Outbound[toApp], app.Inbound[fromWeb]} {
		if e.PeerType != "FILTER" || e.Filter.Type != "CATEGORIES_MATCH_ALL" || !slices.Equal(e.Filter.Params["AppType"], []string{"Books"}) {
			t.Errorf("a tier peer not ANDed with the application's category: %+v", e)
		}
	}
	for tier, want := range map[string]string{"Web": "DENY_ALL", "App": "ALLOW_ALL", "DB": "DENY_ALL"} {
		if got := doc[byTier[tier]].Spec.Resources.AppRule.TargetGroup.DefaultInternalPolicy; got != want {
			t.Errorf("%s internal policy %s, want %s", tier, got, want)
		}
	}
	for _, l := range strings.Split(strings.TrimSpace(rep), "\n") {
		if strings.Contains(l, "nutanix-v3") && (strings.Contains(l, "r-webapp") || strings.Contains(l, "r-appdb")) {
			t.Errorf("a warning for a rule the format says exactly: %s", l)
		}
	}
}

// TestNutanixV4Tiers: each rule is secured by its tier; inbound rules have
// the peer on the src side, outbound on the dest side; categories of
// peers are ANDed with the application's; INTRA_GROUP per tier.
func TestNutanixV4Tiers(t *testing.T) {
	fx := vtBooks()
	body, rep := vtWrite(t, vtFormats()[1], fx)
	var pol struct {
		Rules []struct {
			Description, Type string
			Spec              map[string]any
		}
	}
	if err := vtJSON(body, &pol); err != nil {
		t.Fatal(err)
	}
	ref := func(c string) string { return "<extId of category " + c + ">" }
	tier := func(t string) []any { return []any{ref("AppType:Books"), ref("AppTier:" + t)} }
	found := map[string]bool{}
	for _, r := range pol.Rules {
		s := r.Spec
		secured := s["securedGroupCategoryReferences"]
		switch {
		case r.Type == "INTRA_GROUP":
			found["intra "+vtString(secured)+" "+s["securedGroupAction"].(string)] = true
		case s["srcCategoryReferences"] != nil:
			found["in "+vtString(secured)+" from "+vtString(s["srcCategoryReferences"])] = true
		case s["destCategoryReferences"] != nil:
			found["out "+vtString(secured)+" to "+vtString(s["destCategoryReferences"])] = true
		}
	}
	for _, want := range []string{
		"out " + vtString(tier("Web")) + " to " + vtString(tier("App")),
		"in " + vtString(tier("App")) + " from " + vtString(tier("Web")),
		"out " + vtString(tier("App")) + " to " + vtString(tier("DB")),
		"in " + vtString(tier("DB")) + " from " + vtString(tier("App")),
		"intra " + vtString(tier("Web")) + " DENY", "intra " + vtString(tier("App")) + " ALLOW", "intra " + vtString(tier("DB")) + " DENY",
	} {
		if !found[want] {
			t.Errorf("missing %s in %v", want, found)
		}
	}
	if strings.Contains(rep, "nutanix-v4\tchanged\tr-webapp") || strings.Contains(rep, "nutanix-v4\tchanged\tr-appdb") {
		t.Errorf("a warning for a rule the format says exactly:\n%s", rep)
	}
	if !strings.Contains(string(body), `"description": "Internet to web"`) {
		t.Errorf("the renamed rule's name is not its description")
	}
}

func vtString(v any) string {
	var parts []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		parts = append(parts, s)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// TestNutanixCategoryIDs: a saved categories list fills the extIds it
// knows; placeholders remain, and are listed, only for the others.
func TestNutanixCategoryIDs(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "prism", "categories.json"))
	if err != nil {
		t.Fatal(err)
	}
	ids, err := ReadCategoryIDs(data)
	if err != nil || len(ids) != 3 || ids["AppTier:Web"] != "1e3a5c70-0002-4000-8000-000000000002" {
		t.Fatalf("%v %v", ids, err)
	}
	fx := vtBooks()
	fx.opts.CategoryIDs = ids
	var b bytes.Buffer
	ph, err := WriteNutanixV4(&b, fx.rs, fx.opts)
	var le *LossError
	if err != nil && !errors.As(err, &le) {
		t.Fatal(err)
	}
	if err := validateNutanixV4(t, b.Bytes()); err != nil {
		t.Fatal(err)
	}
	if len(ph) != 1 || ph[0].Name != "AppTier:DB" {
		t.Errorf("placeholders %+v, want AppTier:DB only", ph)
	}
	if !strings.Contains(b.String(), "1e3a5c70-0002-4000-8000-000000000002") || strings.Contains(b.String(), "<extId of category AppTier:Web>") ||
		!strings.Contains(b.String(), "<extId of category AppTier:DB>") {
		t.Errorf("body:\n%s", b.String())
	}
	var csvOut bytes.Buffer
	if err := WritePlaceholders(&csvOut, ph); err != nil {
		t.Fatal(err)
	}
	recs, _ := csv.NewReader(&csvOut).ReadAll()
	if len(recs) != 2 || recs[1][2] != "AppTier:DB" {
		t.Errorf("extids.csv %q", recs)
	}
	for _, bad := range []string{`{"data": []}`, `[]`, `{"data": "x"}`, `not json`} {
		if _, err := ReadCategoryIDs([]byte(bad)); !errors.Is(err, ErrNotUnderstood) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestNutanixUpdate: a saved GET of the discovery policy turns the export
// into an update of it: v3 PUT body with its uuid and spec_version (the
// body securing the same categories), v4 body with its extId and the
// headers its PUT needs.
func TestNutanixUpdate(t *testing.T) {
	checkNutanixV3Update(t)
	fx := checkNutanixV4Update(t)
	// A v4 policy is no update for a v3 body, and the reverse.
	if err := WriteNutanixV3(new(bytes.Buffer), fx.rs, fx.opts); !errors.Is(err, ErrBadOption) {
		t.Errorf("v3 body updating a v4 policy: %v", err)
	}
	for _, bad := range []string{`{"data": [{"extId": "x"}]}`, `{"metadata": {"kind": "network_security_rule"}}`, `{}`, `HTTP/1.1 200 OK`} {
		if _, err := ReadExistingPolicy([]byte(bad)); !errors.Is(err, ErrNotUnderstood) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// checkNutanixV3Update: the saved v3 GET makes the tier's body a PUT of the
// discovery policy, with its uuid and spec_version.
func checkNutanixV3Update(t *testing.T) {
	t.Helper()
	v3, err := os.ReadFile(filepath.Join("testdata", "prism", "v3-discovery-policy.json"))
	if err != nil {
		t.Fatal(err)
	}
	u3, err := ReadExistingPolicy(v3)
	if err != nil || u3.API != "v3" || len(u3.V3) != 1 || u3.V3[0].SpecVersion != 4 || !slices.Equal(u3.V3[0].Target, []string{"AppTier:Web", "AppType:Books"}) {
		t.Fatalf("%+v %v", u3, err)
	}
	doc, _ := nxBooksV3(t, func(o *VendorOptions) { o.Update = u3 })
	puts := 0
	for _, b := range doc {
		if b.Metadata["uuid"] == nil {
			continue
		}
		puts++
		f := b.Spec.Resources.AppRule.TargetGroup.Filter
		if b.Metadata["uuid"] != u3.V3[0].UUID || b.Metadata["spec_version"] != float64(4) || b.Spec.Name != "Discover-Traffic" ||
			!slices.Equal(f.Params["AppTier"], []string{"Web"}) || b.Metadata["project_reference"] == nil {
			t.Errorf("update %+v", b)
		}
	}
	if puts != 1 {
		t.Errorf("%d bodies update the policy, want 1", puts)
	}
}

// checkNutanixV4Update: the saved v4 GET makes the v4 body an update of the
// policy, with its extId, and a side file with the headers of its PUT. It
// returns the fixture with that update in its options.
func checkNutanixV4Update(t *testing.T) vtFixture {
	t.Helper()
	v4, err := os.ReadFile(filepath.Join("testdata", "prism", "v4-discovery-policy.txt"))
	if err != nil {
		t.Fatal(err)
	}
	u4, err := ReadExistingPolicy(v4)
	if err != nil || u4.API != "v4" || u4.V4.ExtID != "9b2e1c4d-77f0-4a5b-8c1d-2e3f4a5b6c7d" || u4.V4.ETag != `"d7a4c1f0-4b1e-4d83-9d3a-3c0d1f7b2e55:7"` {
		t.Fatalf("%+v %v", u4, err)
	}
	fx := vtBooks()
	fx.opts.Update = u4
	var b bytes.Buffer
	if _, err := WriteNutanixV4(&b, fx.rs, fx.opts); err != nil && !errors.As(err, new(*LossError)) {
		t.Fatal(err)
	}
	if err := validateNutanixV4(t, b.Bytes()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"extId": "9b2e1c4d-77f0-4a5b-8c1d-2e3f4a5b6c7d"`) || !strings.Contains(b.String(), `"name": "Discover-Traffic"`) {
		t.Errorf("v4 update body:\n%s", b.String())
	}
	checkNutanixV4Side(t, u4, b.Bytes())
	return fx
}

// checkNutanixV4Side checks the side file of a v4 update of body: the PUT,
// its If-Match ETag and a request id.
func checkNutanixV4Side(t *testing.T, u4 *ExistingPolicy, body []byte) {
	t.Helper()
	var side bytes.Buffer
	if err := WriteNutanixV4Update(&side, u4, "v4.json", body); err != nil {
		t.Fatal(err)
	}
	reqID := regexp.MustCompile(`(?m)^NTNX-Request-Id: [0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if !strings.Contains(side.String(), "If-Match: \"d7a4c1f0-4b1e-4d83-9d3a-3c0d1f7b2e55:7\"") || !reqID.MatchString(side.String()) ||
		!strings.Contains(side.String(), "PUT https://<prism-central>:9440/api/microseg/v4.0/config/policies/9b2e1c4d-77f0-4a5b-8c1d-2e3f4a5b6c7d") {
		t.Errorf("side file:\n%s", side.String())
	}
}
