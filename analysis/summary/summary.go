// Package summary is the dashboard of a set of conversations
// (analysis.Table): totals, traffic per tag and direction, the top services
// and peers, sessions per hour and new conversations per day.
package summary

import (
	"cmp"
	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/services"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
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

type tagAcc struct {
	sessions [4]uint64
	services map[svcKey]uint64
	peers    map[netip.Addr]uint64
}

// Summarize computes the overview of the conversations of t, keeping the
// top n services and peers of each tag and overall (n <= 0: all).
func Summarize(t *analysis.Table, n int) Overview {
	var o Overview
	tags := make(map[string]*tagAcc)
	byTags := make([][]*tagAcc, t.TagSets()) // each tag set's accumulators, once
	services := make(map[svcKey]uint64)
	hourly := make(map[int32]uint64)
	daily := make(map[int64]uint64)
	const day = 24 * time.Hour
	for i := range t.Len() {
		o.AddRow(t, i)
		sessions := t.Sessions(i)
		if first := t.FirstNano(i); first != 0 {
			daily[time.Unix(0, first).Truncate(day).Unix()]++
		}
		for _, h := range t.HourCounts(i) {
			hourly[h.Hour] += uint64(h.N)
		}
		k := serviceKey(t.Proto(i), t.ServicePort(i))
		services[k] += sessions
		set := t.TagSet(i)
		ts := t.TagSetOf(set)
		if len(ts) == 0 {
			o.Untagged[t.Direction(i)&3] += sessions
			continue
		}
		accs := byTags[set]
		if accs == nil {
			accs = make([]*tagAcc, len(ts))
			for x, tg := range ts {
				if accs[x] = tags[tg.Name]; accs[x] == nil {
					accs[x] = &tagAcc{services: make(map[svcKey]uint64), peers: make(map[netip.Addr]uint64)}
					tags[tg.Name] = accs[x]
				}
			}
			byTags[set] = accs
		}
		for x, tg := range ts {
			acc := accs[x]
			acc.sessions[tg.Direction&3] += sessions
			acc.services[k] += sessions
			switch tg.Direction {
			case ingest.DirInbound:
				acc.peers[t.Src(i)] += sessions
			case ingest.DirOutbound:
				acc.peers[t.Dst(i)] += sessions
			}
		}
	}
	o.Services = serviceCounts(services, n)
	for name, acc := range tags {
		o.Tags = append(o.Tags, TagTraffic{Name: name, Sessions: acc.sessions,
			Services: serviceCounts(acc.services, n), Peers: peerCounts(acc.peers, n)})
	}
	slices.SortFunc(o.Tags, func(a, b TagTraffic) int {
		return cmp.Or(cmp.Compare(b.Total(), a.Total()), strings.Compare(a.Name, b.Name))
	})
	hours := make(map[int64]uint64, len(hourly))
	for h, v := range hourly {
		hours[int64(h)*3600] = v
	}
	o.Hourly = series(hours)
	o.NewDaily = series(daily)
	return o
}

func serviceCounts(m map[svcKey]uint64, n int) []Count {
	var t topCounts
	for k, v := range m {
		if t.wants(n, v) {
			t.add(n, Count{Label: services.Label(k.proto(), k.port()), Proto: k.proto(), Port: k.port(), Value: v})
		}
	}
	return t.sorted()
}

func peerCounts(m map[netip.Addr]uint64, n int) []Count {
	var t topCounts
	for a, v := range m {
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
