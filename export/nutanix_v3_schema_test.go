package export

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// Nutanix v3 bodies are checked against Nutanix's own swagger 2.0 file,
// v3/swagger.json of github.com/nutanix-cloud-native/prism-go-client. The
// definitions that network_security_rule_intent_input reaches are kept in
// testdata/vendor/nutanix-v3/ (see the README there); TestNutanixV3SwaggerSubset
// re-extracts them from the module when it is in the module cache.

const (
	nxSwaggerModule  = "github.com/nutanix-cloud-native/prism-go-client"
	nxSwaggerVersion = "v0.8.1"
	nxSwaggerCommit  = "651ee0bb902e2303998df1e0ebe1ae986514de2a" // tag v0.8.1
	nxSwaggerFile    = "v3/swagger.json"
	nxSwaggerSHA256  = "fa35ca08de37809f319ea3dac186ad8973e9fc7b5586fa92528bed7b7ffe37ab"
	nxSwaggerRoot    = "network_security_rule_intent_input"
)

var nxSwaggerSubset = filepath.Join("testdata", "vendor", "nutanix-v3", "network_security_rule.swagger.json")

// swaggerDefs are swagger definitions by name, decoded with json.Number.
type swaggerDefs map[string]map[string]any

var nxSwagger = sync.OnceValues(func() (swaggerDefs, error) {
	b, err := os.ReadFile(nxSwaggerSubset)
	if err != nil {
		return nil, err
	}
	var f struct{ Definitions swaggerDefs }
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return f.Definitions, dec.Decode(&f)
})

// validateNutanixV3 checks a body against the swagger definition of
// network_security_rule_intent_input; a JSON array (one body per secured
// group) has each element checked.
func validateNutanixV3(t testing.TB, body []byte) error {
	defs, err := nxSwagger()
	if err != nil {
		t.Fatal(err)
	}
	w := &swaggerWalker{defs: defs}
	v := vtDecode(t, body)
	list, isList := v.([]any)
	if !isList {
		list = []any{v}
	}
	if isList && len(list) == 0 {
		w.fail("$", "an empty array of bodies")
	}
	for i, b := range list {
		path := "$"
		if isList {
			path = fmt.Sprintf("$[%d]", i)
		}
		w.walk(defs[nxSwaggerRoot], b, path)
	}
	return errors.Join(w.errs...)
}

type swaggerWalker struct {
	defs swaggerDefs
	errs []error
}

func (w *swaggerWalker) fail(path, format string, args ...any) {
	w.errs = append(w.errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
}

// walk checks v against a schema: kind, properties (no unknown ones unless
// additionalProperties), required, x-ntnx-one-of, enum and x-ntnx-enum,
// minimum/maximum, maxLength, pattern.
func (w *swaggerWalker) walk(s map[string]any, v any, path string) {
	if ref, ok := s["$ref"].(string); ok {
		s = w.defs[strings.TrimPrefix(ref, "#/definitions/")]
		if s == nil {
			w.fail(path, "unresolved %s", ref)
			return
		}
	}
	typ, _ := s["type"].(string)
	if typ == "" && s["properties"] != nil {
		typ = "object"
	}
	switch typ {
	case "object":
		w.object(s, v, path)
	case "array":
		items, ok := v.([]any)
		if !ok {
			w.fail(path, "want an array, got %T", v)
			return
		}
		for i, it := range items {
			w.walk(s["items"].(map[string]any), it, fmt.Sprintf("%s[%d]", path, i))
		}
	case "string":
		w.str(s, v, path)
	case "integer", "number":
		w.number(s, v, typ, path)
	case "boolean":
		if _, ok := v.(bool); !ok {
			w.fail(path, "want a boolean, got %T", v)
		}
	default:
		w.fail(path, "schema type %q not checked", typ)
	}
}

func (w *swaggerWalker) object(s map[string]any, v any, path string) {
	obj, ok := v.(map[string]any)
	if !ok {
		w.fail(path, "want an object, got %T", v)
		return
	}
	props, _ := s["properties"].(map[string]any)
	for _, k := range vndSortedKeys(obj) {
		switch p, ap := props[k], s["additionalProperties"]; {
		case p != nil:
			w.walk(p.(map[string]any), obj[k], path+"."+k)
		case ap == true:
		case ap != nil:
			w.walk(ap.(map[string]any), obj[k], path+"."+k)
		default:
			w.fail(path, "unknown property %q", k)
		}
	}
	has := func(req any) bool {
		for _, r := range req.([]any) {
			if _, ok := obj[r.(string)]; !ok {
				return false
			}
		}
		return true
	}
	if req, ok := s["required"]; ok && !has(req) {
		w.fail(path, "missing required property of %v", req)
	}
	if alts, ok := s["x-ntnx-one-of"].([]any); ok {
		n := 0
		for _, a := range alts {
			if has(a.(map[string]any)["required"]) {
				n++
			}
		}
		if n != 1 {
			w.fail(path, "x-ntnx-one-of: %d of the alternatives %v are set, want 1", n, alts)
		}
	}
}

func (w *swaggerWalker) str(s map[string]any, v any, path string) {
	str, ok := v.(string)
	if !ok {
		w.fail(path, "want a string, got %T", v)
		return
	}
	for _, key := range []string{"enum", "x-ntnx-enum"} {
		if e, ok := s[key].([]any); ok && !slices.Contains(e, any(str)) {
			w.fail(path, "%q is not in %s %v", str, key, e)
		}
	}
	if n, ok := s["maxLength"].(json.Number); ok && int64(utf8.RuneCountInString(str)) > vtInt(n) {
		w.fail(path, "longer than maxLength %s", n)
	}
	if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(str) {
		w.fail(path, "%q does not match pattern %s", str, p)
	}
}

func (w *swaggerWalker) number(s map[string]any, v any, typ, path string) {
	n, ok := v.(json.Number)
	if !ok {
		w.fail(path, "want an %s, got %T", typ, v)
		return
	}
	f, err := n.Float64()
	if _, ierr := n.Int64(); err != nil || typ == "integer" && ierr != nil {
		w.fail(path, "%s is no %s", n, typ)
		return
	}
	if m, ok := s["minimum"].(json.Number); ok && f < float64(vtInt(m)) {
		w.fail(path, "%s is below minimum %s", n, m)
	}
	if m, ok := s["maximum"].(json.Number); ok && f > float64(vtInt(m)) {
		w.fail(path, "%s is above maximum %s", n, m)
	}
}

func vtInt(n json.Number) int64 {
	i, err := n.Int64()
	if err != nil {
		panic(err)
	}
	return i
}

// swaggerClosure returns the definitions reachable from root.
func swaggerClosure(defs swaggerDefs, root string) swaggerDefs {
	out := swaggerDefs{}
	var visit func(v any)
	visit = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				name := strings.TrimPrefix(ref, "#/definitions/")
				if out[name] == nil {
					out[name] = defs[name]
					visit(defs[name])
				}
			}
			for _, x := range v {
				visit(x)
			}
		case []any:
			for _, x := range v {
				visit(x)
			}
		}
	}
	out[root] = defs[root]
	visit(defs[root])
	return out
}

