package demo

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
)

// The simulated world: hosts, the monitored VMs and everything they talk to.

// Tiers of the application, also the NSX security groups.
const (
	groupWeb uint8 = iota
	groupApp
	groupDB
)

// Nutanix policies, by tag index.
const (
	policyDiscover  uint8 = iota // web and app VMs, Monitor mode
	policyIsolation              // database VMs, enforced
)

const (
	roleClient  role = iota // internet client
	roleScanner             // internet scanner
	roleUpdate              // internet update server
	roleDC                  // domain controller: DNS, LDAP, Kerberos
	roleNTP
	roleBackup
	roleMonitor
	rolePartner // a partner's system calling the application's API
	roleAdmin   // an administrator's workstation
	roleVM      // monitored VM
)

// The outside populations that the rule generalisation knobs act on: a
// partner network whose systems are a sparse part of a /24 (not collapsed
// by default, 24 peers: listed, under --any-peers), and administrators'
// workstations that fill a /29 (collapsed by default, 8 hosts: listed when
// --collapse-min is above 8). Each uses two ports, whose rules merge when
// their peers generalise alike.
const (
	partnerNet   = "172.16.8."
	partnerFirst = 20 // partners are chosen among partnerNet+20 … +59
	partnerSpan  = 40
	nPartners    = 24
	adminNet     = "10.99.5."
	adminFirst   = 16 // admins are adminNet+16 … +23, a whole /29
	nAdmins      = 8
)

func newWorld(v vendor, r *rng) *world {
	w := &world{}
	w.addHosts(v, r)
	nWeb, nDB := 2+r.intn(2), 1+r.intn(2)
	next := r.intn(len(w.hosts)) // spread the VMs round-robin from a random host
	w.web = w.addVMs(v, r, groupWeb, "10.20.10.", 11, nWeb, &next)
	w.app = w.addVMs(v, r, groupApp, "10.20.20.", 21, 2, &next)
	w.db = w.addVMs(v, r, groupDB, "10.20.30.", 31, nDB, &next)
	for i := range w.db {
		w.vms[w.eps[w.db[i]].vm].dbPort = [2]uint16{3306, 5432}[i%2]
	}
	w.vmEPs = append(append(append([]int32(nil), w.web...), w.app...), w.db...)
	w.addServices(r)
	w.setPolicy(v, r)
	return w
}

func (w *world) add(addr string, ro role, vmIdx int32) int32 {
	w.eps = append(w.eps, endpoint{addr: netip.MustParseAddr(addr), str: addr, role: ro, vm: vmIdx})
	return int32(len(w.eps) - 1)
}

func (w *world) addHosts(v vendor, r *rng) {
	for i := 0; i < 3; i++ {
		h := host{pid: strconv.Itoa(r.between(100000, 1999999))}
		if v == vNutanix {
			h.name, h.ip = "ahv-node-"+strconv.Itoa(i+1), "10.0.0."+strconv.Itoa(11+i)
		} else {
			h.name, h.ip = "esx-0"+strconv.Itoa(i+1), "10.0.0."+strconv.Itoa(21+i)
		}
		w.hosts = append(w.hosts, h)
	}
}

// addVMs adds n VMs of one tier at prefix+first, prefix+first+1, …
func (w *world) addVMs(v vendor, r *rng, g uint8, prefix string, first, n int, next *int) []int32 {
	var eps []int32
	for i := 0; i < n; i++ {
		m := vm{host: int32(*next % len(w.hosts)), group: g, filter: w.newFilter(v, r)}
		*next++
		w.vms = append(w.vms, m)
		eps = append(eps, w.add(prefix+strconv.Itoa(first+i), roleVM, int32(len(w.vms)-1)))
	}
	return eps
}

// newFilter returns a vNIC filter hash not used yet: decimal on NSX-V, eight
// hex digits on NSX-T and NSX 4.
func (w *world) newFilter(v vendor, r *rng) string {
	for {
		var f string
		if v == vNSXV {
			f = strconv.Itoa(r.between(1000, 65535))
		} else {
			f = fmt.Sprintf("%08x", uint32(r.u64()))
		}
		used := false
		for _, m := range w.vms {
			used = used || m.filter == f
		}
		if !used {
			return f
		}
	}
}

