package app

import (
	"fmt"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/ingest/printable"
)

// readinessLine is the Overview's answer to "was discovery long enough?",
// beside new conversations per day: rules synthesised from everything but
// the last day, replayed on the last day (rules.CheckReadiness). Tapping
// it shows the last day's new conversations in Flows.
//
// It is secondary to the figures around it and costs a second synthesis
// (8–11 s of CPU on a million conversations). Opening a workspace computes
// it after the Overview and before the rules (Project.Reload), the line
// saying so meanwhile (readinessComputing) with its button disabled: beside
// the rules it was the app's peak of memory. A snapshot without it (new
// knobs or edits) has it computed in the background.
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
const readinessComputing = "Readiness: computing — replaying the last day against rules from the days before…"

func newReadinessLine(sh *shell) *readinessLine {
	r := &readinessLine{sh: sh, label: widget.NewLabel(readinessComputing), compute: (*Project).readiness}
	r.label.Wrapping = fyne.TextWrapWord
	r.label.SizeName = theme.SizeNameCaptionText
	r.btn = widget.NewButton("Last day's new", r.tapped)
	r.btn.Importance = widget.LowImportance
	r.btn.Disable()
	r.content = container.NewBorder(nil, nil, nil, r.btn, r.label)
	return r
}

// update shows the readiness of s: the one Reload computed, or the one
// being computed before its rules, or else one it computes in the
// background (the latest request wins); on the UI goroutine.
func (r *readinessLine) update(s *Snapshot) {
	p := r.sh.Project()
	if p == nil {
		return
	}
	gen := r.gen.Add(1) // a readiness still computing is shown no more
	if s.Ready != nil {
		r.show(s.Ready)
		return
	}
	r.label.SetText(readinessComputing)
	r.btn.Disable()     // until the line says which day it would show
	if s.RulesPending { // Reload is computing it
		return
	}
	compute := r.compute
	r.sh.background(func() {
		rd := readied(p, s, compute)
		r.sh.do(func() {
			if r.gen.Load() == gen {
				r.show(rd)
			}
		})
	})
}

// show shows a readiness or its error; on the UI goroutine.
func (r *readinessLine) show(rd *Readied) {
	if r.onShown != nil {
		defer r.onShown()
	}
	if rd.Err != nil {
		r.last, r.cut = nil, time.Time{}
		r.label.SetText("Readiness: " + printable.Text(rd.Err.Error()))
		r.btn.Disable()
		return
	}
	r.last, r.cut = &rd.Res, rd.Res.Cut
	r.label.SetText(readinessText(&rd.Res))
	r.btn.Enable()
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
