// Package summary is the dashboard of a set of conversations
// (analysis.Table): totals, traffic per tag and direction, the top services
// and peers, sessions per hour and new conversations per day.
package summary

import (
	"cmp"
	"encoding/binary"
	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/services"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Overview is the dashboard of a set of conversations: the totals, traffic
// per tag split by the tag's direction, the services and peers of each tag,
// sessions per hour, and how many conversations were first seen each day
// (when that curve flattens out, discovery has seen the application's
// traffic).
type Overview struct {
	analysis.Totals

	Tags     []TagTraffic    // by sessions, largest first
	Untagged [4]uint64       // sessions of untagged conversations, by ingest.Direction
	Services []Count         // sessions per service, largest first
	Hourly   []analysis.Hour // sessions started per hour, in time order
	NewDaily []analysis.Hour // conversations first seen per UTC day (Sessions holds the count), in time order
}

// TagTraffic is one tag's traffic.
type TagTraffic struct {
	Name     string
	Sessions [4]uint64 // by ingest.Direction relative to the tag
	Services []Count   // largest first
	Peers    []Count   // the other side (source of inbound, destination of outbound), largest first
}

// Total returns the tag's sessions in every direction.
func (t *TagTraffic) Total() uint64 {
	return t.Sessions[0] + t.Sessions[1] + t.Sessions[2] + t.Sessions[3]
}

// Count is a value under a label: a service ("DNS (53/udp)") or a peer.
type Count struct {
	Label string
	Proto uint8      // services: the protocol
	Port  uint16     // services: the destination port (0 for ICMP)
	Peer  netip.Addr // peers: the address
	Value uint64
}

// svcKey is a protocol and a service port, as proto<<16 | port: a map
// keyed by a number is hashed faster than one keyed by a struct.
type svcKey uint32

func (k svcKey) proto() uint8                    { return uint8(k >> 16) }
func (k svcKey) port() uint16                    { return uint16(k) }
func serviceKey(proto uint8, port uint16) svcKey { return svcKey(proto)<<16 | svcKey(port) }

// peerSums are sessions by address, of one tag. IPv4 addresses are keyed
// by their 32 bits: a map keyed by a uint32 is hashed several times faster
// than one keyed by a netip.Addr, and holds no pointer for the collector to
// follow (a tag may have a million peers).
type peerSums struct {
	v4    map[uint32]uint64
	other map[netip.Addr]uint64
}

// Of computes the overview of the conversations of t, keeping the
// top n services and peers of each tag and overall (n <= 0: all).
func Of(t *analysis.Table, n int) Overview {
	return summarize(t, n, min(runtime.GOMAXPROCS(0), 1+t.Len()/65536))
}

// summarize is Of with each tag's services and peers added up on parts
// goroutines (tags.go), beside the totals on this one.
func summarize(t *analysis.Table, n, parts int) Overview {
	var o Overview
	byTags, tags := tagAccs(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sumTags(t, byTags, len(tags), n, parts)
	}()
	services := make(map[svcKey]uint64)
	var hourly hourSums
	daily := make(map[int64]uint64)
	const day = 24 * time.Hour
	for i := range t.Len() {
		o.AddRow(t, i)
		sessions := t.Sessions(i)
		if first := t.FirstNano(i); first != 0 {
			daily[time.Unix(0, first).Truncate(day).Unix()]++
		}
		for _, h := range t.HourCounts(i) {
			hourly.add(h.Hour, uint64(h.N))
		}
		services[serviceKey(t.Proto(i), t.ServicePort(i))] += sessions
		if len(t.TagSetOf(t.TagSet(i))) == 0 {
			o.Untagged[t.Direction(i)&3] += sessions
		}
	}
	<-done
	o.Services = serviceCounts(services, n)
	for name, acc := range tags {
		if acc.used {
			o.Tags = append(o.Tags, TagTraffic{Name: name, Sessions: acc.sessions,
				Services: acc.services, Peers: acc.peers})
		}
	}
	slices.SortFunc(o.Tags, func(a, b TagTraffic) int {
		return cmp.Or(cmp.Compare(b.Total(), a.Total()), strings.Compare(a.Name, b.Name))
	})
	o.Hourly = series(hourly.byStart())
	o.NewDaily = series(daily)
	return o
}

func serviceCounts[K ~uint32](m map[K]uint64, n int) []Count {
	var t topCounts
	for key, v := range m {
		if t.wants(n, v) {
			k := svcKey(key)
			t.add(n, Count{Label: services.Label(k.proto(), k.port()), Proto: k.proto(), Port: k.port(), Value: v})
		}
	}
	return t.sorted()
}

func peerCounts(m peerSums, n int) []Count {
	var t topCounts
	for ip, v := range m.v4 {
		if t.wants(n, v) {
			var b [4]byte
			binary.BigEndian.PutUint32(b[:], ip)
			a := netip.AddrFrom4(b)
			t.add(n, Count{Label: a.String(), Peer: a, Value: v})
		}
	}
	for a, v := range m.other {
		if t.wants(n, v) {
			t.add(n, Count{Label: a.String(), Peer: a, Value: v})
		}
	}
	return t.sorted()
}

// topCounts keeps the n largest counts (n <= 0: all), ties by label,
// without holding every count: a tag may have a million peers.
type topCounts struct{ cs []Count }

func moreThan(a, b *Count) bool {
	return a.Value > b.Value || a.Value == b.Value && a.Label < b.Label
}

// wants reports whether a count of value v may be among the n largest
// (its label decides a tie with the smallest kept).
func (t *topCounts) wants(n int, v uint64) bool {
	return n <= 0 || len(t.cs) < n || v >= t.cs[len(t.cs)-1].Value
}

// add inserts c in order, dropping the smallest beyond n.
func (t *topCounts) add(n int, c Count) {
	if n <= 0 {
		t.cs = append(t.cs, c)
		return
	}
	i := len(t.cs)
	for i > 0 && moreThan(&c, &t.cs[i-1]) {
		i--
	}
	if i == n {
		return
	}
	t.cs = slices.Insert(t.cs, i, c)
	if len(t.cs) > n {
		t.cs = t.cs[:n]
	}
}

// sorted returns the counts kept, largest first (ties by label).
func (t *topCounts) sorted() []Count {
	slices.SortFunc(t.cs, func(a, b Count) int {
		return cmp.Or(cmp.Compare(b.Value, a.Value), strings.Compare(a.Label, b.Label))
	})
	if t.cs == nil {
		return []Count{}
	}
	return t.cs
}

// series turns unix-second buckets into a time-ordered slice.
func series(m map[int64]uint64) []analysis.Hour {
	out := make([]analysis.Hour, 0, len(m))
	for t, v := range m {
		out = append(out, analysis.Hour{Start: time.Unix(t, 0).UTC(), Sessions: v})
	}
	slices.SortFunc(out, func(a, b analysis.Hour) int { return a.Start.Compare(b.Start) })
	return out
}
