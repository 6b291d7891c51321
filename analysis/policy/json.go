package policy

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// loader walks a decoded document and files what it recognises.
type loader struct {
	file       string
	set        *Set
	err        error
	kind       string // what the document was recognised as, for ErrEmpty
	nsxObjects bool   // NSX groups or services were read (a body with no policy is still useful)
	nsxBody    *nsxBody
}

// note records something read but not evaluated.
func (l *loader) note(format string, a ...any) {
	l.set.notes = append(l.set.notes, l.file+": "+fmt.Sprintf(format, a...))
}

// JSON accessors: tolerant of absent keys and of wrong kinds (a wrong kind
// reads as absent; the callers report what they cannot do without it).

func has(o map[string]any, k string) bool { _, ok := o[k]; return ok }

func str(o map[string]any, k string) string {
	s, _ := o[k].(string)
	return s
}

func obj(o map[string]any, k string) map[string]any {
	m, _ := o[k].(map[string]any)
	return m
}

func boolean(o map[string]any, k string) bool {
	b, _ := o[k].(bool)
	return b
}

// integer reads a whole number; ok is false when absent, not a number or
// not whole.
func integer(o map[string]any, k string) (int64, bool) {
	f, ok := o[k].(float64)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

// strings returns the string elements of a list.
func strs(o map[string]any, k string) []string {
	var out []string
	for _, x := range list(o, k) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// objs returns the object elements of a list.
func objs(o map[string]any, k string) []map[string]any {
	var out []map[string]any
	for _, x := range list(o, k) {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// describe says what a document looked like, for ErrFormat messages.
func describe(v any) string {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if len(keys) > 8 {
			keys = append(keys[:8], "…")
		}
		return "an object with keys " + strings.Join(keys, ", ")
	case []any:
		return fmt.Sprintf("an array of %d elements", len(v))
	}
	return fmt.Sprintf("a JSON %T", v)
}

func list(o map[string]any, k string) []any {
	l, _ := o[k].([]any)
	return l
}
