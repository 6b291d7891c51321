package analysis

import (
	"cmp"
	"fmt"
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

// Add counts c in t.
func (t *Totals) Add(c *Conversation) {
	t.Conversations++
	t.Sessions += c.Sessions
	t.Packets += c.Packets()
	t.Bytes += c.Bytes()
	if c.Suspect() {
		t.Suspect++
	}
	if !c.First.IsZero() && (t.First.IsZero() || c.First.Before(t.First)) {
		t.First = c.First
	}
	if c.Last.After(t.Last) {
		t.Last = c.Last
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

type svcKey struct {
	proto uint8
	port  uint16
}

type tagAcc struct {
	sessions [4]uint64
	services map[svcKey]uint64
	peers    map[netip.Addr]uint64
}

// Summarize computes the overview of convs, keeping the top n services and
// peers of each tag and overall (n <= 0: all).
func Summarize(convs []Conversation, n int) Overview {
	var o Overview
	tags := make(map[string]*tagAcc)
	services := make(map[svcKey]uint64)
	hourly := make(map[int64]uint64)
	daily := make(map[int64]uint64)
	for i := range convs {
		c := &convs[i]
		o.Add(c)
		if !c.First.IsZero() {
			daily[c.First.UTC().Truncate(24*time.Hour).Unix()]++
		}
		for _, h := range c.Hourly {
			hourly[h.Start.Unix()] += h.Sessions
		}
		k := svcKey{c.Proto, ServicePort(c)}
		services[k] += c.Sessions
		if len(c.Tags) == 0 {
			o.Untagged[c.Direction&3] += c.Sessions
		}
		for _, t := range c.Tags {
			acc := tags[t.Name]
			if acc == nil {
				acc = &tagAcc{services: make(map[svcKey]uint64), peers: make(map[netip.Addr]uint64)}
				tags[t.Name] = acc
			}
			acc.sessions[t.Direction&3] += c.Sessions
			acc.services[k] += c.Sessions
			switch t.Direction {
			case ingest.DirInbound:
				acc.peers[c.Src] += c.Sessions
			case ingest.DirOutbound:
				acc.peers[c.Dst] += c.Sessions
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
	o.Hourly = series(hourly)
	o.NewDaily = series(daily)
	return o
}

func serviceCounts(m map[svcKey]uint64, n int) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{Label: ServiceLabel(k.proto, k.port), Proto: k.proto, Port: k.port, Value: v})
	}
	return top(out, n)
}

func peerCounts(m map[netip.Addr]uint64, n int) []Count {
	out := make([]Count, 0, len(m))
	for a, v := range m {
		out = append(out, Count{Label: a.String(), Peer: a, Value: v})
	}
	return top(out, n)
}

// top sorts counts largest first (ties by label) and keeps n of them.
func top(cs []Count, n int) []Count {
	slices.SortFunc(cs, func(a, b Count) int {
		return cmp.Or(cmp.Compare(b.Value, a.Value), strings.Compare(a.Label, b.Label))
	})
	if n > 0 && len(cs) > n {
		cs = cs[:n]
	}
	return cs
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

// ParseTime reads a time bound as users type it: RFC 3339, "YYYY-MM-DD
// HH:MM" (UTC) or a date (UTC midnight). Empty is the zero time (no bound).
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time, a YYYY-MM-DD HH:MM time or a YYYY-MM-DD date", s)
}
