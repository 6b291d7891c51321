// Package summary is the dashboard of a set of conversations
// (analysis.Table): totals, traffic per tag and direction, the top services
// and peers, sessions per hour and new conversations per day.
package summary

import (
	"cmp"
	"github.com/flowsleuth/flowsleuth/analysis"
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
	o.Services = serviceCounts(func(yield func(uint32, uint64) bool) {
		for k, v := range services {
			if !yield(uint32(k), v) {
				return
			}
		}
	}, n)
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

// series turns unix-second buckets into a time-ordered slice.
func series(m map[int64]uint64) []analysis.Hour {
	out := make([]analysis.Hour, 0, len(m))
	for t, v := range m {
		out = append(out, analysis.Hour{Start: time.Unix(t, 0).UTC(), Sessions: v})
	}
	slices.SortFunc(out, func(a, b analysis.Hour) int { return a.Start.Compare(b.Start) })
	return out
}
