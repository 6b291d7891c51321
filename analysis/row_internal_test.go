package analysis

import (
	"net/netip"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// conversation is a row of a Table spelt out field by field, as the tests
// inside the package compare rows (analysistest.Conversation, which they
// cannot import).
type conversation struct {
	Src, Dst  netip.Addr
	Proto     uint8
	DPort     uint16
	Direction ingest.Direction
	Tags      []Tag
	Actions   []ingest.Action
	Vendors   []ingest.Vendor

	Sessions, Unanswered  uint64
	OrigPkts, OrigBytes   uint64
	ReplyPkts, ReplyBytes uint64

	SrcVM, DstVM         string
	SrcGroups, DstGroups []string

	First, Last     time.Time
	Hosts           []string
	Unauthenticated bool
	Hourly          []Hour
	Samples         []string
}

func (c *conversation) Packets() uint64 { return c.OrigPkts + c.ReplyPkts }

func (c *conversation) Bytes() uint64 { return c.OrigBytes + c.ReplyBytes }

func (c *conversation) TagNames() []string {
	out := make([]string, len(c.Tags))
	for i, t := range c.Tags {
		out[i] = t.Name
	}
	return out
}

// convOf returns row i of t read through its accessors, without its
// hourly counts and sample lines.
func convOf(t *Table, i int) conversation {
	src, dst := t.SrcVM(i), t.DstVM(i)
	c := conversation{Src: t.Src(i), Dst: t.Dst(i), Proto: t.Proto(i), DPort: t.DPort(i), Direction: t.Direction(i),
		Tags: t.Tags(i), Actions: t.Actions(i), Vendors: t.Vendors(i), Sessions: t.Sessions(i), Unanswered: t.Unanswered(i),
		SrcVM: src.VM, DstVM: dst.VM, SrcGroups: src.Groups, DstGroups: dst.Groups,
		Hosts: t.Hosts(i), Unauthenticated: t.OnlyUDP(i)}
	c.OrigPkts, c.OrigBytes, c.ReplyPkts, c.ReplyBytes = t.Counters(i)
	if t.FirstNano(i) != 0 {
		c.First, c.Last = t.First(i), t.Last(i)
	}
	return c
}

// detailOf is convOf with the row's hourly counts and sample lines.
func detailOf(t *Table, i int) conversation {
	c := convOf(t, i)
	c.Hourly, c.Samples = t.Hourly(i), t.Samples(i)
	return c
}
