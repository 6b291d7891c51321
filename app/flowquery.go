package app

import (
	"net/netip"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/policy"
	"github.com/flowsleuth/flowsleuth/analysis/radix"
	"github.com/flowsleuth/flowsleuth/analysis/services"
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
	// says it of each conversation, by index (flowsView.verdictFunc).
	Verdict  string
	Verdicts func(i int) (verdict string, breaks bool)
}

// Chip is one active filter as the flow table shows it: a label for
// people (log text: print it with printable.Field) and what removing it
// does to the filter.
type Chip struct {
	Label string
	Clear func(*FlowFilter)
}

// Chips lists the active filters, one per field, in the order the flow
// table shows them.
func (f FlowFilter) Chips() []Chip {
	var out []Chip
	add := func(label string, clear func(*FlowFilter)) { out = append(out, Chip{label, clear}) }
	if f.Text != "" {
		add(`"`+f.Text+`"`, func(f *FlowFilter) { f.Text = "" })
	}
	if f.Tag != "" {
		add("tag "+f.Tag, func(f *FlowFilter) { f.Tag = "" })
	}
	if f.DirSet {
		add(strings.ToLower(f.Direction.String()), func(f *FlowFilter) { f.DirSet = false })
	}
	if f.Action != "" {
		add(f.Action, func(f *FlowFilter) { f.Action = "" })
	}
	if f.Proto != 0 {
		label := ingest.ProtoName(f.Proto)
		if f.Service {
			label = services.Label(f.Proto, f.Port)
		}
		add(label, func(f *FlowFilter) { f.Proto, f.Service, f.Port = 0, false, 0 })
	}
	if f.Peer.IsValid() {
		add("peer "+f.Peer.String(), func(f *FlowFilter) { f.Peer = netip.Addr{} })
	}
	if !f.Since.IsZero() || !f.Until.IsZero() {
		add(timeRange(f.Since, f.Until), func(f *FlowFilter) { f.Since, f.Until = time.Time{}, time.Time{} })
	}
	if !f.NewSince.IsZero() {
		add("new "+timeRange(f.NewSince, f.NewUntil), func(f *FlowFilter) { f.NewSince, f.NewUntil = time.Time{}, time.Time{} })
	}
	if f.Suspect {
		add("suspect", func(f *FlowFilter) { f.Suspect = false })
	}
	if f.Verdict != "" {
		add("verdict "+f.Verdict, func(f *FlowFilter) { f.Verdict = "" })
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

// compileFilter returns the test of f on the rows of t. What f asks of
// interned lists (tags, verdicts, VM names, hosts, services) is answered
// once per list, so each row costs a few lookups: a million rows in tens
// of milliseconds.
func compileFilter(t *analysis.Table, f *FlowFilter) func(i int) bool {
	var tagOK, actOK []bool
	if f.Tag != "" {
		tagOK = setTest(t.TagSets(), func(n int) bool {
			return slices.ContainsFunc(t.TagSetOf(n), func(tg analysis.Tag) bool {
				return tg.Name == f.Tag && (!f.DirSet || tg.Direction == f.Direction)
			})
		})
	}
	if f.Action != "" {
		actOK = setTest(t.ActionSets(), func(n int) bool {
			return slices.ContainsFunc(t.ActionSetOf(n), func(a ingest.Action) bool { return a.String() == f.Action })
		})
	}
	rf := &rowFilter{t: t, f: f, tagOK: tagOK, actOK: actOK, text: ParseText(f.Text).compile(t), timed: f.Timed()}
	if !f.NewSince.IsZero() {
		rf.newSince = f.NewSince.UnixNano()
	}
	if !f.NewUntil.IsZero() {
		rf.newUntil = f.NewUntil.UnixNano()
	}
	return rf.keep
}

// rowFilter is a FlowFilter compiled for the rows of a table.
type rowFilter struct {
	t                  *analysis.Table
	f                  *FlowFilter
	tagOK, actOK       []bool // per interned tag and action list; nil: any
	text               func(i int) bool
	timed              bool
	newSince, newUntil int64 // first seen in [newSince, newUntil); 0: open
}

// keep reports whether row i passes the filter.
func (rf *rowFilter) keep(i int) bool {
	return rf.keepLists(i) && rf.keepKey(i) && rf.keepTimes(i) && (!rf.f.Suspect || rf.t.Suspect(i)) &&
		rf.text(i) && rf.f.keepVerdict(i)
}

// keepLists reports whether row i has the filter's tag (and direction)
// and action.
func (rf *rowFilter) keepLists(i int) bool {
	t, f := rf.t, rf.f
	switch {
	case rf.tagOK != nil && !rf.tagOK[t.TagSet(i)]:
		return false
	case f.Tag == "" && f.DirSet && t.Direction(i) != f.Direction:
		return false
	}
	return rf.actOK == nil || rf.actOK[t.ActionSet(i)]
}

// keepKey reports whether row i has the filter's service and peer.
func (rf *rowFilter) keepKey(i int) bool {
	t, f := rf.t, rf.f
	if f.Proto != 0 && (t.Proto(i) != f.Proto || f.Service && t.ServicePort(i) != f.Port) {
		return false
	}
	return !f.Peer.IsValid() || t.Src(i) == f.Peer || t.Dst(i) == f.Peer
}

// keepTimes reports whether row i has sessions in the filter's time range
// and was first seen in its "new" range.
func (rf *rowFilter) keepTimes(i int) bool {
	t := rf.t
	if rf.timed && sessionsIn(t, i, rf.f.Since, rf.f.Until) == 0 {
		return false
	}
	first := t.FirstNano(i)
	return rf.newSince == 0 || first >= rf.newSince && (rf.newUntil == 0 || first < rf.newUntil)
}

// sessionsIn counts the sessions of row i of t that started in [since,
// until) (a zero bound is open).
func sessionsIn(t *analysis.Table, i int, since, until time.Time) uint64 {
	var n uint64
	for _, h := range t.HourCounts(i) {
		start := time.Unix(int64(h.Hour)*3600, 0)
		if (since.IsZero() || !start.Before(since)) && (until.IsZero() || start.Before(until)) {
			n += uint64(h.N)
		}
	}
	return n
}

// Flow table columns.
// The figures a reader needs come first, so that they fit a 1280 px window
// without scrolling; a checked policy's verdict follows (flows.go: the
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

// tagNames lists the names of tags for people: "SGTSWEB, SGTSDB".
func tagNames(tags []analysis.Tag) string {
	names := make([]string, len(tags))
	for j, tg := range tags {
		names[j] = tg.Name
	}
	return strings.Join(names, ", ")
}

// FlowCell renders column col of row i of t; the verdict is not the row's
// but a check's (the flows view fills it).
func FlowCell(t *analysis.Table, i, col int) string {
	switch col {
	case ColDirection:
		return t.Direction(i).String()
	case ColTags:
		return tagNames(t.Tags(i))
	case ColSource:
		return withVM(t.Src(i), t.SrcVM(i).VM)
	case ColDestination:
		return withVM(t.Dst(i), t.DstVM(i).VM)
	case ColProto:
		return ingest.ProtoName(t.Proto(i))
	case ColPort:
		return portCell(t, i)
	case ColService:
		return services.Name(t.Proto(i), t.DPort(i))
	case ColSessions:
		return sessionsCell(t, i)
	case ColBytes:
		return export.HumanBytes(t.Bytes(i))
	case ColFirst:
		return whenMinute(t.First(i))
	case ColLast:
		return whenMinute(t.Last(i))
	case ColActions:
		return actionsCell(t, i)
	}
	return ""
}

// portCell is row i's destination port, for the protocols that have ports.
func portCell(t *analysis.Table, i int) string {
	if t.Proto(i) == ingest.ProtoTCP || t.Proto(i) == ingest.ProtoUDP {
		return strconv.Itoa(int(t.DPort(i)))
	}
	return ""
}

// sessionsCell is row i's session count, marked when the count is suspect.
func sessionsCell(t *analysis.Table, i int) string {
	s := analysis.Thousands(t.Sessions(i))
	if t.Suspect(i) {
		s += " ⚠"
	}
	return s
}

// actionsCell lists the actions seen on row i, in the table's order.
func actionsCell(t *analysis.Table, i int) string {
	actions := t.Actions(i)
	parts := make([]string, len(actions))
	for j, a := range actions {
		parts[j] = a.String()
	}
	return strings.Join(parts, ", ")
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

// FlowView is a filtered, sorted selection of conversations: rows of
// Convs. Building one is the slow part of a filter or a sort, so it happens
// off the UI goroutine; the table then only reads it.
type FlowView struct {
	Convs   *analysis.Table
	Rows    []int32
	Filter  FlowFilter
	SortCol int // -1: the workspace's order
	Desc    bool
	// Sessions is the rows' sessions: those that started in the filter's
	// time range when it has one (Filter.Timed), else all.
	Sessions uint64
}

// NewFlowView filters and sorts the rows of t. The filter is compiled
// against the table first (rowFilter), so each row costs a few lookups;
// a sort orders precomputed keys. With a time range, Sessions sorts by the
// sessions in it.
func NewFlowView(t *analysis.Table, f FlowFilter, sortCol int, desc bool) *FlowView {
	return newFlowViewOn(t, f, sortCol, desc, max(1, min(runtime.GOMAXPROCS(0), t.Len()/minSortPart)))
}

// newFlowViewOn is NewFlowView on parts goroutines: each filters a part of
// the rows with a filter of its own (a compiled filter caches what it
// learns), the rows each keeps are moved up to those of the parts before,
// and the sort runs on as many.
func newFlowViewOn(t *analysis.Table, f FlowFilter, sortCol int, desc bool, parts int) *FlowView {
	v := &FlowView{Convs: t, Filter: f, SortCol: sortCol, Desc: desc}
	n := t.Len()
	rows, kept, sessions := make([]int32, n), make([]int, parts), make([]uint64, parts)
	inParts(n, parts, func(p, from, to int) {
		match := compileFilter(t, &f)
		k := from
		for i := from; i < to; i++ {
			if match(i) {
				rows[k] = int32(i)
				k++
				sessions[p] += v.sessions(i)
			}
		}
		kept[p] = k - from
	})
	at := 0
	for p := range parts {
		from := p * n / parts
		at += copy(rows[at:], rows[from:from+kept[p]])
		v.Sessions += sessions[p]
	}
	v.Rows = rows[:at]
	if sortCol >= 0 {
		sortFlowsOn(v.Rows, flowKeys(t, &f, sortCol), desc, parts)
	}
	return v
}

// orderCache keeps the last view of all of a table's rows sorted by a
// column whose keys are the rows' own (not a filter's time range or a
// check's verdicts): clearing the filter of a sorted view, or sorting by
// that column again, then takes its rows instead of sorting a million
// again. Views never change their rows, so the cache shares them. Safe
// for concurrent use.
type orderCache struct{ last atomic.Pointer[FlowView] }

// view is NewFlowView, with the cache's rows when they are the answer.
func (c *orderCache) view(t *analysis.Table, f FlowFilter, sortCol int, desc bool) *FlowView {
	whole := sortCol >= 0 && sortCol != ColVerdict && f.Verdict == "" && len(f.Chips()) == 0
	if o := c.last.Load(); whole && o != nil && o.Convs == t && o.SortCol == sortCol && o.Desc == desc {
		return &FlowView{Convs: t, Rows: o.Rows, Filter: f, SortCol: sortCol, Desc: desc, Sessions: o.Sessions}
	}
	v := NewFlowView(t, f, sortCol, desc)
	if whole {
		c.last.Store(v)
	}
	return v
}

// sortKey is a row's key in a column: compared a, then b, then c.
type sortKey struct{ a, b, c uint64 }

// flowKeys returns the key of each row of t in column col (an address is
// its family and its two halves; tags and actions the rank of their list).
func flowKeys(t *analysis.Table, f *FlowFilter, col int) func(i int) sortKey {
	switch col {
	case ColSource, ColDestination:
		ip := t.SrcIP
		if col == ColDestination {
			ip = t.DstIP
		}
		return func(i int) sortKey {
			hi, lo, is4 := ip(i)
			fam := uint64(1)
			if is4 {
				fam = 0 // IPv4 first, as netip.Addr.Compare
			}
			return sortKey{fam, hi, lo}
		}
	case ColTags:
		rank := ranks(t.TagSets(), func(a, b int) int {
			return slices.CompareFunc(t.TagSetOf(a), t.TagSetOf(b), func(x, y analysis.Tag) int { return strings.Compare(x.Name, y.Name) })
		})
		return func(i int) sortKey { return sortKey{a: rank[t.TagSet(i)]} }
	case ColActions:
		rank := ranks(t.ActionSets(), func(a, b int) int { return slices.Compare(t.ActionSetOf(a), t.ActionSetOf(b)) })
		return func(i int) sortKey { return sortKey{a: rank[t.ActionSet(i)]} }
	case ColVerdict:
		return func(i int) sortKey { return sortKey{a: uint64(verdictRank(f, i))} }
	case ColSessions:
		if f.Timed() {
			return func(i int) sortKey { return sortKey{a: sessionsIn(t, i, f.Since, f.Until)} }
		}
	}
	return func(i int) sortKey { return sortKey{a: flowKey(t, i, col)} }
}

// ranks returns the rank of each of n lists in the order cmp gives them
// (equal lists have equal ranks).
func ranks(n int, cmp func(a, b int) int) []uint64 {
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, cmp)
	out := make([]uint64, n)
	for k, i := range order {
		if k > 0 && cmp(order[k-1], i) != 0 {
			out[i] = out[order[k-1]] + 1
		} else if k > 0 {
			out[i] = out[order[k-1]]
		}
	}
	return out
}

// flowKey is row i's key in a numeric column.
func flowKey(t *analysis.Table, i, col int) uint64 {
	switch col {
	case ColDirection:
		return uint64(t.Direction(i))
	case ColProto:
		return uint64(t.Proto(i))
	case ColPort, ColService:
		return uint64(t.Proto(i))<<16 | uint64(t.DPort(i))
	case ColSessions:
		return t.Sessions(i)
	case ColBytes:
		return t.Bytes(i)
	case ColFirst:
		return timeKey(t.FirstNano(i))
	case ColLast:
		return timeKey(t.LastNano(i))
	}
	return 0
}

// timeKey orders times in unix nanoseconds, the unknown time (0) first.
func timeKey(ns int64) uint64 {
	if ns == 0 {
		return 0
	}
	return uint64(ns) ^ 1<<63
}

// sortFlowsOn sorts rows by their keys, ties in row order (as a stable
// sort of rows in ascending order would), on parts goroutines: the sort of
// a million rows is asked for while the readiness line's synthesis keeps
// every core busy, and one goroutine got a third of them. It is a radix
// sort, word by word from the least significant of the key's words that
// vary among the rows, byte by byte within a word (bytes all rows share are
// skipped): a million rows in tens of milliseconds, with 20 MB of buffers.
// key must be safe for concurrent use.
func sortFlowsOn(rows []int32, key func(i int) sortKey, desc bool, parts int) {
	if len(rows) < 2 {
		return
	}
	words := [3]func(k sortKey) uint64{
		func(k sortKey) uint64 { return k.a }, func(k sortKey) uint64 { return k.b }, func(k sortKey) uint64 { return k.c }}
	keys, keys2 := make([]uint64, len(rows)), make([]uint64, len(rows))
	rows2 := make([]int32, len(rows))
	vary := firstKeys(rows, key, keys, keys2, parts)
	moved := false // rows no longer in the order the kept words are in
	for w := 2; w >= 0; w-- {
		if !vary[w] {
			continue
		}
		if w == 2 {
			keys, keys2 = keys2, keys
		}
		ask := w == 1 || (w == 0 && moved)
		inParts(len(rows), parts, func(_, from, to int) {
			for j, r := range rows[from:to] {
				if ask {
					keys[from+j] = words[w](key(int(r)))
				}
				if desc {
					keys[from+j] = ^keys[from+j]
				}
			}
		})
		radix.SortParallel(keys, rows, keys2, rows2, parts)
		moved = true
	}
}

// firstKeys is the pass that finds which words of the rows' keys vary; it
// keeps the first word in keys and the last in last, so that a key of one
// varying word (most columns: the first; addresses: the last) is not asked
// for again.
func firstKeys(rows []int32, key func(i int) sortKey, keys, last []uint64, parts int) (vary [3]bool) {
	first := key(int(rows[0]))
	varies := make([][3]bool, parts)
	inParts(len(rows), parts, func(p, from, to int) {
		v := &varies[p]
		for j, r := range rows[from:to] {
			k := key(int(r))
			keys[from+j], last[from+j] = k.a, k.c
			v[0], v[1], v[2] = v[0] || k.a != first.a, v[1] || k.b != first.b, v[2] || k.c != first.c
		}
	})
	for _, v := range varies {
		vary[0], vary[1], vary[2] = vary[0] || v[0], vary[1] || v[1], vary[2] || v[2]
	}
	return vary
}

// minSortPart is the fewest rows NewFlowView gives a goroutine.
const minSortPart = 1 << 15

// inParts calls fn with each of parts consecutive ranges of [0, n), each
// on a goroutine but the last, and returns when all have returned.
func inParts(n, parts int, fn func(p, from, to int)) {
	var wg sync.WaitGroup
	for p := range parts - 1 {
		wg.Go(func() { fn(p, p*n/parts, (p+1)*n/parts) })
	}
	fn(parts-1, (parts-1)*n/parts, n)
	wg.Wait()
}

// sessions is row i's figure in the Sessions column: in the filter's time
// range when it has one.
func (v *FlowView) sessions(i int) uint64 {
	if v.Filter.Timed() {
		return sessionsIn(v.Convs, i, v.Filter.Since, v.Filter.Until)
	}
	return v.Convs.Sessions(i)
}

// Cell renders column col of row i: FlowCell, with the sessions of the
// time range when the filter has one.
func (v *FlowView) Cell(i, col int) string {
	if col == ColSessions && v.Filter.Timed() {
		return analysis.Thousands(v.sessions(int(v.Rows[i])))
	}
	return FlowCell(v.Convs, int(v.Rows[i]), col)
}

// Len returns the number of rows.
func (v *FlowView) Len() int { return len(v.Rows) }

// verdictBreaks is the filter value of the conversations a policy would
// break: blocked or would block, outside review.
const verdictBreaks = "would break"

// verdictChoices are the verdict select's options.
var verdictChoices = []string{"Any verdict", policy.Allowed.String(), policy.WouldBlock.String(), policy.Blocked.String(), verdictBreaks}

// keepVerdict reports whether conversation i passes the verdict filter.
func (f *FlowFilter) keepVerdict(i int) bool {
	if f.Verdict == "" {
		return true
	}
	if f.Verdicts == nil {
		return false
	}
	verdict, breaks := f.Verdicts(i)
	if f.Verdict == verdictBreaks {
		return breaks
	}
	return verdict == f.Verdict
}

// verdictRank orders conversation i by its verdict: allowed, would block,
// blocked, what would break last.
func verdictRank(f *FlowFilter, i int) int {
	if f.Verdicts == nil {
		return 0
	}
	verdict, breaks := f.Verdicts(i)
	r := slices.Index(verdictChoices, verdict)
	if breaks {
		r = len(verdictChoices)
	}
	return r
}
