package demo

import (
	"encoding/csv"
	"io"
	"math/bits"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// The truth: every session summed into its conversation as it starts.

// record adds session s, whose sides are set, to the truth.
func (g *gen) record(s *session) {
	dir := ingest.DirInbound
	switch {
	case s.nsides == 2:
		dir = ingest.DirIntra
	case s.sides[0].out:
		dir = ingest.DirOutbound
	}
	k := convKey{dir: dir, proto: s.proto, dport: s.dport, src: s.src, dst: s.dst}
	a := g.truth[k]
	if a == nil {
		a = &agg{first: 1<<63 - 1, last: -1 << 63}
		g.truth[k] = a
	}
	a.sessions++
	if !s.matchOnly {
		a.pkts += s.orig.pkts + s.reply.pkts
		a.bytes += s.orig.bytes + s.reply.bytes
	}
	last := g.lastStage(s)
	for i := 0; i < s.nsides; i++ {
		sd := &s.sides[i]
		a.first = min(a.first, floorDiv(s.at(i, 0, last), 1e9))
		a.last = max(a.last, floorDiv(s.at(i, last, last), 1e9))
		a.tags |= 1 << sd.tag
		a.actions |= 1 << sd.action
		if g.hasHost {
			a.hosts |= 1 << g.w.vms[sd.vm].host
		}
	}
}

// rows returns the truth as unsorted rows.
func (g *gen) rows() []Row {
	rows := make([]Row, 0, len(g.truth))
	for k, a := range g.truth {
		rows = append(rows, Row{
			Direction: k.dir.String(),
			Tags:      names(uint64(a.tags), g.w.tags),
			Src:       g.w.eps[k.src].addr,
			Dst:       g.w.eps[k.dst].addr,
			Proto:     k.proto,
			DPort:     k.dport,
			Sessions:  a.sessions,
			Packets:   a.pkts,
			Bytes:     a.bytes,
			FirstSeen: time.Unix(a.first, 0).UTC(),
			LastSeen:  time.Unix(a.last, 0).UTC(),
			Actions:   actionNames(a.actions),
			Hosts:     names(a.hosts, hostNames(g.w.hosts)),
		})
	}
	return rows
}

// names returns the sorted names of the bits set in mask, or nil.
func names(mask uint64, all []string) []string {
	if mask == 0 {
		return nil
	}
	out := make([]string, 0, bits.OnesCount64(mask))
	for i := range all {
		if mask&(1<<i) != 0 {
			out = append(out, all[i])
		}
	}
	sort.Strings(out)
	return out
}

func hostNames(hs []host) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.name
	}
	return out
}

func actionNames(mask uint8) []string {
	var out []string
	for a := ingest.Action(1); a < 8; a++ {
		if mask&(1<<a) != 0 {
			out = append(out, a.String())
		}
	}
	sort.Strings(out)
	return out
}

func dirRank(d string) int {
	switch d {
	case "INBOUND":
		return 0
	case "OUTBOUND":
		return 1
	case "INTRA":
		return 2
	}
	return 3
}

// compareRows orders rows by direction (INBOUND, OUTBOUND, INTRA, UNKNOWN),
// source, destination, protocol and destination port.
func compareRows(a, b Row) int {
	if c := dirRank(a.Direction) - dirRank(b.Direction); c != 0 {
		return c
	}
	if c := a.Src.Compare(b.Src); c != 0 {
		return c
	}
	if c := a.Dst.Compare(b.Dst); c != 0 {
		return c
	}
	if c := int(a.Proto) - int(b.Proto); c != 0 {
		return c
	}
	return int(a.DPort) - int(b.DPort)
}

// truthHeader is the header of `flowsleuth flows --format csv`.
var truthHeader = []string{"direction", "tags", "src", "dst", "proto", "dport", "sessions",
	"packets", "bytes", "first_seen", "last_seen", "actions", "hosts"}

// WriteTruthCSV writes rows as CSV (RFC 4180) in the layout of
// `flowsleuth flows --format csv`: a header line, lists joined with ';',
// the protocol by name, times in RFC 3339 UTC to the second. It returns the
// first write error.
func WriteTruthCSV(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true // RFC 4180, as flowsleuth flows writes it
	if err := cw.Write(truthHeader); err != nil {
		return err
	}
	rec := make([]string, len(truthHeader))
	for i := range rows {
		r := &rows[i]
		rec[0] = r.Direction
		rec[1] = strings.Join(r.Tags, ";")
		rec[2] = r.Src.String()
		rec[3] = r.Dst.String()
		rec[4] = ingest.ProtoName(r.Proto)
		rec[5] = strconv.FormatUint(uint64(r.DPort), 10)
		rec[6] = strconv.FormatUint(r.Sessions, 10)
		rec[7] = strconv.FormatUint(r.Packets, 10)
		rec[8] = strconv.FormatUint(r.Bytes, 10)
		rec[9] = r.FirstSeen.UTC().Format(time.RFC3339)
		rec[10] = r.LastSeen.UTC().Format(time.RFC3339)
		rec[11] = strings.Join(r.Actions, ";")
		rec[12] = strings.Join(r.Hosts, ";")
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
