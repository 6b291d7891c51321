package export

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	config "github.com/nutanix/ntnx-api-golang-clients/microseg-go-client/v4/models/microseg/v4/config"
)

// Nutanix v4 bodies are checked against Nutanix's generated Go SDK,
// github.com/nutanix/ntnx-api-golang-clients/microseg-go-client/v4 v4.2.2
// (models/microseg/v4/config and models/common/v1/config). The SDK's own
// decoder is lenient (unknown keys go to UnknownFields_, unknown enum
// strings become $UNKNOWN, a spec without $objectType silently becomes a
// TwoEnvIsolationRuleSpec), so the body is walked against the SDK types:
// json tags give the field names, a tag without omitempty a required field
// (the generator's convention), GetName the enum values, and the oneOf
// wrappers' candidate types the specs, told apart by $objectType. Then the
// SDK decodes the body as a second opinion.

// validateNutanixV4 checks a body as a microseg.v4.config.NetworkSecurityPolicy.
func validateNutanixV4(t testing.TB, body []byte) error {
	w := &sdkWalker{}
	w.walk(reflect.TypeFor[config.NetworkSecurityPolicy](), vtDecode(t, body), "$")
	var pol config.NetworkSecurityPolicy
	if err := json.Unmarshal(body, &pol); err != nil {
		w.fail("$", "the SDK cannot decode it: %v", err)
		return errors.Join(w.errs...)
	}
	w.decoded(reflect.ValueOf(&pol), "$")
	specs := map[string]string{"APPLICATION": "ApplicationRuleSpec", "INTRA_GROUP": "IntraEntityGroupRuleSpec",
		"TWO_ENV_ISOLATION": "TwoEnvIsolationRuleSpec", "MULTI_ENV_ISOLATION": "MultiEnvIsolationRuleSpec"}
	for i, r := range pol.Rules {
		if r.Type == nil || r.Spec == nil {
			continue
		}
		if got := reflect.TypeOf(r.Spec.GetValue()); got == nil || got.Name() != specs[r.Type.GetName()] {
			w.fail(fmt.Sprintf("$.rules[%d]", i), "rule type %s with a %v spec", r.Type.GetName(), got)
		}
	}
	return errors.Join(w.errs...)
}

type sdkWalker struct {
	errs []error
	used map[string]bool // when not nil, records "Type.key" and "Enum=value" of what the body uses
}

func (w *sdkWalker) fail(path, format string, args ...any) {
	w.errs = append(w.errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
}

func (w *sdkWalker) walk(t reflect.Type, v any, path string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case sdkIsEnum(t):
		if s, ok := v.(string); !ok || !slices.Contains(sdkEnumNames(t), s) {
			w.fail(path, "%v is not a %s: %v", v, t.Name(), sdkEnumNames(t))
		} else if w.used != nil {
			w.used[t.Name()+"="+s] = true
		}
	case strings.HasPrefix(t.Name(), "OneOf"):
		w.oneOf(t, v, path)
	case t == reflect.TypeFor[time.Time]():
		if _, ok := v.(string); !ok {
			w.fail(path, "want a date-time string, got %T", v)
		}
	case t.Kind() == reflect.Struct:
		w.object(t, v, path)
	case t.Kind() == reflect.Slice:
		items, ok := v.([]any)
		if !ok {
			w.fail(path, "want an array, got %T", v)
			return
		}
		for i, it := range items {
			w.walk(t.Elem(), it, fmt.Sprintf("%s[%d]", path, i))
		}
	default:
		w.scalar(t, v, path)
	}
}

func (w *sdkWalker) scalar(t reflect.Type, v any, path string) {
	ok := false
	switch t.Kind() {
	case reflect.String:
		_, ok = v.(string)
	case reflect.Bool:
		_, ok = v.(bool)
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, isNum := v.(json.Number)
		_, err := n.Int64()
		ok = isNum && err == nil
	case reflect.Float32, reflect.Float64:
		_, ok = v.(json.Number)
	case reflect.Map, reflect.Interface:
		ok = true // $reserved and free-form maps
	}
	if !ok {
		w.fail(path, "want a %s, got %T %v", t.Kind(), v, v)
	}
}

// sdkField is one JSON field of an SDK struct.
type sdkField struct {
	t        reflect.Type
	required bool
}

func sdkFields(t reflect.Type) map[string]sdkField {
	out := map[string]sdkField{}
	for f := range t.Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" && f.IsExported() {
			out[name] = sdkField{t: f.Type, required: !strings.Contains(opts, "omitempty")}
		}
	}
	return out
}

func (w *sdkWalker) object(t reflect.Type, v any, path string) {
	obj, ok := v.(map[string]any)
	if !ok {
		w.fail(path, "want a %s object, got %T", t.Name(), v)
		return
	}
	fields := sdkFields(t)
	for _, k := range vndSortedKeys(obj) {
		f, ok := fields[k]
		switch {
		case !ok || k == "$unknownFields":
			w.fail(path, "unknown property %q of %s", k, t.Name())
			continue
		case k == "$objectType" && obj[k] != sdkObjectType(t):
			w.fail(path, "$objectType %v, want %q", obj[k], sdkObjectType(t))
		}
		if w.used != nil {
			w.used[t.Name()+"."+k] = true
		}
		w.walk(f.t, obj[k], path+"."+k)
	}
	for _, name := range vndSortedKeys(fields) {
		if _, ok := obj[name]; fields[name].required && !ok {
			w.fail(path, "missing required property %q of %s", name, t.Name())
		}
	}
}

