package analysis

import "github.com/flowsleuth/flowsleuth/ingest"

// Interner numbers values in the order it first sees them, from 0: a list
// of the values and their index, so that a table can hold a small number
// where it would hold a value (a host name, a point, a tag). The zero value
// is ready to use.
type Interner[T comparable] struct {
	vals []T
	ids  map[T]uint32
}

// ID returns the number of v, giving it the next one if it is new.
func (in *Interner[T]) ID(v T) uint32 {
	id, ok := in.ids[v]
	if !ok {
		if in.ids == nil {
			in.ids = make(map[T]uint32)
		}
		id = uint32(len(in.vals))
		in.vals = append(in.vals, v)
		in.ids[v] = id
	}
	return id
}

// Value returns the value numbered id.
func (in *Interner[T]) Value(id uint32) T { return in.vals[id] }

// Values returns the values in the order of their numbers, shared: read
// them, never change them.
func (in *Interner[T]) Values() []T { return in.vals }

// intern returns the number of the list keyed by key (its encoding in
// bytes: lists cannot be map keys) in sets, adding make() when it is new.
// The map is indexed with string(key) in place, which does not allocate.
func intern[T any](idx map[string]uint32, key []byte, sets *[][]T, make func() []T) uint32 {
	if n, ok := idx[string(key)]; ok {
		return n
	}
	n := uint32(len(*sets))
	*sets = append(*sets, make())
	idx[string(key)] = n
	return n
}

// stringTable interns strings as small ids; id 0 is "".
type stringTable struct {
	Interner[string]
	cache [256]uint32 // direct-mapped by quickHash: recently used ids
}

func newStringTable() stringTable {
	var t stringTable
	t.Interner.ID("")
	return t
}

func (t *stringTable) id(s string) uint32 {
	if s == "" {
		return 0
	}
	// The parser shares one copy of each repeated string, so this comparison
	// mostly succeeds on pointer equality without reading the bytes.
	slot := &t.cache[ingest.QuickHash(s)]
	if t.vals[*slot] == s {
		return *slot
	}
	id := t.ID(s)
	*slot = id
	return id
}
