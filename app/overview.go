package app

import (
	"cmp"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/summary"
	"github.com/flowsleuth/flowsleuth/app/chart"
	"github.com/flowsleuth/flowsleuth/export"
	"github.com/flowsleuth/flowsleuth/ingest"
	"github.com/flowsleuth/flowsleuth/ingest/printable"
)

// chartTags is how many tags the traffic chart shows before "Other".
const chartTags = 12

// overviewDirs are the stacked series of the traffic chart; sessions of
// unknown direction (logs that do not say) get a series when there are any.
var overviewDirs = []ingest.Direction{ingest.DirInbound, ingest.DirOutbound, ingest.DirIntra, ingest.DirUnknown}

// overviewView is the dashboard: traffic per tag split by direction, the
// top services and peers of a tag, sessions per hour, new conversations per
// day, suspect traffic. Clicking a bar, slice or card filters the flows.
type overviewView struct {
	sh      *shell
	content fyne.CanvasObject

	cards    *fyne.Container
	tags     *chart.StackedBars
	tagSel   *widget.Select
	tagOpts  tagChoices
	services *chart.Donut
	peers    *chart.Donut
	hourly   *chart.TimeBars
	daily    *chart.TimeBars
	suspect  *widget.Button
	ready    *readinessLine // check_readiness.go
	svcTitle *widget.Label
	peerTitl *widget.Label

	snap *Snapshot
	// the rules card\'s labels
	rulesValue, rulesCaption *widget.Label
	// the time charts' first bucket and bucket length, to map taps to times
	hourStart, dayStart time.Time
	hourStep, dayStep   time.Duration
	tagRow              []string           // tag names of the chart's categories, in order
	dirs                []ingest.Direction // the chart's series
	peerTaps            []FlowFilter       // what tapping each peers slice shows
	tag                 string             // tag whose services and peers are shown ("" = all)
	picked              bool               // the user chose the tag
	settling            bool               // while show sets the tag select
}