// oneOf walks a spec as the candidate type its $objectType names. The SDK
// would take the first candidate when $objectType is missing.
func (w *sdkWalker) oneOf(t reflect.Type, v any, path string) {
	obj, _ := v.(map[string]any)
	ot, ok := obj["$objectType"].(string)
	if !ok {
		w.fail(path, "a %s needs its $objectType", t.Name())
		return
	}
	var names []string
	for f := range t.Fields() {
		if !strings.HasPrefix(f.Name, "oneOfType") {
			continue
		}
		c := f.Type
		for c.Kind() == reflect.Pointer || c.Kind() == reflect.Slice {
			c = c.Elem()
		}
		if c.Kind() == reflect.Struct && sdkObjectType(c) == ot {
			w.walk(c, v, path)
			return
		}
		names = append(names, sdkObjectType(c))
	}
	w.fail(path, "$objectType %q is none of %v", ot, names)
}

// sdkObjectType returns the $objectType that the SDK's constructor gives t.
func sdkObjectType(t reflect.Type) string {
	p := reflect.New(t)
	if json.Unmarshal([]byte("{}"), p.Interface()) != nil {
		return ""
	}
	if f := p.Elem().FieldByName("ObjectType_"); f.IsValid() && !f.IsNil() {
		return f.Elem().String()
	}
	return ""
}

func sdkIsEnum(t reflect.Type) bool {
	_, ok := t.MethodByName("GetName")
	return ok && t.Kind() == reflect.Int
}

var sdkEnums sync.Map // reflect.Type → []string

// sdkEnumNames lists an enum's values, leaving out $UNKNOWN and $REDACTED.
func sdkEnumNames(t reflect.Type) []string {
	if names, ok := sdkEnums.Load(t); ok {
		return names.([]string)
	}
	var names []string
	for i := range 256 {
		v := reflect.New(t).Elem()
		v.SetInt(int64(i))
		name := v.MethodByName("GetName").Call(nil)[0].String()
		if i > 1 && name == "$UNKNOWN" {
			break
		}
		if !strings.HasPrefix(name, "$") {
			names = append(names, name)
		}
	}
	sdkEnums.Store(t, names)
	return names
}

// decoded checks what the SDK decoded: no UnknownFields_, no $-enum values.
func (w *sdkWalker) decoded(v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			w.decoded(v.Elem(), path)
		}
	case reflect.Slice:
		for i := range v.Len() {
			w.decoded(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Int:
		if sdkIsEnum(v.Type()) && strings.HasPrefix(v.Interface().(interface{ GetName() string }).GetName(), "$") {
			w.fail(path, "the SDK decoded a %s as %s", v.Type().Name(), v.Interface().(interface{ GetName() string }).GetName())
		}
	case reflect.Struct:
		if !v.CanAddr() { // GetValue returns specs by value
			p := reflect.New(v.Type())
			p.Elem().Set(v)
			v = p.Elem()
		}
		if u := v.FieldByName("UnknownFields_"); u.IsValid() && u.Len() > 0 {
			w.fail(path, "the SDK kept unknown fields %v", u.MapKeys())
		}
		if gv, ok := v.Addr().Interface().(interface{ GetValue() any }); ok && strings.HasPrefix(v.Type().Name(), "OneOf") {
			w.decoded(reflect.ValueOf(gv.GetValue()), path)
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				w.decoded(v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		}
	}
}

func TestNutanixV4SchemaRejects(t *testing.T) {
	body := vtBody(t, "appx", "nutanix-v4")
	spec := "rules.0.spec."
	vtRunNegatives(t, body, validateNutanixV4, []vtNegative{
		{"unknown key", "hitlog", true, `unknown property "hitlog"`},
		{"state APPLY", "state", "APPLY", "is not a SecurityPolicyState"},
		{"policy type bad", "type", "APP", "is not a SecurityPolicyType"},
		{"port as string", spec + "tcpServices.0.startPort", "443", "want a int"},
		{"port as float", spec + "tcpServices.0.startPort", 443.5, "want a int"},
		{"snake case", spec + "src_subnet", map[string]any{"value": "10.1.2.0", "prefixLength": 24}, `unknown property "src_subnet"`},
		{"no name", "name", vtDelete, `missing required property "name"`},
		{"no rule type", "rules.0.type", vtDelete, `missing required property "type"`},
		{"no endPort", spec + "tcpServices.0.endPort", vtDelete, `missing required property "endPort"`},
		{"no subnet value", spec + "srcSubnet.value", vtDelete, `missing required property "value"`},
		{"spec without $objectType", spec + "$objectType", vtDelete, "needs its $objectType"},
		{"spec of another type", spec + "$objectType", "microseg.v4.config.Foo", "is none of"},
		{"rule type and spec differ", "rules.0.type", "INTRA_GROUP", "rule type INTRA_GROUP with a"},
		{"nested $objectType wrong", spec + "srcSubnet.$objectType", "common.v1.config.IPv6Address", "$objectType"},
		{"$unknownFields", spec + "$unknownFields", map[string]any{}, "unknown property"},
		{"intra action bad", "rules.-1.spec.securedGroupAction", "PERMIT", "is not a IntraEntityGroupRuleAction"},
		{"hitlog as string", "isHitlogEnabled", "true", "want a bool"},
		{"allow spec bad", spec + "srcAllowSpec", "ANY", "is not a AllowType"},
	})
}
