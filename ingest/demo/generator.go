package demo

import (
	"bufio"
	"math/rand/v2"
	"net/netip"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// The simulation's state: every type its steps share, below the steps
// (world.go, sched.go, traffic.go, truth.go, wrap.go, format.go) and run.go
// (newGen, run and the session life cycle) on top, so that each step's file
// reads without the others.

// tupleKey identifies a connection as conntrack and the DFW see it.
type tupleKey struct {
	src, dst     int32
	sport, dport uint16
	proto        uint8
}

// gen runs one simulation. Sessions start in time order; the lines they will
// write wait in a heap until every earlier line is out, so only open
// sessions are held in memory.
type gen struct {
	cfg     Config
	v       vendor
	wrap    wrapper
	hasHost bool // the wrapper names the reporting host
	w       *world
	r       *rng
	sched   *schedule
	bw      *bufio.Writer

	q     queue
	seq   uint64
	open  map[tupleKey]struct{} // connections not yet ended
	free  []*session
	truth map[convKey]*agg

	line, inner []byte // reused line buffers
	clock       clock
	prevStart   int64
	written     int64 // latest time written on the current line, Unix ns
	latest      int64 // latest time written on any line
	sum         Summary
}

// clock formats Unix times in UTC, caching the civil date of the last day.
type clock struct {
	day     int64
	y, m, d int
	valid   bool
}

// session is one simulated connection.
type session struct {
	kind         kind
	src, dst     int32 // endpoint indices
	proto        uint8
	sport, dport uint16
	length       uint16 // first packet's length (NSX match LEN)
	flags        string // first packet's TCP flags
	close        string // TCP close reason on NSX TERM lines
	start        int64  // first packet, Unix ns
	active       int64  // ns from the first packet to the last
	end          int64  // when the session is logged as ended (after any timeout)
	nupd         int    // Nutanix [Update] lines per side
	orig, reply  counter
	matchOnly    bool // NSX: dropped first packet, no TERM line
	nsides       int
	sides        [2]side
	pending      int // sides still to finish writing
}

// convKey is a conversation: the ephemeral source port is dropped.
type convKey struct {
	dir      ingest.Direction
	proto    uint8
	dport    uint16
	src, dst int32
}

// agg is the true figures of one conversation.
type agg struct {
	sessions, pkts, bytes uint64
	first, last           int64  // Unix seconds
	tags                  uint8  // bit i: world.tags[i]
	actions               uint8  // bit a: ingest.Action(a)
	hosts                 uint64 // bit i: world.hosts[i]
}

// wrapper is how a line is framed for its syslog server (wrap.go).
type wrapper uint8

// rng is a PCG generator with the few helpers the simulation needs. Only
// PCG's Uint64 is used, so the output does not depend on how math/rand
// derives other values.
type rng struct{ pcg rand.PCG }

// schedule spreads session start times over the configured days with a
// working-hours shape: busy from 8 to 17 UTC, quiet at night and at weekends.
type schedule struct {
	start int64     // Unix ns of the first hour
	n     float64   // sessions
	cum   []float64 // cumulative weight at each hour boundary
	bin   int       // current hour (times are asked for in increasing order)
}

// queue is a binary min-heap of entries by time, then by push order, so that
// equal times come out deterministically.
type queue []entry

// kind is a kind of session (traffic.go's kindTable).
type kind uint8

// counter is one direction's packets and bytes.
type counter struct{ pkts, bytes uint64 }

// side is one enforcement point that logs a session.
type side struct {
	vm     int32 // monitored VM whose host (Nutanix) or vNIC filter (NSX) logs
	out    bool  // at the source: Nutanix OUTBOUND, NSX OUT
	action ingest.Action
	tag    uint8  // index into world.tags
	rule   string // NSX rule reference as written
	descr  string // Nutanix DESCRIPTION, or ""
	off    int64  // ns after the session's own times
}

// entry is the next line one enforcement point will write for a session.
type entry struct {
	at    int64 // event time, Unix ns
	seq   uint64
	s     *session
	side  uint8
	stage uint8
}

// span is a range of values drawn log-uniformly (rng.logU).
type span [2]float64

// role is what an endpoint is in the simulated world (world.go).
type role uint8

// endpoint is an address of the simulated world.
type endpoint struct {
	addr netip.Addr
	str  string
	role role
	vm   int32 // index into world.vms; -1 outside the monitored set
}

// host is a hypervisor host that logs.
type host struct {
	name string
	ip   string // management address: the sender in Visual Syslog records
	pid  string // vmsyslogd PID in ESXi local files
}

// vm is a monitored VM.
type vm struct {
	host   int32
	group  uint8
	filter string // NSX vNIC filter hash
	dbPort uint16 // database VMs: 3306 (MySQL) or 5432 (PostgreSQL)
}

// world is the simulated application and its neighbours.
type world struct {
	eps   []endpoint
	hosts []host
	vms   []vm

	tags     []string  // Nutanix policy names or NSX group tags, by tag index
	policyID []string  // Nutanix policy UUIDs, by tag index
	rules    [3]string // NSX allow rule per group, as written on a line
	dropRule string    // NSX rule dropping scanner probes
	sddc     string    // VMware Cloud SDDC id (json wrapper)

	web, app, db, vmEPs             []int32
	dcs, updates, clients, scanners []int32
	partners, admins                []int32
	ntp, backup, monitor            int32
	scanPorts                       []uint16
}