func newOverviewView(sh *shell) *overviewView {
	v := &overviewView{sh: sh}
	v.cards = container.NewGridWithColumns(5)
	v.tags = chart.NewStackedBars()
	v.tags.Unit = "sessions"
	v.tags.TopN = chartTags
	v.tags.OnTapped = v.tappedTag
	v.tags.OnTappedCategory = func(cat int) { v.tappedTag(cat, -1) }
	v.services = chart.NewDonut()
	v.services.Unit = "sessions"
	v.services.OnTapped = v.tappedService
	v.peers = chart.NewDonut()
	v.peers.Unit = "sessions"
	v.peers.OnTapped = v.tappedPeer
	v.hourly = chart.NewTimeBars()
	v.hourly.Unit = "sessions"
	v.hourly.OnTapped = v.tappedHour
	v.daily = chart.NewTimeBars()
	v.daily.Unit = "new conversations"
	v.daily.OnTapped = v.tappedDay
	v.tagSel = widget.NewSelect(nil, func(s string) {
		if s == allTags {
			s = ""
		}
		s = v.tagOpts.tag(s)
		if !v.settling {
			v.picked = true
		}
		v.tag = s
		v.showTag()
	})
	v.svcTitle = widget.NewLabelWithStyle("Top services", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.peerTitl = widget.NewLabelWithStyle("Top peers", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.svcTitle.Truncation = fyne.TextTruncateEllipsis
	v.peerTitl.Truncation = fyne.TextTruncateEllipsis
	v.suspect = widget.NewButton("", func() { v.filter(FlowFilter{Suspect: true}) })
	v.ready = newReadinessLine(sh)

	tagsPanel := panel("Sessions per tag and direction — click a bar to see its flows", v.tags)
	donuts := container.NewGridWithColumns(2,
		container.NewBorder(v.svcTitle, nil, nil, nil, v.services),
		container.NewBorder(v.peerTitl, nil, nil, nil, v.peers))
	// The select takes the width it is given, so long tag names show whole.
	tagPanel := container.NewBorder(container.NewBorder(nil, nil, widget.NewLabel("Tag:"), nil, v.tagSel), nil, nil, nil, donuts)
	upper := container.NewGridWithColumns(2, tagsPanel, tagPanel)
	lower := container.NewGridWithColumns(2,
		panel("Sessions per hour — click a bar to see that hour's flows", v.hourly),
		panel("New conversations per day — does discovery flatten out?", container.NewBorder(nil, v.ready.content, nil, nil, v.daily)))
	grid := container.NewGridWithRows(2, upper, lower)
	v.content = container.NewBorder(container.NewVBox(v.cards), nil, nil, nil, grid)
	return v
}

const allTags = "All tags"

// panel is a chart with a bold title above it.
func panel(title string, c fyne.CanvasObject) fyne.CanvasObject {
	l := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.Truncation = fyne.TextTruncateEllipsis
	return container.NewBorder(l, nil, nil, nil, c)
}

// card is a figure with its caption.
func card(value, caption string) fyne.CanvasObject {
	o, _, _ := cardLabels(value, caption)
	return o
}

// cardLabels is card, with its labels for later updates.
func cardLabels(value, caption string) (fyne.CanvasObject, *widget.Label, *widget.Label) {
	v := widget.NewLabelWithStyle(value, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.SizeName = "subHeadingText"
	v.Truncation = fyne.TextTruncateEllipsis
	c := widget.NewLabel(caption)
	c.Truncation = fyne.TextTruncateEllipsis
	return container.NewVBox(v, c), v, c
}

// showRules updates the rules card.
func (v *overviewView) showRules(s *Snapshot) {
	if v.rulesValue == nil {
		return
	}
	if s.RulesPending {
		v.rulesValue.SetText("…")
		v.rulesCaption.SetText("rules: synthesising")
		v.ready.update(s)
		return
	}
	v.rulesValue.SetText(thousands(len(s.Rules.Rules)))
	v.rulesCaption.SetText(nounFor(uint64(len(s.Rules.Rules)), "rule") + " · " + thousands(len(s.Rules.Review)) + " to review")
	v.ready.update(s)
}

func (v *overviewView) show(s *Snapshot) {
	v.snap = s
	o := &s.Overview
	period := "no times"
	if !o.First.IsZero() {
		period = o.First.UTC().Format("2006-01-02") + " → " + o.Last.UTC().Format("2006-01-02")
	}
	v.suspect.SetText(plural(o.Suspect, "suspect conversation"))
	v.suspect.Importance = widget.LowImportance
	if o.Suspect > 0 {
		v.suspect.Importance = widget.WarningImportance
	}
	v.suspect.Refresh() // the importance shows only on a refresh
	v.cards.RemoveAll()
	v.cards.Add(card(thousands(o.Conversations), nounFor(uint64(o.Conversations), "conversation")))
	v.cards.Add(card(thousandsU(o.Sessions), nounFor(o.Sessions, "session")+" · "+export.HumanBytes(o.Bytes)))
	rules, value, caption := cardLabels("", "")
	v.rulesValue, v.rulesCaption = value, caption
	v.showRules(s)
	v.cards.Add(rules)
	v.cards.Add(card(period, plural(len(o.Tags), "tag")+" · "+plural(len(s.Sources), "source")))
	v.cards.Add(container.NewVBox(widget.NewLabel(" "), v.suspect))

	v.dirs = chartDirs(o)
	cats := make([]string, 0, len(o.Tags)+1)
	vals := make([][]float64, 0, len(o.Tags)+1)
	v.tagRow = v.tagRow[:0]
	for _, t := range o.Tags {
		cats = append(cats, t.Name)
		v.tagRow = append(v.tagRow, t.Name)
		vals = append(vals, dirValues(t.Sessions, v.dirs))
	}
	if u := o.Untagged; u[0]+u[1]+u[2]+u[3] > 0 {
		cats = append(cats, "(untagged)")
		v.tagRow = append(v.tagRow, "")
		vals = append(vals, dirValues(u, v.dirs))
	}
	series := make([]string, len(v.dirs))
	for i, d := range v.dirs {
		series[i] = dirLabel(d)
	}
	v.tags.SetData(cats, series, vals)

	tags := make([]string, len(o.Tags))
	for i, t := range o.Tags {
		tags[i] = t.Name
	}
	v.tagSel.Options = v.tagOpts.options(allTags, tags)
	if v.tag != "" && !slices.Contains(tags, v.tag) {
		v.tag = ""
	}
	if !v.picked && len(o.Tags) > 0 {
		v.tag = o.Tags[0].Name // the busiest tag, so both donuts show something
	}
	v.settling = true
	v.tagSel.SetSelected(cmp.Or(tagOption(v.tag), allTags)) // calls showTag
	v.settling = false

	v.hourStart, v.hourStep = v.setTime(v.hourly, o.Hourly, time.Hour, o.First, o.Last)
	v.dayStart, v.dayStep = v.setTime(v.daily, o.NewDaily, 24*time.Hour, o.First, o.Last)
}

func dirLabel(d ingest.Direction) string {
	switch d {
	case ingest.DirInbound:
		return "inbound"
	case ingest.DirOutbound:
		return "outbound"
	case ingest.DirIntra:
		return "intra"
	}
	return "unknown"
}

// chartDirs are the directions the traffic chart stacks: inbound, outbound
// and intra, and unknown when any sessions have it, so that each bar is
// its tag's whole traffic.
func chartDirs(o *summary.Overview) []ingest.Direction {
	unknown := o.Untagged[ingest.DirUnknown]
	for i := range o.Tags {
		unknown += o.Tags[i].Sessions[ingest.DirUnknown]
	}
	if unknown == 0 {
		return overviewDirs[:3]
	}
	return overviewDirs
}

func dirValues(s [4]uint64, dirs []ingest.Direction) []float64 {
	out := make([]float64, len(dirs))
	for i, d := range dirs {
		out[i] = float64(s[d])
	}
	return out
}

// maxBuckets bounds a time chart: a longer span is drawn in coarser buckets.
const maxBuckets = 2000

// timeSeries spreads sparse, time-ordered counts over buckets of step (or
// of a day, or a week, when the span needs more than maxBuckets), zeros
// where nothing happened. The buckets run from the earlier of from and the
// first count to the later of to and the last count: a period's quiet end
// shows as zeros (that is where discovery flattens out). Zero bounds are
// the counts' own.
func timeSeries(hs []analysis.Hour, step time.Duration, from, to time.Time) (time.Time, time.Duration, []float64) {
	if len(hs) == 0 {
		return time.Time{}, step, nil
	}
	start, end := hs[0].Start.UTC(), hs[len(hs)-1].Start.UTC()
	if !from.IsZero() && from.Before(start) {
		start = from.UTC()
	}
	if to.After(end) {
		end = to.UTC()
	}
	span := end.Sub(start)
	for _, s := range []time.Duration{24 * time.Hour, 7 * 24 * time.Hour} {
		if span/step < maxBuckets {
			break
		}
		step = max(step, s)
	}
	start = start.Truncate(step)
	n := min(int(end.Sub(start)/step)+1, maxBuckets)
	values := make([]float64, n)
	for _, h := range hs {
		if i := int(h.Start.Sub(start) / step); i >= 0 && i < n {
			values[i] += float64(h.Sessions)
		}
	}
	return start, step, values
}

// showTag fills the donuts with the selected tag's services and peers. The
// donuts add up to the tag's bar: what the top services and peers leave is
// "Other", and the peers donut has a slice for the sessions that have no
// outside peer (intra: both ends in the tag; unknown direction).
func (v *overviewView) showTag() {
	if v.snap == nil {
		return
	}
	o := &v.snap.Overview
	what := "all tags"
	if t := v.selectedTag(); t != nil {
		what = v.tag
		labels, values := countSeries(t.Services)
		v.services.SetDataTotal(labels, values, float64(t.Total()))
		labels, values = countSeries(t.Peers)
		v.peerTaps = v.peerTaps[:0]
		for _, p := range t.Peers {
			v.peerTaps = append(v.peerTaps, FlowFilter{Tag: v.tag, Peer: p.Peer})
		}
		for _, x := range []struct {
			label string
			dir   ingest.Direction
		}{{"intra", ingest.DirIntra}, {"unknown direction", ingest.DirUnknown}} {
			if n := t.Sessions[x.dir]; n > 0 {
				labels, values = append(labels, x.label), append(values, float64(n))
				v.peerTaps = append(v.peerTaps, FlowFilter{Tag: v.tag, Direction: x.dir, DirSet: true})
			}
		}
		v.peers.SetDataTotal(labels, values, float64(t.Total()))
		v.peerTitl.SetText("Peers — " + printable.Field(what))
	} else {
		labels, values := countSeries(o.Services)
		v.services.SetDataTotal(labels, values, float64(o.Sessions))
		v.peers.SetData(nil, nil)
		v.peerTitl.SetText("Peers — choose a tag")
	}
	v.svcTitle.SetText("Services — " + printable.Field(what))
}

// selectedTag returns the tag the donuts show, or nil for all tags.
func (v *overviewView) selectedTag() *summary.TagTraffic {
	if v.tag == "" {
		return nil
	}
	for i := range v.snap.Overview.Tags {
		if t := &v.snap.Overview.Tags[i]; t.Name == v.tag {
			return t
		}
	}
	return nil
}

func countSeries(cs []summary.Count) ([]string, []float64) {
	labels := make([]string, len(cs))
	values := make([]float64, len(cs))
	for i, c := range cs {
		labels[i], values[i] = c.Label, float64(c.Value)
	}
	return labels, values
}

// filter shows the flows f selects.
func (v *overviewView) filter(f FlowFilter) {
	v.sh.showFlows(f)
}

func (v *overviewView) tappedTag(cat, series int) {
	if cat < 0 || cat >= len(v.tagRow) {
		return // "Other"
	}
	f := FlowFilter{Tag: v.tagRow[cat]}
	if series >= 0 && series < len(v.dirs) {
		f.Direction, f.DirSet = v.dirs[series], true
	}
	if f.Tag == "" && !f.DirSet {
		return
	}
	v.filter(f)
}

func (v *overviewView) tappedService(i int) {
	if v.snap == nil {
		return
	}
	services := v.snap.Overview.Services
	if t := v.selectedTag(); t != nil {
		services = t.Services
	}
	if i < 0 || i >= len(services) {
		return // Other
	}
	v.filter(FlowFilter{Tag: v.tag, Proto: services[i].Proto, Service: true, Port: services[i].Port})
}

// tappedPeer filters on a peer, or on the tag's intra or unknown traffic.
func (v *overviewView) tappedPeer(i int) {
	if i >= 0 && i < len(v.peerTaps) {
		v.filter(v.peerTaps[i])
	}
}

// setTime fills a time chart.
func (v *overviewView) setTime(c *chart.TimeBars, hs []analysis.Hour, step time.Duration, from, to time.Time) (time.Time, time.Duration) {
	start, step, values := timeSeries(hs, step, from, to)
	c.SetData(start, step, values)
	return start, step
}

func (v *overviewView) tappedHour(i int) {
	if v.snap == nil || i < 0 {
		return
	}
	h := v.hourStart.Add(time.Duration(i) * v.hourStep)
	v.filter(FlowFilter{Since: h, Until: h.Add(v.hourStep)})
}

func (v *overviewView) tappedDay(i int) {
	if v.snap == nil || i < 0 {
		return
	}
	d := v.dayStart.Add(time.Duration(i) * v.dayStep)
	v.filter(FlowFilter{NewSince: d, NewUntil: d.Add(v.dayStep)})
}
