package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// MaxBytes is the largest policy file Load reads: a hierarchical GET of a
// large NSX estate is tens of megabytes; more is refused rather than risk
// exhausting memory on an untrusted file.
const MaxBytes = 64 << 20

// Errors returned by Load. Compare with errors.Is.
var (
	// ErrFormat: the content is not a body FlowSleuth knows.
	ErrFormat = errors.New("not an NSX Policy API or Nutanix Flow policy body")
	// ErrTooLarge: more than MaxBytes.
	ErrTooLarge = errors.New("too large")
	// ErrEmpty: a well-formed body that holds no policy.
	ErrEmpty = errors.New("no policy in it")
)

// Load reads one policy file: NSX Policy API bodies (FlowSleuth's PATCH
// /infra body, a hierarchical GET of /policy/api/v1/infra or of a domain,
// plain SecurityPolicy / Group / Service JSON or lists of them, {"results":
// [...]}) or Nutanix Flow bodies (v3 network_security_rule intent input or
// GET response, a JSON array of them, a v3 list response {"entities":
// [...]}; v4 NetworkSecurityPolicy, an array, a v4 list response {"data":
// [...]}; v3 and v4 address and service groups). The format is detected from
// the content. name is used in messages and in verdicts. Errors name the
// file and, for JSON syntax, the line and column.
func Load(name string, data []byte) (*Set, error) {
	if len(data) > MaxBytes {
		return nil, fmt.Errorf("read %s: %d bytes: %w (the limit is %d MiB)", name, len(data), ErrTooLarge, MaxBytes>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var root any
	if err := json.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, jsonError(data, err))
	}
	l := &loader{file: name, set: &Set{files: []string{name}}}
	l.value(root, "$")
	if l.err != nil {
		return nil, fmt.Errorf("read %s: %w", name, l.err)
	}
	if len(l.set.nsx) == 0 && len(l.set.ntx) == 0 && l.set.ntxAux.empty() && !l.nsxObjects {
		if l.kind != "" {
			return nil, fmt.Errorf("read %s: %s: %w", name, l.kind, ErrEmpty)
		}
		return nil, fmt.Errorf("read %s: %w (%s)", name, ErrFormat, describe(root))
	}
	return l.set, nil
}

// jsonError adds the line and column to a syntax error.
func jsonError(data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return fmt.Errorf("not JSON: %w", err)
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := off - int64(bytes.LastIndexByte(data[:off], '\n'))
	return fmt.Errorf("not JSON: line %d, column %d: %w", line, col, err)
}

// value detects the format of v (at JSON path at) and reads it.
func (l *loader) value(v any, at string) {
	switch v := v.(type) {
	case []any:
		for i, x := range v {
			if l.err != nil {
				return
			}
			l.value(x, fmt.Sprintf("%s[%d]", at, i))
		}
	case map[string]any:
		l.object(v, at)
	default:
		l.err = fmt.Errorf("%s: %w (%s)", at, ErrFormat, describe(v))
	}
}

// object reads one object of any known kind.
func (l *loader) object(o map[string]any, at string) {
	switch {
	case str(o, "resource_type") != "" || has(o, "children") && has(o, "id"):
		l.kind = "NSX Policy API body"
		l.nsx(o, at)
	case has(o, "results"):
		l.kind = "NSX list"
		l.list(o["results"], at+".results")
	case isV3Intent(o):
		l.kind = "Nutanix v3 network_security_rule"
		l.v3Rule(o, at)
	case has(o, "entities"):
		l.kind = "Nutanix v3 list"
		l.list(o["entities"], at+".entities")
	case has(o, "address_group") || has(o, "service_group") || has(o, "ip_address_block_list") || has(o, "service_list"):
		l.kind = "Nutanix v3 address or service group"
		l.v3Aux(o, at)
	case isV4Policy(o):
		l.kind = "Nutanix v4 NetworkSecurityPolicy"
		l.v4Policy(o, at)
	case has(o, "data"):
		l.kind = "Nutanix v4 list"
		l.value(o["data"], at+".data")
	case has(o, "key") && has(o, "value") && has(o, "extId"):
		l.err = fmt.Errorf("%s: a Prism Central category, not a policy: give categories with --categories", at)
	case isV4Aux(o):
		l.kind = "Nutanix v4 address or service group"
		l.v4Aux(o, at)
	default:
		l.err = fmt.Errorf("%s: %w (%s)", at, ErrFormat, describe(o))
	}
}

// list reads the elements of a list response.
func (l *loader) list(v any, at string) {
	if v == nil {
		return
	}
	if _, ok := v.([]any); !ok {
		l.err = fmt.Errorf("%s: a list was expected, found %s", at, describe(v))
		return
	}
	l.value(v, at)
}
