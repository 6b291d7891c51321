package policy

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// DefaultGroupPath is the NSX path of the group a log tag names when no
// mapping says otherwise: the practitioners' convention is that the rule
// tag IS the security group's name.
func DefaultGroupPath(tag string) string { return "/infra/domains/default/groups/" + tag }

// LearnedGroups builds group membership from the logs: each NSX rule tag
// (the practitioners' convention: tag = security group name) or Nutanix
// policy name names the addresses logged on its enforcement side (the source
// of an OUT/OUTBOUND line, the destination of an IN/INBOUND line). paths maps
// a tag to a group path; a tag without one maps to DefaultGroupPath(tag).
// Nutanix policy names are keys as they are.
//
// Each group's addresses are gathered in a list (IPv4 as 32-bit integers),
// then sorted and made unique, and each tag list's groups are found once,
// not once a row: a set of netip.Addr per group took 116 MB of a million
// conversations of four tags, the peak of a check.
func LearnedGroups(t *analysis.Table, paths map[string]string) map[string][]netip.Prefix {
	var l learning
	l.index = map[string]int32{}
	l.sides = make([][2][]learnedSide, 4*t.TagSets()) // by tag list and vendor class
	for i := range t.Len() {
		vendors := t.VendorBits(i)
		class := 0
		if vendors&(1<<ingest.NSXV|1<<ingest.NSXT|1<<ingest.NSX4) != 0 {
			class |= 1
		}
		if vendors&(1<<ingest.Nutanix) != 0 {
			class |= 2
		}
		set := t.TagSet(i)
		sides := l.sidesOf(4*set+class, t.TagSetOf(set), class, paths)
		if len(sides[0]) > 0 {
			l.add(sides[0], t.Src(i))
		}
		if len(sides[1]) > 0 {
			l.add(sides[1], t.Dst(i))
		}
	}
	out := make(map[string][]netip.Prefix, len(l.groups))
	for k, n := range l.index {
		g := &l.groups[n]
		slices.Sort(g.v4)
		slices.SortFunc(g.v6, netip.Addr.Compare)
		g.v4, g.v6 = slices.Compact(g.v4), slices.Compact(g.v6)
		ps := make([]netip.Prefix, 0, len(g.v4)+len(g.v6))
		for _, a := range g.v4 {
			ps = append(ps, netip.PrefixFrom(from32(a), 32))
		}
		for _, a := range g.v6 {
			ps = append(ps, netip.PrefixFrom(a, 128))
		}
		out[k] = ps
		*g = learnedGroup{} // its lists are garbage once its prefixes are made
	}
	return out
}

// learning gathers LearnedGroups' addresses.
type learning struct {
	index  map[string]int32 // group key → number
	groups []learnedGroup
	// sides lists, for a tag list and a vendor class, the groups its
	// source and its destination are members of (nil: not looked at yet).
	sides [][2][]learnedSide
}

// learnedGroup is one group's addresses, with repeats.
type learnedGroup struct {
	v4 []uint32
	v6 []netip.Addr
}

// learnedSide is the number of a group a conversation's end is a member of.
type learnedSide int32

// sidesOf returns the groups of the ends of a conversation of the tag list
// tags (number n in l.sides) and the vendor class (1: NSX, 2: Nutanix).
func (l *learning) sidesOf(n int, tags []analysis.Tag, class int, paths map[string]string) *[2][]learnedSide {
	s := &l.sides[n]
	if s[0] != nil || s[1] != nil {
		return s // looked at already
	}
	s[0], s[1] = []learnedSide{}, []learnedSide{}
	for _, tg := range tags {
		var keys []string
		if class&1 != 0 && !strings.HasPrefix(tg.Name, "rule ") {
			p, ok := paths[tg.Name]
			if !ok {
				p = DefaultGroupPath(tg.Name)
			}
			keys = append(keys, p)
		}
		if class&2 != 0 {
			keys = append(keys, tg.Name)
		}
		src, dst := tg.Direction.Protected()
		for _, k := range keys {
			if src {
				s[0] = append(s[0], l.group(k))
			}
			if dst {
				s[1] = append(s[1], l.group(k))
			}
		}
	}
	return s
}

// group returns the side of the group named key, numbering it if new.
func (l *learning) group(key string) learnedSide {
	n, ok := l.index[key]
	if !ok {
		n = int32(len(l.groups))
		l.index[key] = n
		l.groups = append(l.groups, learnedGroup{})
	}
	return learnedSide(n)
}

