package export

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	config "github.com/nutanix/ntnx-api-golang-clients/microseg-go-client/v4/models/microseg/v4/config"
)

// The v4 bodies are validated against SDK v4.2.2 but meant for API v4.0
// (pc.2024.1 and later) too: TestNutanixV4FieldsOfV40 checks that they use
// only the fields and enum values of SDK v4.0.1, except the IPv6 ones.
// Those lists are kept in testdata/vendor/nutanix-v4/ (see the README);
// TestNutanixV4FieldListV40 extracts them again from the module source.

const (
	nxV40Module  = "github.com/nutanix/ntnx-api-golang-clients/microseg-go-client/v4"
	nxV40Version = "v4.0.1"
)

var nxV40Fields = filepath.Join("testdata", "vendor", "nutanix-v4", "microseg-v4.0.1-fields.json")

// nxV40List is the data file: json names by struct and enum values by type.
type nxV40List struct {
	Source map[string]string   `json:"x-flowsleuth-source"`
	Fields map[string][]string `json:"fields"`
	Enums  map[string][]string `json:"enums"`
}

// nxV40Extract reads the struct json tags and GetName values of Go files.
func nxV40Extract(t *testing.T, files ...string) nxV40List {
	l := nxV40List{Fields: map[string][]string{}, Enums: map[string][]string{}}
	for _, f := range files {
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				nxV40Structs(d, l.Fields)
			case *ast.FuncDecl:
				if d.Name.Name == "GetName" && d.Recv != nil {
					recv := d.Recv.List[0].Type.(*ast.Ident).Name
					ast.Inspect(d.Body, func(n ast.Node) bool {
						if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
							if s, _ := strconv.Unquote(lit.Value); !strings.HasPrefix(s, "$") {
								l.Enums[recv] = append(l.Enums[recv], s)
							}
						}
						return true
					})
				}
			}
		}
	}
	return l
}

func nxV40Structs(d *ast.GenDecl, out map[string][]string) {
	for _, s := range d.Specs {
		ts, ok := s.(*ast.TypeSpec)
		if !ok {
			continue
		}
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			continue
		}
		for _, f := range st.Fields.List {
			if f.Tag == nil {
				continue
			}
			tag, _ := strconv.Unquote(f.Tag.Value)
			name, _, _ := strings.Cut(reflect.StructTag(tag).Get("json"), ",")
			if name != "" && name != "-" {
				out[ts.Name.Name] = append(out[ts.Name.Name], name)
			}
		}
	}
}

func TestNutanixV4FieldListV40(t *testing.T) {
	micro := vtModuleFile(t, nxV40Module, nxV40Version, "models/microseg/v4/config/config_model.go")
	common := vtModuleFile(t, nxV40Module, nxV40Version, "models/common/v1/config/config_model.go")
	got := nxV40Extract(t, micro, common)
	got.Source = map[string]string{"module": nxV40Module, "version": nxV40Version,
		"files": "models/microseg/v4/config/config_model.go models/common/v1/config/config_model.go"}
	if vtUpdating() {
		b, err := json.MarshalIndent(got, "", " ")
		if err == nil {
			err = os.WriteFile(nxV40Fields, append(b, '\n'), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if kept := nxV40Load(t); !reflect.DeepEqual(kept, got) {
		t.Errorf("%s differs from %s@%s (run with -update)", nxV40Fields, nxV40Module, nxV40Version)
	}
}

func nxV40Load(t testing.TB) nxV40List {
	b, err := os.ReadFile(nxV40Fields)
	if err != nil {
		t.Fatal(err)
	}
	var l nxV40List
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestNutanixV4FieldsOfV40(t *testing.T) {
	v40 := nxV40Load(t)
	ipv6Only := []string{"ApplicationRuleSpec.icmpV6Services", "ApplicationRuleSpec.srcIpv6Subnet", "IcmpV6TypeCodeSpec.type",
		"NetworkSecurityPolicy.isIpv4AddressScope", "NetworkSecurityPolicy.isIpv6AddressScope"}
	for _, fx := range vtFixtures() {
		w := &sdkWalker{used: map[string]bool{}}
		w.walk(reflect.TypeFor[config.NetworkSecurityPolicy](), vtDecode(t, vtBody(t, fx.name, "nutanix-v4")), "$")
		var newer []string
		for _, u := range vndSortedKeys(w.used) {
			typ, key, _ := strings.Cut(u, ".")
			if enum, val, ok := strings.Cut(u, "="); ok {
				typ, key = enum, val
				if !slices.Contains(v40.Enums[typ], key) {
					newer = append(newer, u)
				}
			} else if !slices.Contains(v40.Fields[typ], key) {
				newer = append(newer, u)
			}
		}
		want := []string(nil)
		if fx.name == "losses" {
			want = ipv6Only
		}
		if !slices.Equal(newer, want) {
			t.Errorf("%s: fields or values newer than v4.0: %v, want %v", fx.name, newer, want)
		}
	}
}
