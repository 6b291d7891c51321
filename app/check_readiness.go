package app

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/ingest/printable"
)

// readinessHoldout is how much of the observations the Overview holds out.
const readinessHoldout = 24 * time.Hour

// readinessLine is the Overview's answer to "was discovery long enough?",
// beside new conversations per day: rules synthesised from everything but
// the last day, replayed on the last day (rules.CheckReadiness). Tapping
// it shows the last day's new conversations in Flows.
//
// It is secondary to the figures around it and costs a second synthesis
// (8–11 s of CPU on a million conversations): it is computed in the
// background once the rules are shown, the Overview showing meanwhile what
// it waits for (readinessWaiting, then readinessComputing) with its button
// disabled, and the line filling in when done.
type readinessLine struct {
	sh      *shell
	label   *widget.Label
	btn     *widget.Button
	content fyne.CanvasObject
	gen     atomic.Int64
	cut     time.Time // UI goroutine only
	// last is the latest readiness shown, without its Held table, for tests
	// (UI goroutine only).
	last *rules.Readiness
	// compute is readiness, but in tests.
	compute func(p *Project, s *Snapshot) (rules.Readiness, error)
	// onShown, when set, is called (on the UI goroutine) each time the
	// line shows a readiness or its error (probe.go).
	onShown func()
}

// What the readiness line shows until it is computed.
const (
	readinessWaiting   = "Readiness: waiting for the rules…"
	readinessComputing = "Readiness: computing — replaying the last day against rules from the days before…"
)

func newReadinessLine(sh *shell) *readinessLine {
	r := &readinessLine{sh: sh, label: widget.NewLabel(readinessWaiting), compute: readiness}
	r.label.Wrapping = fyne.TextWrapWord
	r.label.SizeName = theme.SizeNameCaptionText
	r.btn = widget.NewButton("Last day's new", r.tapped)
	r.btn.Importance = widget.LowImportance
	r.btn.Disable()
	r.content = container.NewBorder(nil, nil, nil, r.btn, r.label)
	return r
}

// update recomputes the readiness of s in the background (the latest
// request wins), or waits for its rules; on the UI goroutine.
func (r *readinessLine) update(s *Snapshot) {
	p := r.sh.Project()
	if p == nil {
		return
	}
	gen := r.gen.Add(1) // a readiness still computing is shown no more
	if s.RulesPending {
		r.label.SetText(readinessWaiting)
		r.btn.Disable()
		return
	}
	r.label.SetText(readinessComputing)
	r.btn.Disable() // until the line says which day it would show
	compute := r.compute
	r.sh.background(func() {
		// The second synthesis is the app's peak of memory, beside the
		// table and the first rules: what the load and the first synthesis
		// left free goes back to the system first, rather than stay
		// resident beside it (wstag1m: 644–655 MB peak against 682–717),
		// and what this one leaves, after.
		debug.FreeOSMemory()
		defer debug.FreeOSMemory()
		release := tightMemory()
		res, err := compute(p, s)
		release()
		// The line shows figures, and tapping it filters the snapshot's
		// table: the held-out window (28 bytes for each conversation of the
		// last day) is let go now, not kept beside the table.
		res.Held = nil
		r.sh.do(func() {
			if r.gen.Load() != gen {
				return
			}
			if r.onShown != nil {
				defer r.onShown()
			}
			if err != nil {
				r.last, r.cut = nil, time.Time{}
				r.label.SetText("Readiness: " + printable.Text(err.Error()))
				r.btn.Disable()
				return
			}
			r.last, r.cut = &res, res.Cut
			r.label.SetText(readinessText(&res))
			r.btn.Enable()
		})
	})
}

// readiness computes the hold-out of the last day with the workspace's
// exclusions and edits.
func readiness(p *Project, s *Snapshot) (rules.Readiness, error) {
	cut, err := rules.HoldoutCut(s.Convs, readinessHoldout)
	if err != nil {
		return rules.Readiness{}, err
	}
	k, edits, err := p.Workspace().Knobs(context.Background(), s.Knobs)
	if err != nil {
		return rules.Readiness{}, err
	}
	// The replay asks only what each rule admits: the lean synthesis, with
	// the edits replayed as Workspace.Synthesize replays them, makes the same
	// rules without what people read of them (the whole readiness of
	// wstag1m, one run each at load 8–11: 11.5 s instead of 15.6 s, 785 MB
	// allocated instead of 885; the same figures).
	return rules.CheckReadiness(s.Convs, cut, k, func(before *analysis.Table) (rules.Set, error) {
		rs, _ := rules.ApplyEdits(rules.SynthesizeMembers(before, k), edits)
		return rs, nil
	})
}

// readinessText is the line for people.
func readinessText(r *rules.Readiness) string {
	return fmt.Sprintf("Readiness: rules from before the last day would have blocked %s of its %s (%.1f%%) · "+
		"%s new on the last day · last new legitimate conversation %.1f days before the end",
		thousands(len(r.Blocked)), plural(r.Assessed(), "conversation"), 100*r.BlockedShare(), thousands(len(r.Novel)), r.DaysSinceNew())
}

// tapped shows the held-out day's new conversations in Flows.
func (r *readinessLine) tapped() {
	if r.cut.IsZero() {
		return
	}
	r.sh.showFlows(FlowFilter{NewSince: r.cut})
}
