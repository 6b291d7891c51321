package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// Journal is a collector's queue of session records: its workspace's
// journal (workspace.Workspace implements it).
type Journal interface {
	// NextBatches returns the oldest records, about limit at most, the
	// rule tags they learned, and a mark of the last batch (0: nothing).
	NextBatches(ctx context.Context, limit int) (last int64, recs []analysis.SessionRecord, tags map[string]string, err error)
	// Forwarded drops the batches up to last: the store holds them.
	Forwarded(ctx context.Context, last int64) error
}

// Collector identifies a collector to the store.
type Collector struct {
	ID        uint64 // the workspace's collector ID (workspace.Attach)
	Name      string // the machine's name, for people
	Workspace string // the workspace's path
}

// ForwardBatch is how many records one insert carries at most.
const ForwardBatch = 100_000

// maxInsertBytes caps the encoded size of one insert of sessions. The client
// compresses a whole insert as one block, and ch-go before v0.65.0 writes the
// block's compressed size as a uint32 without checking it (GO-2025-3603,
// GHSA-m454-3xv7-qj85, fixed by ch-go PR 1041): past 4 GiB the size wraps and
// the server would read the rest of the block, text from the logs, as
// protocol packets. ch-go v0.65 needs clickhouse-go v2.33, which cannot insert
// into the 18.16 server this store supports (its batches come back without
// columns), so the store keeps every insert far below the limit instead:
// samples are raw lines of up to 64 KiB, and 100,000 records could
// otherwise pass it.
var maxInsertBytes = 256 << 20

// Forward sends the journal to the store, oldest first, each insert
// acknowledged by ClickHouse before its batches are dropped from the
// journal, until the journal is empty. It returns the records sent. On an
// error what was not acknowledged stays in the journal for the next
// Forward: records are idempotent, so one sent twice counts once.
func (s *Store) Forward(ctx context.Context, j Journal, c Collector, progress func(sent int64)) (int64, error) {
	var sent int64
	for {
		last, recs, tags, err := j.NextBatches(ctx, ForwardBatch)
		if err != nil || last == 0 {
			return sent, err
		}
		if err := s.Write(ctx, c, recs, tags); err != nil {
			return sent, err
		}
		failpoint("store-ack")
		if err := j.Forwarded(ctx, last); err != nil {
			return sent, err
		}
		sent += int64(len(recs))
		if progress != nil {
			progress(sent)
		}
	}
}

// Write inserts session records of collector c and the rule tags it
// learned, and notes the collector as seen.
func (s *Store) Write(ctx context.Context, c Collector, recs []analysis.SessionRecord, tags map[string]string) error {
	for _, part := range bySize(recs, maxInsertBytes) {
		if err := s.insert(ctx, "sessions", func(b driver.Batch) error { return appendRecords(b, c.ID, part) }); err != nil {
			return fmt.Errorf("write %d sessions to %s: %w", len(recs), s.addr, err)
		}
	}
	if len(tags) > 0 {
		err := s.insert(ctx, "rule_tags", func(b driver.Batch) error {
			for r, t := range tags {
				if err := b.Append(r, t, c.ID); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("write rule tags to %s: %w", s.addr, err)
		}
	}
	err := s.insert(ctx, "collectors", func(b driver.Batch) error {
		return b.Append(c.ID, c.Name, c.Workspace, uint64(len(recs)), time.Now())
	})
	if err != nil {
		return fmt.Errorf("write to %s: %w", s.addr, err)
	}
	return nil
}

// bySize splits recs, in order, into runs whose encoded size is at most
// limit bytes; a record larger than limit alone makes a run.
func bySize(recs []analysis.SessionRecord, limit int) [][]analysis.SessionRecord {
	var out [][]analysis.SessionRecord
	from, size := 0, 0
	for i := range recs {
		n := recordSize(&recs[i])
		if i > from && size+n > limit {
			out = append(out, recs[from:i])
			from, size = i, 0
		}
		size += n
	}
	if from < len(recs) {
		out = append(out, recs[from:])
	}
	return out
}

// recordSize bounds the Native encoding of a record from above: the fixed
// columns, and each string with its length prefix and array offset.
func recordSize(r *analysis.SessionRecord) int {
	const fixed = 8 + 8 + 4 + 1 + 16 + 16 + 1 + 2 + 2 + 1 + 1 + 2 + 8 + 8 + 8 + 4*8 + 1 + 2*8 // offsets of the two arrays
	n := fixed + len(r.Host) + 10
	for _, s := range r.Labels {
		n += len(s) + 10
	}
	for _, s := range r.Samples {
		n += len(s) + 10
	}
	return n
}

// appendRecords fills a sessions batch column by column.
func appendRecords(b driver.Batch, collector uint64, recs []analysis.SessionRecord) error {
	n := len(recs)
	var (
		coll, id                       = make([]uint64, n), make([]uint64, n)
		version                        = make([]uint32, n)
		closed, proto, side, vend, ans = make([]uint8, n), make([]uint8, n), make([]uint8, n), make([]uint8, n), make([]uint8, n)
		host, src, dst                 = make([]string, n), make([]string, n), make([]string, n)
		dport, sport, actions          = make([]uint16, n), make([]uint16, n), make([]uint16, n)
		labels, samples                = make([][]string, n), make([][]string, n)
		start, first, last             = make([]int64, n), make([]int64, n), make([]int64, n)
		counts                         [4][]uint64
	)
	for i := range counts {
		counts[i] = make([]uint64, n)
	}
	for i := range recs {
		r := &recs[i]
		coll[i], id[i], version[i] = collector, r.ID, r.Version
		closed[i], ans[i] = flag(r.Closed), flag(r.Unanswered)
		host[i] = r.Host
		s16, d16 := r.Src.As16(), r.Dst.As16()
		src[i], dst[i] = string(s16[:]), string(d16[:])
		proto[i], dport[i], sport[i], side[i] = r.Proto, r.DPort, r.SPort, uint8(r.Side)
		labels[i], vend[i], actions[i] = nonNil(r.Labels), r.Vendors, r.Actions
		start[i], first[i], last[i] = r.Start, r.First, r.Last
		for j := range counts {
			counts[j][i] = r.Counts[j]
		}
		samples[i] = nonNil(r.Samples)
	}
	cols := []any{coll, id, version, closed, host, src, dst, proto, dport, sport, side, labels, vend, actions,
		start, first, last, counts[0], counts[1], counts[2], counts[3], ans, samples}
	for i, c := range cols {
		if err := b.Column(i).Append(c); err != nil {
			return fmt.Errorf("column %s: %w", sessionsColumnNames[i], err)
		}
	}
	return nil
}

func flag(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
