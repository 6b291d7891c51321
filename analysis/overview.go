package analysis

import (
	"cmp"
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
	Totals

	Tags     []TagTraffic // by sessions, largest first
	Untagged [4]uint64    // sessions of untagged conversations, by ingest.Direction
	Services []Count      // sessions per service, largest first
	Hourly   []Hour       // sessions started per hour, in time order
	NewDaily []Hour       // conversations first seen per UTC day (Sessions holds the count), in time order
}

// Totals are the sums of a set of conversations.
type Totals struct {
	Conversations            int
	Suspect                  int // conversations never answered: probable scans
	Sessions, Packets, Bytes uint64
	First, Last              time.Time // zero when no line had a time
}

// AddRow counts row i of tb in t.
func (t *Totals) AddRow(tb *Table, i int) {
	r := &tb.rows[i]
	t.Conversations++
	t.Sessions += r.sessions
	t.Packets += r.origPkts + r.replyPkts
	t.Bytes += r.origBytes + r.replyBytes
	if tb.Suspect(i) {
		t.Suspect++
	}
	if r.first != 0 && (t.First.IsZero() || r.first < t.First.UnixNano()) {
		t.First = unixTime(r.first)
	}
	if r.last != 0 && (t.Last.IsZero() || r.last > t.Last.UnixNano()) {
		t.Last = unixTime(r.last)
	}
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

// ServiceLabel names the service of one protocol and port as Service.Label
// does, the one format people read everywhere: "DNS (53/udp)", "8443/tcp",
// "ICMP", "protocol 47".
func ServiceLabel(proto uint8, port uint16) string {
	return Service{Proto: proto, Ports: []PortRange{{port, port}}, Name: ServiceName(proto, port)}.Label()
}

// ServicePort is the port that identifies c's service: its destination
// port, or 0 for ICMP, whose types are one service.
func ServicePort(c *Conversation) uint16 {
	if c.Proto == ingest.ProtoICMP || c.Proto == ingest.ProtoICMPv6 {
		return 0
	}
	return c.DPort
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
func Summarize(t *Table, n int) Overview {
	var o Overview
	tags := make(map[string]*tagAcc)
	byTags := make([][]*tagAcc, len(t.tagSets)) // each tag set's accumulators, once
	services := make(map[svcKey]uint64)
	hourly := make(map[int32]uint64)
	daily := make(map[int64]uint64)
	const day = 24 * int64(time.Hour)
	for i := range t.rows {
		r := &t.rows[i]
		o.AddRow(t, i)
		if r.first != 0 {
			daily[floorDiv(r.first, day)*day/1e9]++
		}
		for _, h := range t.HourCounts(i) {
			hourly[h.Hour] += uint64(h.N)
		}
		k := serviceKey(r.proto, t.ServicePort(i))
		services[k] += r.sessions
		ts := t.tagSets[r.tags]
		if len(ts) == 0 {
			o.Untagged[r.dir&3] += r.sessions
			continue
		}
		accs := byTags[r.tags]
		if accs == nil {
			accs = make([]*tagAcc, len(ts))
			for x, tg := range ts {
				if accs[x] = tags[tg.Name]; accs[x] == nil {
					accs[x] = &tagAcc{services: make(map[svcKey]uint64), peers: make(map[netip.Addr]uint64)}
					tags[tg.Name] = accs[x]
				}
			}
			byTags[r.tags] = accs
		}
		for x, tg := range ts {
			acc := accs[x]
			acc.sessions[tg.Direction&3] += r.sessions
			acc.services[k] += r.sessions
			switch tg.Direction {
			case ingest.DirInbound:
				acc.peers[t.Src(i)] += r.sessions
			case ingest.DirOutbound:
				acc.peers[t.Dst(i)] += r.sessions
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
			t.add(n, Count{Label: ServiceLabel(k.proto(), k.port()), Proto: k.proto(), Port: k.port(), Value: v})
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
func series(m map[int64]uint64) []Hour {
	out := make([]Hour, 0, len(m))
	for t, v := range m {
		out = append(out, Hour{Start: time.Unix(t, 0).UTC(), Sessions: v})
	}
	slices.SortFunc(out, func(a, b Hour) int { return a.Start.Compare(b.Start) })
	return out
}