func (w *world) addServices(r *rng) {
	w.dcs = []int32{w.add("10.10.0.10", roleDC, -1), w.add("10.10.0.11", roleDC, -1)}
	w.ntp = w.add("10.10.0.20", roleNTP, -1)
	w.backup = w.add("10.10.0.30", roleBackup, -1)
	w.monitor = w.add("10.10.0.40", roleMonitor, -1)
	w.updates = []int32{w.add("192.0.2.80", roleUpdate, -1), w.add("192.0.2.81", roleUpdate, -1)}
	scanners := []string{"203.0.113.66", "198.51.100.23"}[:1+r.intn(2)]
	for _, s := range scanners {
		w.scanners = append(w.scanners, w.add(s, roleScanner, -1))
	}
	for _, prefix := range []string{"198.51.100.", "203.0.113."} {
		for i := 1; i < 255; i++ {
			a := prefix + strconv.Itoa(i)
			if a != "203.0.113.66" && a != "198.51.100.23" {
				w.clients = append(w.clients, w.add(a, roleClient, -1))
			}
		}
	}
	// Shuffle so that the busiest clients (the first ones) are spread out.
	for i := len(w.clients) - 1; i > 0; i-- {
		j := r.intn(i + 1)
		w.clients[i], w.clients[j] = w.clients[j], w.clients[i]
	}
	w.addPopulations(r)
	for p := uint16(1); p <= 1024; p++ {
		w.scanPorts = append(w.scanPorts, p)
	}
	w.scanPorts = append(w.scanPorts, 1433, 1521, 2049, 3306, 3389, 5432, 5900, 5985,
		6379, 8000, 8080, 8443, 9200, 11211, 27017)
}

// addPopulations adds the partner systems (nPartners of partnerSpan
// addresses, chosen at random) and the administrators' workstations.
func (w *world) addPopulations(r *rng) {
	hosts := make([]int, partnerSpan)
	for i := range hosts {
		hosts[i] = partnerFirst + i
	}
	for i := len(hosts) - 1; i > 0; i-- {
		j := r.intn(i + 1)
		hosts[i], hosts[j] = hosts[j], hosts[i]
	}
	hosts = hosts[:nPartners]
	slices.Sort(hosts)
	for _, h := range hosts {
		w.partners = append(w.partners, w.add(partnerNet+strconv.Itoa(h), rolePartner, -1))
	}
	for i := range nAdmins {
		w.admins = append(w.admins, w.add(adminNet+strconv.Itoa(adminFirst+i), roleAdmin, -1))
	}
}

func (w *world) setPolicy(v vendor, r *rng) {
	w.sddc = uuid(r)
	switch v {
	case vNutanix:
		w.tags = []string{"Discover-Traffic", "App Isolation"}
		w.policyID = []string{uuid(r), uuid(r)}
	case vNSXV:
		w.tags = []string{"SGTSWEB", "SGTSAPP", "SGTSDB"}
		w.rules = [3]string{"domain-c7/1001", "domain-c7/1002", "domain-c7/1003"}
		w.dropRule = "domain-c7/1000"
	default:
		w.tags = []string{"SGTSWEB", "SGTSAPP", "SGTSDB"}
		w.rules = [3]string{"3041", "3042", "3043"}
		w.dropRule = "3040"
	}
}

// uuid returns a random version 4 UUID.
func uuid(r *rng) string {
	a, b := r.u64(), r.u64()
	a = a&^0xf000 | 0x4000
	b = b&^(0xc<<60) | 0x8<<60
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, a>>16&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

// blockedPort reports whether NSX drops scanner probes of port.
func blockedPort(p uint16) bool {
	switch p {
	case 21, 22, 23, 135, 139, 445, 1433, 3389, 5900, 5985:
		return true
	}
	return false
}

func pick(r *rng, eps []int32) int32 { return eps[r.intn(len(eps))] }

// client picks an internet client; a few clients are much busier than most.
func (w *world) client(r *rng) int32 { return skewed(r, w.clients) }

// skewed picks from eps, the first ones much more often than the last.
func skewed(r *rng, eps []int32) int32 {
	u := r.float()
	return eps[int(u*u*float64(len(eps)))]
}

func (w *world) vmOf(ep int32) *vm { return &w.vms[w.eps[ep].vm] }
