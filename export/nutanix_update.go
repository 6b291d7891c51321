package export

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/textproto"
	"slices"
	"strings"
)

// What Prism Central tells FlowSleuth, saved by the admin: the categories
// with their extIds, and the existing (discovery) policy to update.

// ErrNotUnderstood is wrapped by ReadCategoryIDs and ReadExistingPolicy for
// a file they cannot read.
var ErrNotUnderstood = errors.New("not a saved Prism Central response FlowSleuth reads")

// ExistingPolicy is what saved GETs say of the existing Flow policies to
// update: v3 network_security_rules (one per secured group, as FlowSleuth
// writes them with tiers) or one v4 policy.
type ExistingPolicy struct {
	API string      // "v3" or "v4"
	V3  []*V3Policy // when API is v3
	V4  *V4Policy   // when API is v4
}

// Add adds the policies of o (the same API) to e.
func (e *ExistingPolicy) Add(o *ExistingPolicy) error {
	switch {
	case e.API != o.API:
		return fmt.Errorf("policies to update of two APIs, %s and %s: %w", e.API, o.API, ErrBadOption)
	case e.API == "v4":
		return fmt.Errorf("two v4 policies to update: FlowSleuth writes one: %w", ErrBadOption)
	}
	e.V3 = append(e.V3, o.V3...)
	return nil
}

// V3Policy is what an update of a v3 network_security_rule needs of it.
type V3Policy struct {
	UUID        string
	SpecVersion int64
	Name        string
	Target      []string       // the categories it secures, "Key:Value"
	Metadata    map[string]any // as saved (categories, project_reference, …)
}

// V4Policy is what an update of a v4 NetworkSecurityPolicy needs of it.
type V4Policy struct {
	ExtID string
	Name  string
	ETag  string // for If-Match: from the saved headers or $reserved; "" when the file has none
}

// ReadExistingPolicy reads a saved GET of a Flow policy: the JSON body of
// GET /api/nutanix/v3/network_security_rules/{uuid} (or a list response of
// POST .../network_security_rules/list) or of GET
// /api/microseg/v4.x/config/policies/{extId}, optionally preceded by the
// response headers (curl -i), which give the v4 ETag.
func ReadExistingPolicy(data []byte) (*ExistingPolicy, error) {
	headers, body := splitHTTP(data)
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("saved policy: %w: %v", ErrNotUnderstood, err)
	}
	if md, _ := doc["metadata"].(map[string]any); md["kind"] == "network_security_rule" {
		return readV3Policy(doc, md)
	}
	if list, ok := doc["entities"].([]any); ok && len(list) > 0 {
		out := &ExistingPolicy{API: "v3"}
		for i, x := range list {
			ent, _ := x.(map[string]any)
			md, _ := ent["metadata"].(map[string]any)
			p, err := readV3Policy(ent, md)
			if err != nil {
				return nil, fmt.Errorf("entity %d: %w", i, err)
			}
			out.V3 = append(out.V3, p.V3...)
		}
		return out, nil
	}
	return readV4Policy(doc, headers)
}

// readV4Policy reads the v4 policy saved as doc (its body, or the GET's
// {"data": ...} envelope); its ETag comes from the saved headers or the
// body's $reserved map.
func readV4Policy(doc map[string]any, headers textproto.MIMEHeader) (*ExistingPolicy, error) {
	pol := doc
	if d, ok := doc["data"]; ok {
		if pol, ok = d.(map[string]any); !ok {
			return nil, fmt.Errorf("saved policy: a list of policies: save the GET of the one to update: %w", ErrNotUnderstood)
		}
	}
	ext, _ := pol["extId"].(string)
	if ext == "" {
		return nil, fmt.Errorf("saved policy: neither a v3 network_security_rule nor a v4 policy with an extId: %w", ErrNotUnderstood)
	}
	v4 := &V4Policy{ExtID: ext, ETag: headers.Get("ETag")}
	v4.Name, _ = pol["name"].(string)
	for _, m := range []map[string]any{doc, pol} {
		if r, ok := m["$reserved"].(map[string]any); ok && v4.ETag == "" {
			for k, v := range r {
				if s, ok := v.(string); ok && strings.EqualFold(k, "ETag") {
					v4.ETag = s
				}
			}
		}
	}
	return &ExistingPolicy{API: "v4", V4: v4}, nil
}

