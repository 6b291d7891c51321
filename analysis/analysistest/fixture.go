package analysistest

import (
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"slices"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// Conversation is one row of an analysis.Table spelt out field by field:
// the form tests write their fixtures in (Table builds the table of them)
// and compare rows in (Rows reads them back). analysis itself has no such
// copy of a row: it holds a conversation as a ConvState and as a Table row.
type Conversation struct {
	Src, Dst netip.Addr
	Proto    uint8
	DPort    uint16

	// Direction is relative to the monitored set: INBOUND when only the
	// destination is in it, OUTBOUND when only the source is, INTRA when
	// both are, UNKNOWN when neither is known to be.
	Direction ingest.Direction
	Tags      []analysis.Tag  // sorted by name
	Actions   []ingest.Action // in enum order
	Vendors   []ingest.Vendor // in enum order

	Sessions   uint64
	Unanswered uint64 // sessions whose destination never answered (or that were dropped)
	OrigPkts   uint64 // source → destination
	OrigBytes  uint64
	ReplyPkts  uint64 // destination → source
	ReplyBytes uint64

	// From the inventory: VM names and groups.
	SrcVM, DstVM         string
	SrcGroups, DstGroups []string

	First, Last     time.Time       // zero when no line had a time
	Hosts           []string        // reporting hosts, sorted
	Unauthenticated bool            // every line came over UDP
	Hourly          []analysis.Hour // sessions started per whole hour, in time order
	Samples         []string        // the first raw lines, as evidence
}

// Packets returns the packets in both directions.
func (c *Conversation) Packets() uint64 { return c.OrigPkts + c.ReplyPkts }

// Bytes returns the bytes in both directions.
func (c *Conversation) Bytes() uint64 { return c.OrigBytes + c.ReplyBytes }

// Suspect reports whether no session of c was ever answered.
func (c *Conversation) Suspect() bool { return c.Sessions > 0 && c.Unanswered >= c.Sessions }

// TagNames returns the names of c's tags.
func (c *Conversation) TagNames() []string {
	out := make([]string, len(c.Tags))
	for i, t := range c.Tags {
		out[i] = t.Name
	}
	return out
}

// Table builds the table of convs the way a workspace does: one
// analysis.ConvState per fixture through analysis.TableBuilder, finished
// with the monitored set the fixtures' directions imply and an inventory
// of their VM labels. Rows then come in the fixtures' order, as
// Table.Reordered puts them (a table's rows are in any order its maker
// chose: Finish sorts them, a top list orders them by bytes). Fixtures no
// table can hold panic with the address: two of one conversation, an
// address monitored in one and not in another, two labels for one address.
func Table(convs []Conversation) *analysis.Table {
	b := analysis.NewTableBuilder(nil, len(convs), nil)
	mon := fixtureSet[bool]{what: "monitored"}
	vms := fixtureSet[analysis.VMLabel]{what: "inventory label"}
	for i := range convs {
		c := &convs[i]
		st := state(c)
		b.Add(&st, 0, len(c.Samples))
		srcIn, dstIn := monitoredEnds(c.Direction)
		mon.put(c.Src, srcIn)
		mon.put(c.Dst, dstIn)
		vms.put(c.Src, analysis.VMLabel{VM: c.SrcVM, Groups: c.SrcGroups})
		vms.put(c.Dst, analysis.VMLabel{VM: c.DstVM, Groups: c.DstGroups})
	}
	var members []netip.Addr
	for a, in := range mon.m {
		if in {
			members = append(members, a)
		}
	}
	labels := make(map[netip.Addr]analysis.VMLabel)
	for a, l := range vms.m {
		if l.VM != "" || l.Groups != nil {
			labels[a] = l
		}
	}
	return inOrder(b.Finish(analysis.NewLearnedMonitored(members), labels), convs)
}

// inOrder returns tb's rows in the order of the fixtures they were made of.
func inOrder(tb *analysis.Table, convs []Conversation) *analysis.Table {
	row := make(map[analysis.Key]int32, tb.Len())
	for i := range tb.Len() {
		if _, dup := row[tb.Key(i)]; dup {
			panic(fmt.Sprintf("analysistest.Table: two fixtures of %s → %s %d/%d", tb.Src(i), tb.Dst(i), tb.DPort(i), tb.Proto(i)))
		}
		row[tb.Key(i)] = int32(i)
	}
	order := make([]int32, len(convs))
	for i := range convs {
		c := &convs[i]
		order[i] = row[analysis.KeyOf(c.Src, c.Dst, c.Proto, c.DPort)]
	}
	return tb.Reordered(order)
}

// fixtureSet is what the fixtures say of each address, one value each.
type fixtureSet[T any] struct {
	what string
	m    map[netip.Addr]T
}

// put records v for a, and panics if a fixture said otherwise.
func (s *fixtureSet[T]) put(a netip.Addr, v T) {
	if !s.agrees(a, v) {
		panic(fmt.Sprintf("analysistest.Table: fixtures disagree on %s of %s: %+v and %+v", s.what, a, s.m[a], v))
	}
	if s.m == nil {
		s.m = make(map[netip.Addr]T)
	}
	s.m[a] = v
}

// agrees reports whether no fixture said otherwise than v of a.
func (s *fixtureSet[T]) agrees(a netip.Addr, v T) bool {
	old, ok := s.m[a]
	return !ok || reflect.DeepEqual(old, v)
}

// Batches splits convs into as few groups as it can, each of fixtures
// that one Table can hold (one conversation each, that agree on which
// addresses are monitored and on their labels), as the numbers of the
// fixtures in each: for a test that evaluates conversations no workspace
// holds together (the same address inside a rule's scope in one, outside it
// in another).
func Batches(convs []Conversation) [][]int {
	type batch struct {
		keys  map[analysis.Key]bool
		mon   fixtureSet[bool]
		vms   fixtureSet[analysis.VMLabel]
		convs []int
	}
	var out []*batch
	for i := range convs {
		c := &convs[i]
		k := analysis.KeyOf(c.Src, c.Dst, c.Proto, c.DPort)
		srcIn, dstIn := monitoredEnds(c.Direction)
		src, dst := analysis.VMLabel{VM: c.SrcVM, Groups: c.SrcGroups}, analysis.VMLabel{VM: c.DstVM, Groups: c.DstGroups}
		j := slices.IndexFunc(out, func(b *batch) bool {
			return !b.keys[k] && b.mon.agrees(c.Src, srcIn) && b.mon.agrees(c.Dst, dstIn) &&
				b.vms.agrees(c.Src, src) && b.vms.agrees(c.Dst, dst) && (c.Src != c.Dst || srcIn == dstIn && reflect.DeepEqual(src, dst))
		})
		if j < 0 {
			j = len(out)
			out = append(out, &batch{keys: map[analysis.Key]bool{}})
		}
		b := out[j]
		b.keys[k] = true
		b.mon.put(c.Src, srcIn)
		b.mon.put(c.Dst, dstIn)
		b.vms.put(c.Src, src)
		b.vms.put(c.Dst, dst)
		b.convs = append(b.convs, i)
	}
	groups := make([][]int, len(out))
	for j, b := range out {
		groups[j] = b.convs
	}
	return groups
}

// monitoredEnds returns whether the source and the destination of a
// conversation in direction d are monitored.
func monitoredEnds(d ingest.Direction) (src, dst bool) {
	return d == ingest.DirOutbound || d == ingest.DirIntra, d == ingest.DirInbound || d == ingest.DirIntra
}

// state is the ConvState of c: its figures on the side of its direction
// (INTRA and UNKNOWN: the unknown side), its tags as labels seen on the
// sides of their directions.
func state(c *Conversation) analysis.ConvState {
	st := analysis.ConvState{Src: c.Src, Dst: c.Dst, Proto: c.Proto, DPort: c.DPort,
		Origins: analysis.OriginAuthenticated, Hosts: c.Hosts, Samples: c.Samples}
	if c.Unauthenticated {
		st.Origins = analysis.OriginUnauthenticated
	}
	side := ingest.DirUnknown
	if c.Direction == ingest.DirInbound || c.Direction == ingest.DirOutbound {
		side = c.Direction
	}
	s := &st.Sides[side]
	s.Sessions, s.Unanswered = c.Sessions, int64(c.Unanswered)
	s.Counts = [4]uint64{c.OrigPkts, c.OrigBytes, c.ReplyPkts, c.ReplyBytes}
	for _, h := range c.Hourly {
		s.Hourly = append(s.Hourly, analysis.HourCount{Hour: int32(h.Start.Unix() / 3600), N: uint32(min(h.Sessions, math.MaxUint32))})
	}
	if !c.First.IsZero() {
		st.First = c.First.UnixNano()
		if !c.Last.IsZero() {
			st.Last = c.Last.UnixNano()
		}
	}
	for _, t := range c.Tags {
		st.Labels = append(st.Labels, analysis.LabelState{Name: t.Name, Sides: tagSides[t.Direction]})
	}
	for _, a := range c.Actions {
		st.Actions |= 1 << a
	}
	for _, v := range c.Vendors {
		st.Vendors |= 1 << v
	}
	return st
}

// tagSides are the sides (1<<ingest.Direction) whose lines give a tag each
// direction.
var tagSides = [...]uint8{
	ingest.DirInbound:  1 << ingest.DirInbound,
	ingest.DirOutbound: 1 << ingest.DirOutbound,
	ingest.DirIntra:    1<<ingest.DirInbound | 1<<ingest.DirOutbound,
	ingest.DirUnknown:  0,
}

// Rows returns every row of tb read through its accessors (with hourly
// counts and sample lines), in table order: the form tests compare.
func Rows(tb *analysis.Table) []Conversation {
	out := make([]Conversation, tb.Len())
	samples := tb.SamplesOf(tb.All()) // one read of a workspace for all
	for i := range out {
		out[i] = Row(tb, i)
		out[i].Samples = samples[i]
	}
	return out
}

// Row returns row i of tb read through its accessors, with its hourly
// counts and without its sample lines. Its lists are shared with the
// table: read them, never change them.
func Row(tb *analysis.Table, i int) Conversation {
	src, dst := tb.SrcVM(i), tb.DstVM(i)
	c := Conversation{Src: tb.Src(i), Dst: tb.Dst(i), Proto: tb.Proto(i), DPort: tb.DPort(i),
		Direction: tb.Direction(i), Tags: tb.Tags(i), Actions: tb.Actions(i), Vendors: tb.Vendors(i),
		Sessions: tb.Sessions(i), Unanswered: tb.Unanswered(i),
		SrcVM: src.VM, DstVM: dst.VM, SrcGroups: src.Groups, DstGroups: dst.Groups,
		Hosts: tb.Hosts(i), Unauthenticated: tb.OnlyUDP(i), Hourly: tb.Hourly(i)}
	c.OrigPkts, c.OrigBytes, c.ReplyPkts, c.ReplyBytes = tb.Counters(i)
	if tb.FirstNano(i) != 0 {
		c.First, c.Last = tb.First(i), tb.Last(i)
	}
	return c
}
