package ingest

import (
	"time"
	"unsafe"
)

// Flow is the part of a parsed line that a connection model reads, packed
// in 112 bytes instead of an Event's 344, and without pointers: the line's
// key, time and flags in its first 64 bytes, the four names it is grouped
// by as indices in its batch's table of names (Names), the counters last.
// Read with WithFlows hands batches of Flows, written by the parsing
// goroutines and read by the model's: fewer cache lines cross from one core
// to the other, a batch's Flows are not scanned by the garbage collector,
// and a model compares a line's names as small integers.
//
// A Flow holds no line without both addresses (a model skips those).
type Flow struct {
	Vendor    Vendor
	Kind      Kind
	Proto     uint8
	Action    Action
	Direction Direction
	Bits      FlowBits
	ICMPType  uint8 // with FlowICMP
	_         uint8

	SPort, DPort uint16
	Nsec         uint32 // with FlowTime: the time's nanoseconds within its second
	Sec          int64  // with FlowTime: the time in Unix seconds (Time.Unix)

	// RawOff and RawLen place the whole line, without its line ending, in
	// the text the Flow was read from (Batch.Data).
	RawOff, RawLen uint32

	Src, Dst [16]byte // Addr.As16

	Host Name
	Set  Name // Nutanix: the policy UUID (Event.PolicyID); NSX: the rule set
	Rule Name // Nutanix: the policy name (Event.Policy); NSX: the rule ID
	Tag  Name // NSX: the rule tag

	// Counts are Event's OrigPkts, OrigBytes, ReplyPkts and ReplyBytes, with
	// FlowCounters.
	Counts [4]uint64
}

// Name is a string of a Flow: its index in the table of names of the
// Flow's batch (Batch.Names). Name 0 is the empty string, and only it: a
// table holds "" at 0 and nowhere else.
type Name uint32

// AddName appends s to the table of names *names (made if empty, with ""
// at 0) and returns its Name; the empty string is Name 0 and not appended.
func AddName(names *[]string, s string) Name {
	if s == "" {
		return 0
	}
	if len(*names) == 0 {
		*names = append(*names, "")
	}
	*names = append(*names, s)
	return Name(len(*names) - 1)
}

// FlowBits are a Flow's flags.
type FlowBits uint8

// Flags of a Flow.
const (
	FlowCounters        FlowBits = 1 << iota // Event.HasCounters
	FlowICMP                                 // Event.HasICMP
	FlowTime                                 // the line has a time (Event.Time is not zero)
	FlowSrc4                                 // Event.Src.Is4
	FlowUnauthenticated                      // Event.Unauthenticated
)

// Has reports whether b holds every flag of f.
func (b FlowBits) Has(f FlowBits) bool { return b&f == f }

// SetFlow fills f with what ev says of its connection, its names added to
// the table *names (AddName); raw is where ev.Raw starts in the text the
// caller hands on with f (RawOff). It reports false, leaving f and names as
// they were, when ev lacks an address.
func (ev *Event) SetFlow(f *Flow, raw uint32, names *[]string) bool {
	if !ev.setFlow(f, raw) {
		return false
	}
	set, rule := ev.flowNames()
	f.Host, f.Set, f.Rule, f.Tag = AddName(names, ev.Host), AddName(names, set), AddName(names, rule), AddName(names, ev.Tag)
	return true
}

// flowNames returns what a Flow keeps as its Set and Rule.
func (ev *Event) flowNames() (set, rule string) {
	if ev.Vendor == Nutanix {
		return ev.PolicyID, ev.Policy
	}
	return ev.RuleSet, ev.Rule
}

// setFlow is SetFlow without the names (all Name 0).
func (ev *Event) setFlow(f *Flow, raw uint32) bool {
	if !ev.Src.IsValid() || !ev.Dst.IsValid() {
		return false
	}
	var bits FlowBits
	if ev.HasCounters {
		bits |= FlowCounters
	}
	if ev.HasICMP {
		bits |= FlowICMP
	}
	if ev.Src.Is4() {
		bits |= FlowSrc4
	}
	if ev.Unauthenticated {
		bits |= FlowUnauthenticated
	}
	var sec int64
	var nsec uint32
	if !ev.Time.IsZero() {
		bits |= FlowTime
		sec, nsec = ev.Time.Unix(), uint32(ev.Time.Nanosecond())
	}
	*f = Flow{
		Vendor: ev.Vendor, Kind: ev.Kind, Proto: ev.Proto, Action: ev.Action, Direction: ev.Direction,
		Bits: bits, ICMPType: ev.ICMPType, SPort: ev.SPort, DPort: ev.DPort, Nsec: nsec, Sec: sec,
		RawOff: raw, RawLen: uint32(len(ev.Raw)), Src: ev.Src.As16(), Dst: ev.Dst.As16(),
		Counts: [4]uint64{ev.OrigPkts, ev.OrigBytes, ev.ReplyPkts, ev.ReplyBytes},
	}
	return true
}

// UnixNano returns f's time as Time.UnixNano does (0 without FlowTime).
func (f *Flow) UnixNano() int64 { return f.Sec*1e9 + int64(f.Nsec) }

// Time returns f's time (zero without FlowTime).
func (f *Flow) Time() time.Time {
	if f.Bits&FlowTime == 0 {
		return time.Time{}
	}
	return time.Unix(f.Sec, int64(f.Nsec)).UTC()
}

// Label returns the tag that names the group of f's line, as Event.Label;
// names is the table of f's names.
func (f *Flow) Label(names []string) string {
	rule := names[f.Rule]
	return label(f.Vendor, rule, names[f.Tag], names[f.Set], rule)
}

// The layout the Flow's comment promises.
var _ [112 - unsafe.Sizeof(Flow{})]struct{}
var _ [unsafe.Sizeof(Flow{}) - 112]struct{}
