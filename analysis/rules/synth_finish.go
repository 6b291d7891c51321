package rules

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sync"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// finishRule fills a rule's group members, evidence, service name, name and
// description (unless edited) from its conversations, rows of t. The
// sample lines are the first ones of the conversations in the order given,
// unless the evidence has them already (synthesis chooses them before it
// sorts the conversations).
func finishRule(t *analysis.Table, r *Rule) { newFinisher(t, newHostNames(t)).finish(r) }

// finisher finishes rules of one table (finishRule), one goroutine's:
// the hosts of a rule are marked by number in lists the rules share,
// where adding them as strings to a set per rule and sorting them was a
// fifth of synthesis (a million conversations, 19,400 lists of 200 hosts).
type finisher struct {
	t       *analysis.Table
	hosts   *hostNames
	setSeen []bool  // by host list: met in this rule
	seen    []bool  // by host: met in this rule
	marked  []int32 // the hosts met in this rule
	sets    []int32 // the host lists met in this rule
	key     []byte  // the hosts met, as the key of their list (hostNames.list)
}

func newFinisher(t *analysis.Table, hosts *hostNames) *finisher {
	return &finisher{t: t, hosts: hosts, setSeen: make([]bool, len(hosts.sets)), seen: make([]bool, len(hosts.names))}
}

func (f *finisher) finish(r *Rule) {
	t, e := f.t, &r.Evidence
	if e.Samples == nil && e.sampleRows == nil {
		e.sampleRows = sampleRows(t, e.Rows)
	}
	sortRows(t, e.Rows) // synthesis hands them sorted; edits do not
	r.Src = withMembers(r.Src, t, e.Rows, true)
	r.Dst = withMembers(r.Dst, t, e.Rows, false)
	var first, last int64
	for _, row := range e.Rows {
		i := int(row)
		e.Conversations++
		e.Sessions += t.Sessions(i)
		e.Packets += t.Packets(i)
		e.Bytes += t.Bytes(i)
		if f := t.FirstNano(i); f != 0 && (first == 0 || f < first) {
			first = f
		}
		last = max(last, t.LastNano(i))
		if set := t.HostSet(i); !f.setSeen[set] {
			f.setSeen[set] = true
			f.sets = append(f.sets, int32(set))
		}
	}
	e.First, e.Last = unixTime(first), unixTime(last)
	e.Hosts = f.ruleHosts()
	r.Service.Name = serviceName(r.Service)
	if !r.NameEdited {
		r.Name = fmt.Sprintf("%s to %s %s", r.Src.Name, r.Dst.Name, r.Service.Label())
	}
	if !r.DescriptionEdited {
		r.Description = describe(r)
	}
}

// ruleHosts returns the hosts of the host lists met, sorted (nil when
// none), and clears the marks.
func (f *finisher) ruleHosts() []string {
	for _, set := range f.sets {
		f.setSeen[set] = false
		for _, h := range f.hosts.sets[set] {
			if !f.seen[h] {
				f.seen[h] = true
				f.marked = append(f.marked, h)
			}
		}
	}
	f.sets = f.sets[:0]
	if len(f.marked) == 0 {
		return nil
	}
	slices.Sort(f.marked) // the order of the names
	f.key = f.key[:0]
	for _, h := range f.marked {
		f.key = binary.LittleEndian.AppendUint32(f.key, uint32(h))
		f.seen[h] = false
	}
	out := f.hosts.list(f.key, f.marked)
	f.marked = f.marked[:0]
	return out
}

// list returns the names of hosts (numbers, ascending; key encodes them),
// one list shared by the rules with the same hosts: most rules of a large
// table have the same few hundred (wstag1m: 32 MB of lists held by each
// rule set, where the distinct lists are a few). The lists are read, never
// changed.
func (h *hostNames) list(key []byte, hosts []int32) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if out, ok := h.lists[string(key)]; ok {
		return out
	}
	out := make([]string, len(hosts))
	for j, x := range hosts {
		out[j] = h.names[x]
	}
	h.lists[string(key)] = out
	return out
}

// hostNames numbers the reporting hosts of a table in the order of their
// names and lists each of its host lists as those numbers.
type hostNames struct {
	names []string  // distinct, sorted
	sets  [][]int32 // by host list (Table.HostSet)

	mu    sync.Mutex          // finishers on every core share the lists
	lists map[string][]string // the rules' lists of host names, by their hosts' numbers
}

func newHostNames(t *analysis.Table) *hostNames {
	number := map[string]int32{}
	h := &hostNames{sets: make([][]int32, t.HostSets()), lists: map[string][]string{}}
	for n := range h.sets {
		for _, name := range t.HostSetOf(n) {
			if _, ok := number[name]; !ok {
				number[name] = 0
				h.names = append(h.names, name)
			}
		}
	}
	slices.Sort(h.names)
	for x, name := range h.names {
		number[name] = int32(x)
	}
	for n := range h.sets {
		set := t.HostSetOf(n)
		h.sets[n] = make([]int32, len(set))
		for x, name := range set {
			h.sets[n][x] = number[name]
		}
	}
	return h
}