// vtModuleFile returns a file of a module version in the module cache,
// downloading the module with -update.
func vtModuleFile(t *testing.T, module, version, file string) string {
	t.Helper()
	cache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Skipf("go env GOMODCACHE: %v", err)
	}
	path := filepath.Join(strings.TrimSpace(string(cache)), module+"@"+version, file)
	if _, err := os.Stat(path); err != nil && vtUpdating() {
		out, err := exec.Command("go", "mod", "download", module+"@"+version).CombinedOutput()
		if err != nil {
			t.Fatalf("go mod download %s@%s: %v\n%s", module, version, err, out)
		}
	}
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s@%s is not in the module cache (go mod download %[1]s@%[2]s): %v", module, version, err)
	}
	return path
}

// TestNutanixV3SwaggerSubset checks that the kept subset is exactly the
// closure of network_security_rule_intent_input in the vendor's file, and
// rewrites it with -update.
func TestNutanixV3SwaggerSubset(t *testing.T) {
	src := vtModuleFile(t, nxSwaggerModule, nxSwaggerVersion, nxSwaggerFile)
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != nxSwaggerSHA256 {
		t.Fatalf("%s: sha256 %x, want %s", src, sum, nxSwaggerSHA256)
	}
	var full struct {
		Info        map[string]any
		Definitions swaggerDefs
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&full); err != nil {
		t.Fatal(err)
	}
	sub := swaggerClosure(full.Definitions, nxSwaggerRoot)
	if vtUpdating() {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", " ")
		err := enc.Encode(map[string]any{"info": full.Info, "definitions": sub, "x-flowsleuth-source": map[string]string{
			"module": nxSwaggerModule, "version": nxSwaggerVersion, "commit": nxSwaggerCommit,
			"file": nxSwaggerFile, "sha256": nxSwaggerSHA256, "root": nxSwaggerRoot}})
		if err == nil {
			err = os.WriteFile(nxSwaggerSubset, b.Bytes(), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	kept, err := nxSwagger()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(kept, sub) {
		t.Errorf("%s is not the closure of %s in %s (run with -update)", nxSwaggerSubset, nxSwaggerRoot, src)
	}
}

func TestNutanixV3SchemaRejects(t *testing.T) {
	body := vtBody(t, "appx", "nutanix-v3")
	in := "spec.resources.app_rule.inbound_allow_list.0."
	vtRunNegatives(t, body, validateNutanixV3, []vtNegative{
		{"unknown key", in + "port", 443, `unknown property "port"`},
		{"action ENFORCE", "spec.resources.app_rule.action", "ENFORCE", "x-ntnx-enum"},
		{"port as string", in + "tcp_port_range_list.0.start_port", "443", "want an integer"},
		{"port above 65535", in + "tcp_port_range_list.0.end_port", 70000, "above maximum"},
		{"IPv6 subnet", in + "ip_subnet.ip", "2001:db8::", "does not match pattern"},
		{"CIDR in ip", in + "ip_subnet.ip", "10.1.2.0/24", "does not match pattern"},
		{"prefix length 64", in + "ip_subnet.prefix_length", 64, "above maximum"},
		{"metadata without kind", "metadata.kind", vtDelete, "missing required"},
		{"filter without params", "spec.resources.app_rule.target_group.filter.params", vtDelete, "missing required"},
		{"params value not a list", "spec.resources.app_rule.target_group.filter.params.AppType", "App-X", "want an array"},
		{"no name", "spec.name", vtDelete, "missing required"},
		{"name too long", "spec.name", strings.Repeat("n", 65), "maxLength"},
		{"rule description too long", in + "description", strings.Repeat("d", 65), "maxLength"},
		{"two rule kinds", "spec.resources.isolation_rule", map[string]any{}, "x-ntnx-one-of"},
		{"peer type bad", in + "peer_specification_type", "SUBNET", "x-ntnx-enum"},
		{"internal policy bad", "spec.resources.app_rule.target_group.default_internal_policy", "ALLOW", "x-ntnx-enum"},
		{"hitlog as string", "spec.resources.is_policy_hitlog_enabled", "true", "want a boolean"},
		{"ICMP type 44", in + "icmp_type_code_list", []any{map[string]any{"type": 44}}, "above maximum"},
	})
}
