package analysis

import (
	"net/netip"
	"slices"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// SessionRecord is one session as the model that tracked it saw it: the row
// a collector writes to a shared store. A conversation's state is the sum of
// the latest records of its sessions (ConvState.AddRecord), so a store
// holding the records of many collectors can compute the conversation table
// itself, exactly as one model reading every log would.
//
// A model's Records are those of the sessions that closed in it and of the
// open ones that changed: a session that never closes still counts, as it
// does in the model. The model that continues the open connections
// (Restore) writes them again only when they change or close, with a higher
// Version: the latest replaces the earlier ones, and two records with the
// same ID and Version are identical, so writing one twice (a retry after a
// crash) changes nothing.
type SessionRecord struct {
	ID      uint64 // per model, from 1, carried over by SetRecordSeq
	Version uint32 // lines applied, plus one when closed
	Closed  bool

	Host       string // reporting host
	Src, Dst   netip.Addr
	Proto      uint8
	DPort      uint16 // the conversation's port: the ICMP type, or 0 for ICMP without it
	SPort      uint16
	Side       ingest.Direction // of its lines: by the enforcement point of the destination (inbound), the source (outbound), or unknown
	Labels     []string         // the labels of its lines: Nutanix policies, NSX tags or "rule X"
	Vendors    uint8            // 1<<ingest.Vendor
	Actions    uint16           // 1<<ingest.Action
	Start      int64            // unix seconds of its first line (its hour counts it); 0 when unknown
	First      int64            // unix nanoseconds of its earliest and latest lines; 0 when no line had a time
	Last       int64
	Counts     [4]uint64 // orig pkts, orig bytes, reply pkts, reply bytes
	Unanswered bool
	Samples    []string // its lines that became evidence of the conversation in this model
}

// record is an open session's record and whether it changed in this model.
type record struct {
	SessionRecord
	dirty bool
}

// recorder holds the records of a shard: the sequence of its IDs and the
// records of the sessions closed in it. A shard's IDs are base + n*numShards
// + its index + 1, n = 0, 1, …: unique across shards, and the same whatever
// the number of goroutines.
type recorder struct {
	base   uint64 // the model's record sequence when the IDs restarted (SetRecordSeq)
	n      uint64 // IDs given since
	closed []SessionRecord
}

// lastID returns the shard's latest record ID, or its base.
func (r *recorder) lastID(idx int) uint64 {
	if r.n == 0 {
		return r.base
	}
	return r.base + (r.n-1)*numShards + uint64(idx) + 1
}

// taken returns a copy of record r as it stands, with its session's
// counters and whether it is unanswered.
func taken(r *record, counts [4]uint64, unans bool) SessionRecord {
	out := r.SessionRecord
	out.Counts, out.Unanswered = counts, unans
	out.Labels, out.Samples = slices.Clone(out.Labels), slices.Clone(out.Samples)
	return out
}
