package export

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vmware/vsphere-automation-sdk-go/runtime/bindings"
	"github.com/vmware/vsphere-automation-sdk-go/runtime/data/serializers/cleanjson"
	"github.com/vmware/vsphere-automation-sdk-go/services/nsxt/model"
)

// NSX bodies are checked against VMware's vAPI binding types in
// github.com/vmware/vsphere-automation-sdk-go/services/nsxt/model v0.12.0
// (runtime v0.8.0). The structs have no json tags and the SDK's converter
// is lenient (unknown keys pass, children are not descended into), so the
// body is walked against model.InfraBindingType(): StructType fields give
// the names, non-optional fields the required ones, the binding types the
// JSON kinds, and the model's constants (ModelPackageTypes.go, read from
// the module) the enum values. Polymorphic slots (DynamicStructType) are
// resolved by resource_type through nsxSlots. Then the SDK converter runs
// as a second opinion, and nsxSemantics checks what the docs say and the
// bindings cannot: 15 port values per entry, "ANY" alone, full paths, ids.

// nsxSlots lists which resource types may fill each polymorphic slot of
// the hierarchical API (NSX API reference, PatchInfra and the Child*
// types; only the ones FlowSleuth writes or that tests misplace).
var nsxSlots = map[string]map[string]func() bindings.BindingType{
	"Infra.children": {"ChildResourceReference": model.ChildResourceReferenceBindingType,
		"ChildService": model.ChildServiceBindingType, "ChildDomain": model.ChildDomainBindingType},
	"ChildResourceReference.children": {"ChildGroup": model.ChildGroupBindingType,
		"ChildSecurityPolicy": model.ChildSecurityPolicyBindingType},
	"SecurityPolicy.children": {"ChildRule": model.ChildRuleBindingType},
	"Group.expression": {"Condition": model.ConditionBindingType, "ConjunctionOperator": model.ConjunctionOperatorBindingType,
		"IPAddressExpression": model.IPAddressExpressionBindingType, "NestedExpression": model.NestedExpressionBindingType,
		"PathExpression": model.PathExpressionBindingType},
	"Service.service_entries": nsxEntryTypes, "Rule.service_entries": nsxEntryTypes,
}

var nsxEntryTypes = map[string]func() bindings.BindingType{"L4PortSetServiceEntry": model.L4PortSetServiceEntryBindingType,
	"ICMPTypeServiceEntry": model.ICMPTypeServiceEntryBindingType, "IPProtocolServiceEntry": model.IPProtocolServiceEntryBindingType}

// nsxRequired are fields the bindings make optional but the NSX docs (or,
// marked tf, terraform-provider-nsxt) require; in the hierarchical API
// every object needs its id, and a Child wrapper its object.
var nsxRequired = map[string][]string{
	"ChildResourceReference": {"id", "target_type"}, "ChildGroup": {"Group"}, "ChildService": {"Service"},
	"ChildSecurityPolicy": {"SecurityPolicy"}, "ChildRule": {"Rule"},
	"Group": {"id"}, "Service": {"id"}, "SecurityPolicy": {"id", "category"}, "Rule": {"id"},
	"L4PortSetServiceEntry": {"id", "l4_protocol"}, "ICMPTypeServiceEntry": {"id", "protocol"}, // tf
	"IPProtocolServiceEntry": {"id", "protocol_number"}, "IPAddressExpression": {"ip_addresses"},
	"Condition": {"key", "member_type", "operator", "value"},
}

// nsxCategories are the DFW categories from the doc comment of
// SecurityPolicy.Category (the model has no constants for them).
var nsxCategories = []string{"Ethernet", "Emergency", "Infrastructure", "Environment", "Application"}

