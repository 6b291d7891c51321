// Package demo writes realistic, deterministic Nutanix Flow Network Security
// and VMware NSX distributed-firewall log lines for a simulated three-tier
// application, and returns the conversation table those lines describe (the
// truth), with exactly the columns of `flowsleuth flows --format csv`.
//
// The simulated world: 2-3 web, 2 app and 1-2 database VMs form the monitored
// set. For Nutanix they are the VMs in the categories of two policies,
// "Discover-Traffic" (web and app, Monitor mode, ACTION=MONITOR) and
// "App Isolation" (database, enforced, ALLOW or DROP with a rule
// DESCRIPTION). For NSX they are the members of the security groups SGTSWEB,
// SGTSAPP and SGTSDB, each with a logged any/any allow rule tagged with the
// group's name, plus a logged drop rule for scanner probes of sensitive
// ports. Outside the set are two domain controllers (DNS 53/udp, LDAP
// 389/tcp, Kerberos 88), an NTP server, a backup server, a monitoring server
// (SNMP, node exporter, ping), update servers and clients on the internet,
// and one or two scanners whose TCP SYNs are never answered. Two outside
// populations give rule generalisation something to decide: 24 partner
// systems scattered over 172.16.8.20-59 calling the app tier's API (8443)
// and file exchange (8444), and eight administrators' workstations filling
// 10.99.5.16/29 that reach every VM on SSH (22) and a web console (9090).
// Each VM lives on one of three AHV or ESXi hosts. All addresses are
// private (RFC 1918) or documentation (RFC 5737) addresses.
//
// A session is one connection with its own ephemeral source port. A session
// between two monitored VMs is logged at both enforcement points (Nutanix
// OUTBOUND on the source VM's host and INBOUND on the destination's; NSX OUT
// and IN at the two vNIC filters) with identical counters, and counts once in
// the truth. Any other session is logged once, by its monitored end.
//
// Lines are written in non-decreasing time order while the truth is summed
// per conversation, so memory is bounded by the number of sessions open at
// one time, never by the number written.
//
// RFC 3164 stamps (the rfc3164 and vss wrappers) carry no year: an importer
// infers it from the file's modification time. Callers that write to a file
// should set its modification time to Summary.Last (os.Chtimes), and keep
// Days under about eleven months.
package demo

import (
	"errors"
	"net/netip"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// Config describes one generated log. The zero value of every field but
// Vendor is valid.
type Config struct {
	Vendor   string    // "nutanix", "nsxv", "nsxt", "nsx4"
	Wrap     string    // wrapper, one of Wrappers(Vendor); "" = the vendor's default
	Sessions int       // number of simulated sessions (connections)
	Seed     int64     // deterministic output for a given Config
	Start    time.Time // first event time: the first session starts then; zero => 2025-04-07T00:00:00Z (a Monday)
	Days     int       // spread of the sessions over this many days; 0 => 7
}

// Row is one true conversation, with exactly the columns of
// `flowsleuth flows --format csv`. Empty lists are nil.
type Row struct {
	Direction string   // INBOUND, OUTBOUND, INTRA (relative to the monitored set)
	Tags      []string // sorted, unique: Nutanix policy names or NSX rule tags
	Src, Dst  netip.Addr
	Proto     uint8  // IP protocol number
	DPort     uint16 // 0 for ICMP

	Sessions, Packets, Bytes uint64
	FirstSeen, LastSeen      time.Time // truncated to the second, UTC
	Actions                  []string  // sorted unique: "ALLOW", "DROP", "MONITOR", "REJECT"
	Hosts                    []string  // sorted unique reporting hosts; nil when the wrapper names none
}

// Summary describes a generated log.
type Summary struct {
	Lines, Sessions int64
	// First is the event time of the first line. Last is the latest time
	// written on any line, delivery delays included; use it as the file's
	// modification time so that RFC 3164 stamps get the right year.
	First, Last time.Time
}

// Errors returned by Generate, wrapped with the offending value.
var (
	ErrVendor  = errors.New("unknown vendor")
	ErrWrapper = errors.New("unknown wrapper")
	ErrConfig  = errors.New("bad demo config")
)

// defaultStart is the first event time when Config.Start is zero.
var defaultStart = time.Date(2025, 4, 7, 0, 0, 0, 0, time.UTC)

const defaultDays = 7

// vendor is the log family a Config asks for: ingest's own names and values.
type vendor = ingest.Vendor

const (
	vNutanix = ingest.Nutanix
	vNSXV    = ingest.NSXV
	vNSXT    = ingest.NSXT
	vNSX4    = ingest.NSX4
)

func parseVendor(s string) (vendor, bool) { return ingest.ParseVendor(s) }
