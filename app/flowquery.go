package app

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/export"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// FlowFilter selects conversations for the flow table. The zero value
// selects everything; the overview's charts set fields when clicked.
type FlowFilter struct {
	Text      string           // words that must all match; see ParseText
	Tag       string           // conversations with this tag
	Direction ingest.Direction // with DirSet: this direction (for Tag: the tag's direction)
	DirSet    bool
	Action    string // "ALLOW", "DROP", ... : conversations that saw this verdict
	Proto     uint8  // 0: any
	Service   bool   // with Proto: only this destination port (ServicePort)
	Port      uint16
	Peer      netip.Addr // either end
	Since     time.Time  // conversations with sessions in [Since, Until)
	Until     time.Time
	Suspect   bool // only never-answered conversations
	// NewSince and NewUntil: conversations first seen in [NewSince, NewUntil).
	NewSince, NewUntil time.Time
	// Verdict keeps the conversations a policy check gave this verdict
	// ("allowed", "would block", "blocked", or "would break"); Verdicts
	// says it of each conversation, by index (check_flows.go).
	Verdict  string
	Verdicts func(i int) (verdict string, breaks bool)
}

// Chips describes the active filters for people, one string per field.
func (f FlowFilter) Chips() []string {
	var out []string
	if f.Tag != "" {
		out = append(out, "tag "+f.Tag)
	}
	if f.DirSet {
		out = append(out, strings.ToLower(f.Direction.String()))
	}
	if f.Action != "" {
		out = append(out, "action "+f.Action)
	}
	if f.Proto != 0 {
		if f.Service {
			out = append(out, analysis.ServiceLabel(f.Proto, f.Port))
		} else {
			out = append(out, ingest.ProtoName(f.Proto))
		}
	}
	if f.Peer.IsValid() {
		out = append(out, "peer "+f.Peer.String())
	}
	if !f.Since.IsZero() || !f.Until.IsZero() {
		out = append(out, timeRange(f.Since, f.Until))
	}
	if !f.NewSince.IsZero() {
		out = append(out, "new "+timeRange(f.NewSince, f.NewUntil))
	}
	if f.Suspect {
		out = append(out, "suspect")
	}
	if f.Verdict != "" {
		out = append(out, "verdict "+f.Verdict)
	}
	return out
}

func timeRange(since, until time.Time) string {
	const layout = "2006-01-02 15:04"
	switch {
	case since.IsZero():
		return "before " + until.UTC().Format(layout)
	case until.IsZero():
		return "from " + since.UTC().Format(layout)
	}
	return since.UTC().Format(layout) + " – " + until.UTC().Format(layout)
}

// Timed reports whether the filter keeps conversations active in a time
// range; the table then counts the sessions in that range.
func (f *FlowFilter) Timed() bool { return !f.Since.IsZero() || !f.Until.IsZero() }

// Match reports whether c passes the filter; text is c's search text
// (lower case), computed once per conversation by SearchText. It parses
// f.Text on every call: NewFlowView parses it once for all rows.
func (f *FlowFilter) Match(c *analysis.Conversation, text string) bool {
	return f.matchFields(c) && ParseText(f.Text).Match(c, text)
}