func readV3Policy(doc, md map[string]any) (*ExistingPolicy, error) {
	if md["kind"] != "network_security_rule" {
		return nil, fmt.Errorf("saved v3 policy: metadata kind %v, want network_security_rule: %w", md["kind"], ErrNotUnderstood)
	}
	p := &V3Policy{Metadata: md}
	p.UUID, _ = md["uuid"].(string)
	sv, ok := md["spec_version"].(float64)
	if p.UUID == "" || !ok {
		return nil, fmt.Errorf("saved v3 policy: metadata without uuid or spec_version (save the GET response, not the spec): %w",
			ErrNotUnderstood)
	}
	p.SpecVersion = int64(sv)
	spec, _ := doc["spec"].(map[string]any)
	p.Name, _ = spec["name"].(string)
	res, _ := spec["resources"].(map[string]any)
	app, _ := res["app_rule"].(map[string]any)
	tg, _ := app["target_group"].(map[string]any)
	filter, _ := tg["filter"].(map[string]any)
	params, _ := filter["params"].(map[string]any)
	for k, vs := range params {
		list, _ := vs.([]any)
		for _, v := range list {
			if s, ok := v.(string); ok {
				p.Target = append(p.Target, k+":"+s)
			}
		}
	}
	slices.Sort(p.Target)
	return &ExistingPolicy{API: "v3", V3: []*V3Policy{p}}, nil
}

// splitHTTP separates saved response headers (curl -i) from the body.
func splitHTTP(data []byte) (textproto.MIMEHeader, []byte) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if !bytes.HasPrefix(data, []byte("HTTP/")) {
		return textproto.MIMEHeader{}, data
	}
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(data)))
	var h textproto.MIMEHeader
	for { // skip interim responses (HTTP/1.1 100 Continue)
		if _, err := r.ReadLine(); err != nil {
			return textproto.MIMEHeader{}, data
		}
		var err error
		if h, err = r.ReadMIMEHeader(); err != nil {
			return textproto.MIMEHeader{}, data
		}
		rest, _ := readRest(r)
		if !bytes.HasPrefix(rest, []byte("HTTP/")) {
			return h, rest
		}
		r = textproto.NewReader(bufio.NewReader(bytes.NewReader(rest)))
	}
}

func readRest(r *textproto.Reader) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(r.R)
	return b.Bytes(), err
}

// ReadCategoryIDs reads a saved Prism Central categories list (the body of
// GET /api/prism/v4.x/config/categories, {"data": [{"extId", "key",
// "value"}, …]}, or its data array) and maps "Key:Value" to extId.
func ReadCategoryIDs(data []byte) (map[string]string, error) {
	_, body := splitHTTP(data)
	var doc struct {
		Data json.RawMessage `json:"data"`
	}
	list := body
	if err := json.Unmarshal(body, &doc); err == nil && doc.Data != nil {
		list = doc.Data
	}
	var cats []struct {
		ExtID string `json:"extId"`
		Key   string `json:"key"`
		Value string `json:"value"`
	}
	if err := json.Unmarshal(list, &cats); err != nil {
		return nil, fmt.Errorf("categories: %w: %v", ErrNotUnderstood, err)
	}
	out := map[string]string{}
	for _, c := range cats {
		if c.ExtID != "" && c.Key != "" && c.Value != "" {
			out[c.Key+":"+c.Value] = c.ExtID
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("categories: no category with an extId, key and value: %w", ErrNotUnderstood)
	}
	return out, nil
}

// vndUUID is a UUID derived from parts (version 5 layout, SHA-256), so that
// the same request gets the same id.
func vndUUID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