// add adds address a to the groups of sides. The rows are sorted by
// address, so a repeat of the last address added is skipped at once.
func (l *learning) add(sides []learnedSide, a netip.Addr) {
	a = a.Unmap()
	for _, s := range sides {
		g := &l.groups[s]
		if a.Is4() {
			if v := to32(a); len(g.v4) == 0 || g.v4[len(g.v4)-1] != v {
				g.v4 = append(g.v4, v)
			}
			continue
		}
		if len(g.v6) == 0 || g.v6[len(g.v6)-1] != a {
			g.v6 = append(g.v6, a)
		}
	}
}

// MaxEnvBytes bounds the side files (mappings, members, categories).
const MaxEnvBytes = 64 << 20

// ErrSyntax: a mapping or members file that cannot be read.
var ErrSyntax = errors.New("bad line")

// ReadTagPaths reads an NSX tag → group path mapping: CSV with the columns
// tag,path (a header line naming them is skipped; # starts a comment). It
// is the format of export's --nsx-groups.
func ReadTagPaths(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	err := readCSV(r, []string{"tag", "path"}, func(line int, f []string) error {
		if !strings.HasPrefix(f[1], "/") {
			return fmt.Errorf("line %d: %w: the path %q does not start with /", line, ErrSyntax, f[1])
		}
		out[f[0]] = f[1]
		return nil
	})
	return out, err
}

// ReadMembers reads group members: CSV lines group,address|cidr|range, for
// the groups and categories the bodies reference but do not define (an NSX
// group path, a Nutanix category Key:Value, an address group id). Several
// lines may name one group.
func ReadMembers(r io.Reader) (map[string][]netip.Prefix, error) {
	out := map[string][]netip.Prefix{}
	err := readCSV(r, []string{"group", "address"}, func(line int, f []string) error {
		ar, err := parseAddrSpec(f[1])
		if err != nil {
			return fmt.Errorf("line %d: %w: %v", line, ErrSyntax, err)
		}
		out[f[0]] = append(out[f[0]], rangePrefixes(ar)...)
		return nil
	})
	return out, err
}

// rangePrefixes covers a range with prefixes.
func rangePrefixes(r addrRange) []netip.Prefix {
	var out []netip.Prefix
	lo := r.lo
	for lo.IsValid() && lo.Compare(r.hi) <= 0 {
		bits := lo.BitLen()
		for bits > 0 {
			p := netip.PrefixFrom(lo, bits-1)
			if p.Masked().Addr() != lo || prefixRange(p).hi.Compare(r.hi) > 0 {
				break
			}
			bits--
		}
		p := netip.PrefixFrom(lo, bits)
		out = append(out, p)
		lo = prefixRange(p).hi.Next()
	}
	return out
}

// readCSV reads two-column CSV lines, skipping blank lines, # comments and
// a header naming the columns; fn gets each line's trimmed fields.
func readCSV(r io.Reader, header []string, fn func(line int, f []string) error) error {
	data, err := io.ReadAll(io.LimitReader(r, MaxEnvBytes+1))
	if err != nil {
		return err
	}
	if len(data) > MaxEnvBytes {
		return fmt.Errorf("more than %d MiB", MaxEnvBytes>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		rec, err := csv.NewReader(strings.NewReader(text)).Read()
		if err != nil {
			return fmt.Errorf("line %d: %w: %v", line, ErrSyntax, err)
		}
		if len(rec) != 2 {
			return fmt.Errorf("line %d: %w: %d fields, want %s", line, ErrSyntax, len(rec), strings.Join(header, ","))
		}
		f := []string{strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])}
		if strings.EqualFold(f[0], header[0]) && strings.EqualFold(f[1], header[1]) {
			continue
		}
		if f[0] == "" || f[1] == "" {
			return fmt.Errorf("line %d: %w: an empty field", line, ErrSyntax)
		}
		if err := fn(line, f); err != nil {
			return err
		}
	}
	return sc.Err()
}

// ReadCategories reads a saved Prism Central v4 categories list (GET
// /api/prism/v4.x/config/categories: {"data": [{"extId", "key", "value"},
// ...]}, or the array alone) and returns extId → "Key:Value".
func ReadCategories(data []byte) (map[string]string, error) {
	if len(data) > MaxEnvBytes {
		return nil, fmt.Errorf("more than %d MiB", MaxEnvBytes>>20)
	}
	var root any
	if err := json.Unmarshal(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), &root); err != nil {
		return nil, jsonError(data, err)
	}
	if o, ok := root.(map[string]any); ok {
		root = o["data"]
	}
	items, ok := root.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: not a categories list ({\"data\": [...]})", ErrFormat)
	}
	out := make(map[string]string, len(items))
	for i, x := range items {
		o, _ := x.(map[string]any)
		id, k, v := str(o, "extId"), str(o, "key"), str(o, "value")
		if id == "" || k == "" {
			return nil, fmt.Errorf("data[%d]: a category needs extId and key", i)
		}
		out[id] = k + ":" + v
	}
	return out, nil
}