// matchFields is Match without the text.
func (f *FlowFilter) matchFields(c *analysis.Conversation) bool {
	if f.Tag != "" {
		found := false
		for _, t := range c.Tags {
			if t.Name == f.Tag && (!f.DirSet || t.Direction == f.Direction) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	} else if f.DirSet && c.Direction != f.Direction {
		return false
	}
	if f.Action != "" && !slices.ContainsFunc(c.Actions, func(a ingest.Action) bool { return a.String() == f.Action }) {
		return false
	}
	if f.Proto != 0 && (c.Proto != f.Proto || f.Service && analysis.ServicePort(c) != f.Port) {
		return false
	}
	if f.Peer.IsValid() && c.Src != f.Peer && c.Dst != f.Peer {
		return false
	}
	if (!f.Since.IsZero() || !f.Until.IsZero()) && !activeIn(c, f.Since, f.Until) {
		return false
	}
	if !f.NewSince.IsZero() && (c.First.Before(f.NewSince) || !f.NewUntil.IsZero() && !c.First.Before(f.NewUntil)) {
		return false
	}
	return !f.Suspect || c.Suspect()
}

// activeIn reports whether c had a session starting in [since, until).
func activeIn(c *analysis.Conversation, since, until time.Time) bool {
	return sessionsIn(c, since, until) > 0
}

// sessionsIn counts c's sessions that started in [since, until) (a zero
// bound is open).
func sessionsIn(c *analysis.Conversation, since, until time.Time) uint64 {
	var n uint64
	for _, h := range c.Hourly {
		if (since.IsZero() || !h.Start.Before(since)) && (until.IsZero() || h.Start.Before(until)) {
			n += h.Sessions
		}
	}
	return n
}

// Flow table columns.
// The figures a reader needs come first, so that they fit a 1280 px window
// without scrolling; a checked policy's verdict follows (check_flows.go: the
// first column reached by scrolling at 1280, in view at 1920, and in the
// details of the selected conversation), then tags and actions.
const (
	ColDirection = iota
	ColSource
	ColDestination
	ColProto
	ColPort
	ColService
	ColSessions
	ColBytes
	ColFirst
	ColLast
	ColVerdict
	ColTags
	ColActions
	numFlowCols
)

// flowHeaders are the flow table's column titles.
var flowHeaders = [numFlowCols]string{"Direction", "Source", "Destination", "Proto", "Port",
	"Service", "Sessions", "Bytes", "First seen", "Last seen", "Verdict", "Tags", "Actions"}

// flowSamples are the widest usual cell of each column: a column is as wide
// as this text or its header, whichever is wider (see columnWidths).
var flowSamples = [numFlowCols]string{"OUTBOUND", "10.10.0.40 (monitor-01)", "10.10.0.40 (monitor-01)", "ICMPv6", "65535",
	"HTTPS alternate", "1,234,567 ⚠", "999.9 MiB", "2025-04-07 10:15", "2025-04-07 10:15", "would block ⚠",
	"Discover-Traffic, App Isolation", "ALLOW, MONITOR, DROP"}

// sessionsInRange is the Sessions header while a time range is filtered.
const sessionsInRange = "Sessions in range"

// FlowCell renders column col of c; the verdict is not c's but a check's
// (the flows view fills it).
func FlowCell(c *analysis.Conversation, col int) string {
	switch col {
	case ColDirection:
		return c.Direction.String()
	case ColTags:
		return strings.Join(c.TagNames(), ", ")
	case ColSource:
		return withVM(c.Src, c.SrcVM)
	case ColDestination:
		return withVM(c.Dst, c.DstVM)
	case ColProto:
		return ingest.ProtoName(c.Proto)
	case ColPort:
		if c.Proto == ingest.ProtoTCP || c.Proto == ingest.ProtoUDP {
			return strconv.Itoa(int(c.DPort))
		}
		return ""
	case ColService:
		if s := analysis.ServiceName(c.Proto, c.DPort); s != "" {
			return s
		}
		return ""
	case ColSessions:
		s := analysis.Thousands(c.Sessions)
		if c.Suspect() {
			s += " ⚠"
		}
		return s
	case ColBytes:
		return export.HumanBytes(c.Bytes())
	case ColFirst:
		return whenMinute(c.First)
	case ColLast:
		return whenMinute(c.Last)
	case ColActions:
		parts := make([]string, len(c.Actions))
		for i, a := range c.Actions {
			parts[i] = a.String()
		}
		return strings.Join(parts, ", ")
	}
	return ""
}

func withVM(a netip.Addr, vm string) string {
	if vm == "" {
		return a.String()
	}
	return a.String() + " (" + vm + ")"
}

func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// whenMinute is when to the minute: the flow table's first and last seen,
// which must leave room for the other figures at 1280 px (the seconds are in
// the details pane).
func whenMinute(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// compareFlows orders two conversations by column col.
func compareFlows(a, b *analysis.Conversation, col int) int {
	switch col {
	case ColDirection:
		return cmp.Compare(a.Direction, b.Direction)
	case ColTags: // by name, without allocating: sorts call this 20 M times at 1 M rows
		return slices.CompareFunc(a.Tags, b.Tags, func(x, y analysis.Tag) int { return strings.Compare(x.Name, y.Name) })
	case ColSource:
		return a.Src.Compare(b.Src)
	case ColDestination:
		return a.Dst.Compare(b.Dst)
	case ColProto:
		return cmp.Compare(a.Proto, b.Proto)
	case ColPort, ColService:
		return cmp.Or(cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.DPort, b.DPort))
	case ColSessions:
		return cmp.Compare(a.Sessions, b.Sessions)
	case ColBytes:
		return cmp.Compare(a.Bytes(), b.Bytes())
	case ColFirst:
		return a.First.Compare(b.First)
	case ColLast:
		return a.Last.Compare(b.Last)
	case ColActions:
		return slices.Compare(a.Actions, b.Actions)
	}
	return 0
}

// FlowView is a filtered, sorted selection of conversations: indices into
// Convs. Building one is the slow part of a filter or a sort, so it happens
// off the UI goroutine; the table then only reads it.
type FlowView struct {
	Convs   []analysis.Conversation
	Rows    []int32
	Filter  FlowFilter
	SortCol int // -1: the workspace's order
	Desc    bool
	// Sessions is the rows' sessions: those that started in the filter's
	// time range when it has one (Filter.Timed), else all.
	Sessions uint64
}

// NewFlowView filters and sorts convs. search holds SearchText of every
// conversation (it may be nil when the filter's text has only addresses
// and ports). With a time range, Sessions sorts by the sessions in it.
func NewFlowView(convs []analysis.Conversation, search []string, f FlowFilter, sortCol int, desc bool) *FlowView {
	v := &FlowView{Convs: convs, Filter: f, SortCol: sortCol, Desc: desc}
	v.Rows = make([]int32, 0, len(convs))
	q := ParseText(f.Text)
	needText := q.needsText() && search != nil
	for i := range convs {
		text := ""
		if needText {
			text = search[i]
		}
		if c := &convs[i]; f.matchFields(c) && q.Match(c, text) && f.keepVerdict(i) {
			v.Rows = append(v.Rows, int32(i))
			v.Sessions += v.sessions(c)
		}
	}
	switch {
	case sortCol < 0:
	case sortCol == ColVerdict:
		sortByVerdict(v.Rows, &f, desc)
	case sortCol == ColSessions && f.Timed():
		sortByKeyFunc(v.Rows, convs, desc, v.sessions)
	case numericKey(sortCol):
		sortByKey(v.Rows, convs, sortCol, desc)
	default:
		// pdqsort with the row index as the last key: as stable as a stable
		// sort, and faster on a million rows with many equal keys.
		slices.SortFunc(v.Rows, func(i, j int32) int {
			c := compareFlows(&convs[i], &convs[j], sortCol)
			if desc {
				c = -c
			}
			return cmp.Or(c, cmp.Compare(i, j))
		})
	}
	return v
}

// numericKey says whether column col sorts by one number (flowKey).
func numericKey(col int) bool {
	switch col {
	case ColDirection, ColProto, ColPort, ColService, ColSessions, ColBytes, ColFirst, ColLast:
		return true
	}
	return false
}

// flowKey is c's sort key in a numeric column.
func flowKey(c *analysis.Conversation, col int) uint64 {
	switch col {
	case ColDirection:
		return uint64(c.Direction)
	case ColProto:
		return uint64(c.Proto)
	case ColPort, ColService:
		return uint64(c.Proto)<<16 | uint64(c.DPort)
	case ColSessions:
		return c.Sessions
	case ColBytes:
		return c.Bytes()
	case ColFirst:
		return timeKey(c.First)
	case ColLast:
		return timeKey(c.Last)
	}
	return 0
}

// timeKey orders times, the zero time first.
func timeKey(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.UnixNano()) ^ 1<<63
}

