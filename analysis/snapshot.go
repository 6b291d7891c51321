package analysis

import (
	"encoding/binary"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// Conversation is the traffic from one source to one destination on one
// protocol and destination port (for ICMP, the type when known, else 0).
type Conversation struct {
	Src, Dst netip.Addr
	Proto    uint8
	DPort    uint16

	// Direction is relative to the monitored set: INBOUND when only the
	// destination is in it, OUTBOUND when only the source is, INTRA when
	// both are, UNKNOWN when neither is known to be.
	Direction ingest.Direction
	Tags      []Tag           // policies (Nutanix) or rule tags (NSX), by name
	Actions   []ingest.Action // verdicts seen, in enum order
	Vendors   []ingest.Vendor

	Sessions   uint64
	Unanswered uint64 // sessions whose destination never answered (or that were dropped)
	OrigPkts   uint64 // source → destination
	OrigBytes  uint64
	ReplyPkts  uint64 // destination → source
	ReplyBytes uint64

	// From the inventory, when the workspace has one: VM names and groups.
	SrcVM, DstVM         string
	SrcGroups, DstGroups []string

	First, Last time.Time // zero when no line had a time
	Hosts       []string  // reporting hosts, sorted
	// Unauthenticated is set when every line of it was received over UDP,
	// whose sender address anyone can forge (trust.go).
	Unauthenticated bool
	Hourly          []Hour   // sessions started per hour, in time order
	Samples         []string // the first raw lines, as evidence
}

// Packets returns the packets in both directions.
func (c *Conversation) Packets() uint64 { return c.OrigPkts + c.ReplyPkts }

// Bytes returns the bytes in both directions.
func (c *Conversation) Bytes() uint64 { return c.OrigBytes + c.ReplyBytes }

// Suspect reports whether no session of the conversation was ever answered,
// the mark of a scan or of traffic to nowhere.
func (c *Conversation) Suspect() bool { return c.Sessions > 0 && c.Unanswered >= c.Sessions }

// TagNames returns the names of c's tags.
func (c *Conversation) TagNames() []string {
	out := make([]string, len(c.Tags))
	for i, t := range c.Tags {
		out[i] = t.Name
	}
	return out
}

// Conv returns row i as a Conversation without its hourly counts and
// sample lines (Detail has them). Its lists are shared with the table:
// read them, never change them.
func (t *Table) Conv(i int) Conversation {
	r := &t.rows[i]
	src, dst := t.inv[r.srcInv], t.inv[r.dstInv]
	c := Conversation{
		Src: r.src.addr(r.flags&flagSrc4 != 0), Dst: r.dst.addr(r.flags&flagDst4 != 0),
		Proto: r.proto, DPort: r.dport, Direction: r.dir,
		Tags: t.tagSets[r.tags], Actions: t.actSets[r.acts], Vendors: vendorSets[r.vendors],
		Sessions: r.sessions, Unanswered: r.unanswered, OrigPkts: r.origPkts, OrigBytes: r.origBytes,
		ReplyPkts: r.replyPkts, ReplyBytes: r.replyBytes,
		SrcVM: src.VM, DstVM: dst.VM, SrcGroups: src.Groups, DstGroups: dst.Groups,
		Hosts: t.hostSets[r.hosts], Unauthenticated: r.flags&flagUnauthenticated != 0,
	}
	if r.first != 0 {
		c.First, c.Last = unixTime(r.first), unixTime(r.last)
	}
	return c
}

// Detail returns row i as a Conversation with its hourly counts and sample
// lines. A sample that cannot be read is left out, and Err says why.
func (t *Table) Detail(i int) Conversation {
	c := t.Conv(i)
	c.Hourly = t.Hourly(i)
	c.Samples = t.Samples(i)
	return c
}

// NewTable returns a table of conversations, in their order, keeping their
// sample lines. Hourly counts are kept per whole hour (a Start within an
// hour counts for that hour) and at most math.MaxUint32 sessions each.
func NewTable(convs []Conversation) *Table {
	b := NewTableBuilder(nil, len(convs), nil)
	t := b.t
	tagIdx := map[string]uint32{}
	invIdx := map[string]uint32{}
	var key []byte
	for i := range convs {
		c := &convs[i]
		r := tableRow{src: toIP128(c.Src), dst: toIP128(c.Dst), proto: c.Proto, dport: c.DPort, dir: c.Direction,
			sessions: c.Sessions, unanswered: c.Unanswered, origPkts: c.OrigPkts, origBytes: c.OrigBytes,
			replyPkts: c.ReplyPkts, replyBytes: c.ReplyBytes, key: -1}
		if c.Src.Is4() {
			r.flags |= flagSrc4
		}
		if c.Dst.Is4() {
			r.flags |= flagDst4
		}
		if c.Unauthenticated {
			r.flags |= flagUnauthenticated
		}
		r.flags = withSamples(r.flags, len(c.Samples))
		if !c.First.IsZero() {
			r.first = c.First.UnixNano()
			if !c.Last.IsZero() {
				r.last = c.Last.UnixNano()
			}
		}
		r.hourAt = uint32(len(t.hours))
		for _, h := range c.Hourly {
			t.hours = append(t.hours, HourCount{Hour: int32(h.Start.Truncate(time.Hour).Unix() / 3600),
				N: uint32(min(h.Sessions, math.MaxUint32))})
		}
		r.hourN = uint32(len(c.Hourly))
		key = key[:0]
		for _, tg := range c.Tags {
			key = binary.AppendUvarint(key, uint64(len(tg.Name)))
			key = append(append(key, tg.Name...), byte(tg.Direction))
		}
		if len(c.Tags) > 0 {
			r.tags = intern(tagIdx, key, &t.tagSets, func() []Tag { return slices.Clone(c.Tags) })
		}
		r.hosts = b.hostSet(c.Hosts)
		var bits uint16
		for _, a := range c.Actions {
			bits |= 1 << a
		}
		r.acts = b.actSet(bits)
		for _, v := range c.Vendors {
			r.vendors |= 1 << v
		}
		r.srcInv = internLabel(invIdx, &t.inv, c.SrcVM, c.SrcGroups)
		r.dstInv = internLabel(invIdx, &t.inv, c.DstVM, c.DstGroups)
		if len(c.Samples) > 0 {
			r.key = int64(len(t.samples))
			t.samples = append(t.samples, c.Samples)
		}
		t.rows = append(t.rows, r)
	}
	return t
}