// withMembers lists the addresses of a group endpoint seen on its side.
func withMembers(e Endpoint, t *analysis.Table, rows []int32, src bool) Endpoint {
	if e.Kind != KindGroup {
		return e
	}
	e.Prefixes = nil
	if len(rows) == 0 {
		return e
	}
	e.Prefixes = make([]netip.Prefix, len(rows))
	for j, i := range rows {
		a := end(t, int(i), src)
		e.Prefixes[j] = netip.PrefixFrom(a, a.BitLen())
	}
	slices.SortFunc(e.Prefixes, comparePrefix)
	if members := slices.Compact(e.Prefixes); len(members) < cap(e.Prefixes)/2 {
		e.Prefixes = slices.Clone(members) // let the repeats go
	} else {
		e.Prefixes = slices.Clip(members)
	}
	return e
}

// describe writes "Web tier → DNS (53/udp) — 12,431 sessions, 2025-04-10 → 2025-04-17".
func describe(r *Rule) string {
	d := fmt.Sprintf("%s → %s %s — %s", r.Src.Name, r.Dst.Name, r.Service.Label(), analysis.Plural(r.Evidence.Sessions, "session"))
	if !r.Evidence.First.IsZero() {
		d += fmt.Sprintf(", %s → %s", r.Evidence.First.Format("2006-01-02"), r.Evidence.Last.Format("2006-01-02"))
	}
	return d
}

// permissiveness returns the (source, destination, port) combinations the
// rule admits and those it was built from, its conversations rows of t. An
// Any side counts as the peers seen on it. The rule's conversations are
// sorted (finishRule), so repeats of a source, and of a combination, are
// next to each other.
func (r *Rule) permissiveness(t *analysis.Table) (admitted, observed uint64) {
	rows := r.Evidence.Rows
	var seen, srcs int
	dsts := make([]netip.Addr, len(rows))
	for j, row := range rows {
		i := int(row)
		if j == 0 {
			srcs++
			seen++
		} else if p := int(rows[j-1]); !t.SameSrc(i, p) {
			srcs++
			seen++
		} else if !t.SameDst(i, p) || t.DPort(i) != t.DPort(p) {
			seen++
		}
		dsts[j] = t.Dst(i)
	}
	slices.SortFunc(dsts, netip.Addr.Compare)
	ndst := len(slices.Compact(dsts))
	ports := uint64(1)
	if len(r.Service.Ports) > 0 {
		ports = 0
		for _, p := range r.Service.Ports {
			ports += uint64(p.To-p.From) + 1
		}
	}
	admitted = satMul(satMul(addrCount(r.Src, srcs), addrCount(r.Dst, ndst)), ports)
	return max(admitted, uint64(seen)), uint64(seen)
}

// addrCount counts an endpoint's addresses (saturating: an IPv6 /64 is huge).
func addrCount(e Endpoint, seen int) uint64 {
	if e.Kind == KindAny {
		return uint64(seen)
	}
	var n float64
	for _, p := range e.Prefixes {
		n += math.Pow(2, float64(p.Addr().BitLen()-p.Bits()))
	}
	if n >= math.MaxUint64/2 {
		return math.MaxUint64 / 2
	}
	return uint64(n)
}

func satMul(a, b uint64) uint64 {
	if a != 0 && b > math.MaxUint64/2/a {
		return math.MaxUint64 / 2
	}
	return a * b
}

// sortRules returns the rules ordered by direction, source, destination,
// protocol and ports. It sorts indices with each rule's port list rendered
// once, then copies each rule once into its place: copying whole rules
// (hundreds of bytes of pointers each, under the collector's write
// barriers) into a list and again to sort it was 0.3 s of CPU for 27,500
// rules.
func sortRules(rules []*Rule) []Rule {
	ports := make([]string, len(rules))
	order := make([]int32, len(rules))
	for i := range rules {
		ports[i] = rules[i].Service.PortList()
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(i, j int32) int {
		a, b := rules[i], rules[j]
		return cmp.Or(analysis.CompareDirections(a.Direction, b.Direction), cmp.Compare(a.Src.Name, b.Src.Name),
			cmp.Compare(a.Dst.Name, b.Dst.Name), cmp.Compare(a.Service.Proto, b.Service.Proto),
			cmp.Compare(ports[i], ports[j]))
	})
	// Copied on every core: the copy is mostly first writes of fresh memory
	// (page faults) and reads of rules all over the heap.
	sorted := make([]Rule, len(rules))
	onEveryCore(len(order), func(k int) { sorted[k] = *rules[order[k]] })
	return sorted
}

// sortRows sorts the rows of one rule's conversations as Compare orders
// them: rows of one rule have one direction relative to the scope, so by
// source, destination, protocol and port (then row number, for a
// deterministic order of equal keys).
func sortRows(t *analysis.Table, rows []int32) {
	slices.Sort(rows) // the table's order: most often already that order
	if !sortedRows(t, rows) {
		slices.SortFunc(rows, func(a, b int32) int { return cmp.Or(t.CompareEnds(int(a), int(b)), cmp.Compare(a, b)) })
	}
}

// sortedRows reports whether rows are in the order sortRows gives.
func sortedRows(t *analysis.Table, rows []int32) bool {
	for j := 1; j < len(rows); j++ {
		if t.CompareEnds(int(rows[j-1]), int(rows[j])) > 0 {
			return false
		}
	}
	return true
}