// validateNSX checks a body as an Infra. external are the paths of
// existing groups the body may reference without defining them (those the
// tag mapping gives); any other path must name an object of the body.
func validateNSX(t testing.TB, body []byte, external ...string) error {
	enums := nsxEnums(t)
	v := vtDecode(t, body)
	w := &nsxWalker{enums: enums}
	w.walk(model.InfraBindingType(), v, "$", "")
	dv, err := cleanjson.NewJsonToDataValueDecoder().Decode(v)
	if err == nil {
		_, errs := bindings.NewTypeConverter().ConvertToGolang(dv, model.InfraBindingType())
		err = errors.Join(errs...)
	}
	if err != nil {
		w.fail("$", "the SDK converter rejects it: %v", err)
	}
	w.errs = append(w.errs, nsxSemantics(v, external...)...)
	return errors.Join(w.errs...)
}

type nsxWalker struct {
	enums map[string][]string // "Type.field" → values
	errs  []error
}

func (w *nsxWalker) fail(path, format string, args ...any) {
	w.errs = append(w.errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
}

// walk checks v against a binding type; slot names the parent field for
// polymorphic values ("Group.expression").
func (w *nsxWalker) walk(bt bindings.BindingType, v any, path, slot string) {
	switch t := bt.(type) {
	case bindings.OptionalType:
		w.walk(t.ElementType(), v, path, slot)
	case bindings.ReferenceType:
		w.walk(t.Resolve(), v, path, slot)
	case bindings.StructType:
		w.object(t, v, path)
	case bindings.DynamicStructType:
		obj, _ := v.(map[string]any)
		rt, _ := obj["resource_type"].(string)
		fn := nsxSlots[slot][rt]
		if fn == nil {
			w.fail(path, "resource_type %q cannot go in %s (want one of %v)", rt, slot, vndSortedKeys(nsxSlots[slot]))
			return
		}
		w.walk(fn(), v, path, slot)
	case bindings.ListType:
		items, ok := v.([]any)
		if !ok {
			w.fail(path, "want an array, got %T", v)
			return
		}
		for i, it := range items {
			w.walk(t.ElementType(), it, fmt.Sprintf("%s[%d]", path, i), slot)
		}
	default:
		w.scalar(bt, v, path)
	}
}

func (w *nsxWalker) scalar(bt bindings.BindingType, v any, path string) {
	ok := false
	switch bt.(type) {
	case bindings.StringType:
		_, ok = v.(string)
	case bindings.BooleanType:
		_, ok = v.(bool)
	case bindings.IntegerType:
		n, isNum := v.(json.Number)
		_, err := n.Int64()
		ok = isNum && err == nil
	case bindings.DoubleType:
		_, ok = v.(json.Number)
	default:
		w.fail(path, "binding type %T not checked", bt)
		return
	}
	if !ok {
		w.fail(path, "want a %T, got %T %v", bt, v, v)
	}
}

func (w *nsxWalker) object(t bindings.StructType, v any, path string) {
	obj, ok := v.(map[string]any)
	if !ok {
		w.fail(path, "want a %s object, got %T", t.Name(), v)
		return
	}
	name := t.BindingStruct().Name()
	for _, k := range vndSortedKeys(obj) {
		ft := t.Field(k)
		if ft == nil {
			w.fail(path, "unknown property %q of %s", k, name)
			continue
		}
		w.walk(ft, obj[k], path+"."+k, name+"."+k)
		values := w.enums[name+"."+k]
		if name == "SecurityPolicy" && k == "category" {
			values = nsxCategories
		}
		if s, ok := obj[k].(string); ok && values != nil && !slices.Contains(values, s) {
			w.fail(path+"."+k, "%q is not one of %v", s, values)
		}
	}
	if rt, ok := obj["resource_type"]; ok && rt != name {
		w.fail(path, "resource_type %v in a %s", rt, name)
	}
	for _, f := range t.FieldNames() {
		if _, opt := t.Field(f).(bindings.OptionalType); !opt {
			w.require(obj, f, name, path)
		}
	}
	for _, f := range nsxRequired[name] {
		w.require(obj, f, name, path)
	}
}

func (w *nsxWalker) require(obj map[string]any, field, name, path string) {
	if _, ok := obj[field]; !ok {
		w.fail(path, "missing required property %q of %s", field, name)
	}
}

// nsxEnums reads the enum constants of the model, "const Rule_ACTION_ALLOW
// = "ALLOW"", from the module's ModelPackageTypes.go, and assigns each to
// the field of its type with the longest matching name.
var nsxEnums = func() func(testing.TB) map[string][]string {
	load := sync.OnceValues(func() (map[string][]string, error) {
		dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}",
			"github.com/vmware/vsphere-automation-sdk-go/services/nsxt").Output()
		if err != nil {
			return nil, fmt.Errorf("go list the nsxt module: %w", err)
		}
		f, err := os.Open(filepath.Join(strings.TrimSpace(string(dir)), "model", "ModelPackageTypes.go"))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return nsxParseEnums(bufio.NewScanner(f))
	})
	return func(t testing.TB) map[string][]string {
		enums, err := load()
		if err != nil {
			t.Fatal(err)
		}
		return enums
	}
}()