// sortByKey sorts rows by a numeric column through a compact slice of keys:
// a million conversations are too big to compare in place without cache
// misses (1.4 s; keyed: a tenth of that).
func sortByKey(rows []int32, convs []analysis.Conversation, col int, desc bool) {
	sortByKeyFunc(rows, convs, desc, func(c *analysis.Conversation) uint64 { return flowKey(c, col) })
}

// sortByKeyFunc is sortByKey with any key.
func sortByKeyFunc(rows []int32, convs []analysis.Conversation, desc bool, key func(*analysis.Conversation) uint64) {
	type kv struct {
		key uint64
		row int32
	}
	keys := make([]kv, len(rows))
	for i, r := range rows {
		keys[i] = kv{key(&convs[r]), r}
	}
	slices.SortFunc(keys, func(a, b kv) int {
		c := cmp.Compare(a.key, b.key)
		if desc {
			c = -c
		}
		return cmp.Or(c, cmp.Compare(a.row, b.row))
	})
	for i := range keys {
		rows[i] = keys[i].row
	}
}

// sessions is c's figure in the Sessions column: in the filter's time
// range when it has one.
func (v *FlowView) sessions(c *analysis.Conversation) uint64 {
	if v.Filter.Timed() {
		return sessionsIn(c, v.Filter.Since, v.Filter.Until)
	}
	return c.Sessions
}

// Cell renders column col of row i: FlowCell, with the sessions of the
// time range when the filter has one.
func (v *FlowView) Cell(i, col int) string {
	c := v.At(i)
	if col == ColSessions && v.Filter.Timed() {
		return analysis.Thousands(v.sessions(c))
	}
	return FlowCell(c, col)
}

// Find returns the row of conversation index conv, or -1.
func (v *FlowView) Find(conv int32) int { return slices.Index(v.Rows, conv) }

// Len returns the number of rows.
func (v *FlowView) Len() int { return len(v.Rows) }

// At returns the conversation of row i.
func (v *FlowView) At(i int) *analysis.Conversation { return &v.Convs[v.Rows[i]] }

// Selected returns the conversations of the view, in its order.
func (v *FlowView) Selected() []analysis.Conversation {
	out := make([]analysis.Conversation, len(v.Rows))
	for i, r := range v.Rows {
		out[i] = v.Convs[r]
	}
	return out
}