var nsxConstLine = regexp.MustCompile(`^const ([A-Za-z0-9]+)_([A-Z0-9][A-Z0-9_]*) = "(.*)"$`)

func nsxParseEnums(sc *bufio.Scanner) (map[string][]string, error) {
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	fieldsOf := map[string][]string{} // Go type name → wire field names
	for _, fn := range []func() bindings.BindingType{model.RuleBindingType, model.SecurityPolicyBindingType,
		model.ConditionBindingType, model.ConjunctionOperatorBindingType, model.L4PortSetServiceEntryBindingType,
		model.ICMPTypeServiceEntryBindingType, model.GroupBindingType, model.ServiceBindingType} {
		st := fn().(bindings.StructType)
		fieldsOf[st.BindingStruct().Name()] = st.FieldNames()
	}
	enums := map[string][]string{}
	for sc.Scan() {
		m := nsxConstLine.FindStringSubmatch(sc.Text())
		if m == nil || fieldsOf[m[1]] == nil {
			continue
		}
		best := ""
		for _, f := range fieldsOf[m[1]] {
			up := strings.ToUpper(f)
			for _, p := range []string{up + "_", strings.ReplaceAll(up, "_", "") + "_"} {
				if strings.HasPrefix(m[2], p) && len(f) > len(best) {
					best = f
				}
			}
		}
		if best != "" {
			enums[m[1]+"."+best] = append(enums[m[1]+"."+best], m[3])
		}
	}
	if len(enums["Rule.action"]) == 0 || !slices.Contains(enums["L4PortSetServiceEntry.l4_protocol"], model.L4PortSetServiceEntry_L4PROTOCOL_TCP) {
		return nil, fmt.Errorf("no enum constants found (got %v)", enums)
	}
	return enums, sc.Err()
}

func TestNSXEnumsFromModel(t *testing.T) {
	enums := nsxEnums(t)
	for key, want := range map[string][]string{
		"Rule.action":    {model.Rule_ACTION_ALLOW, model.Rule_ACTION_DROP, model.Rule_ACTION_REJECT, model.Rule_ACTION_JUMP_TO_APPLICATION},
		"Rule.direction": {model.Rule_DIRECTION_IN, model.Rule_DIRECTION_OUT, model.Rule_DIRECTION_IN_OUT},
		"Rule.ip_protocol": {model.Rule_IP_PROTOCOL_IPV4, model.Rule_IP_PROTOCOL_IPV6,
			model.Rule_IP_PROTOCOL_IPV4_IPV6},
		"ICMPTypeServiceEntry.protocol": {model.ICMPTypeServiceEntry_PROTOCOL_ICMPV4, model.ICMPTypeServiceEntry_PROTOCOL_ICMPV6},
	} {
		if !slices.Equal(enums[key], want) {
			t.Errorf("%s: got %v, want %v", key, enums[key], want)
		}
	}
	if !slices.Contains(enums["Condition.member_type"], model.Condition_MEMBER_TYPE_VIRTUALMACHINE) ||
		!slices.Contains(enums["Condition.key"], model.Condition_KEY_TAG) {
		t.Errorf("Condition enums: %v %v", enums["Condition.member_type"], enums["Condition.key"])
	}
}
