package app

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/flowsleuth/flowsleuth/export"
)

// previewLines is how much of a body the preview shows.
const previewLines = 80

// exportView writes the rule base and the flows: XLSX, CSV, Nutanix Flow
// v3/v4 JSON, NSX Policy API JSON, with a preview of what goes where.
type exportView struct {
	u       *UI
	content fyne.CanvasObject

	dir      *widget.Entry
	targets  []*target
	policy   *widget.Entry
	category *widget.Entry
	apply    *widget.Check
	plan     *widget.Label
	which    *widget.Select
	preview  *widget.Label
	progress *widget.ProgressBarInfinite
	button   *widget.Button

	snap *Snapshot
	// onDone is called after an export, for tests.
	onDone func(written []string, err error)
}

// target is one output of the export form.
type target struct {
	check *widget.Check
	path  *widget.Entry
	name  string // file name in the export folder
	set   func(t *export.Targets, path string)
}

func newExportView(u *UI) *exportView {
	v := &exportView{u: u}
	v.dir = widget.NewEntry()
	v.dir.OnChanged = func(string) { v.retarget() }
	chooseDir := widget.NewButtonWithIcon("Choose…", theme.FolderOpenIcon(), v.chooseDir)
	mk := func(label, name string, on bool, set func(*export.Targets, string)) *target {
		t := &target{check: widget.NewCheck(label, func(bool) { v.updatePlan() }), path: widget.NewEntry(), name: name, set: set}
		t.check.SetChecked(on)
		t.path.OnChanged = func(string) { v.updatePlan() }
		return t
	}
	v.targets = []*target{
		mk("XLSX workbook (Rules, Flows, Summary with charts, Review, Sources)", "rules.xlsx", true, func(t *export.Targets, p string) { t.XLSX = p }),
		mk("CSV: rules.csv and flows.csv in this folder", "csv", false, func(t *export.Targets, p string) { t.CSVDir = p }),
		mk("Nutanix Flow policy, Prism Central v3 API", "nutanix-v3.json", false, func(t *export.Targets, p string) { t.NutanixV3 = p }),
		mk("Nutanix Flow policy, Prism Central v4 API (and extId mapping)", "nutanix-v4.json", false, func(t *export.Targets, p string) { t.NutanixV4 = p }),
		mk("NSX Policy API (PATCH /policy/api/v1/infra)", "nsx-policy.json", false, func(t *export.Targets, p string) { t.NSX = p }),
	}
	v.policy = widget.NewEntry()
	v.policy.SetText("FlowSleuth discovered policy")
	v.policy.OnChanged = func(string) { v.updatePlan() }
	v.category = widget.NewEntry()
	v.category.SetPlaceHolder(`secured workloads' category, "Key:Value" (empty: a placeholder to fill in)`)
	v.category.OnChanged = func(string) { v.updatePlan() }
	v.apply = widget.NewCheck("Enforce (Nutanix APPLY/ENFORCE, NSX rules enabled) instead of monitor", func(bool) { v.updatePlan() })

	form := container.NewVBox(
		widget.NewLabelWithStyle("Write to folder", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewBorder(nil, nil, nil, chooseDir, v.dir))
	for _, t := range v.targets {
		form.Add(t.check)
		form.Add(container.NewPadded(t.path))
	}
	form.Add(widget.NewSeparator())
	form.Add(widget.NewForm(widget.NewFormItem("Policy name", v.policy), widget.NewFormItem("Secured category", v.category)))
	form.Add(v.apply)
	v.progress = widget.NewProgressBarInfinite()
	v.progress.Stop()
	v.progress.Hide()
	v.button = widget.NewButtonWithIcon("Export", theme.DocumentSaveIcon(), v.run)
	v.button.Importance = widget.HighImportance

	v.plan = widget.NewLabel("")
	v.plan.Wrapping = fyne.TextWrapWord
	v.which = widget.NewSelect(nil, func(string) { v.showPreview() })
	var preview fyne.CanvasObject
	v.preview, preview = rawText()
	right := container.NewBorder(container.NewVBox(
		widget.NewLabelWithStyle("What will be written", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		v.plan, container.NewBorder(nil, nil, widget.NewLabel("Preview:"), nil, v.which)), nil, nil, nil, preview)
	left := container.NewBorder(nil, container.NewBorder(nil, nil, nil, v.button, v.progress), nil, nil, container.NewVScroll(form))
	split := container.NewHSplit(left, right)
	split.Offset = 0.45
	v.content = split
	return v
}

// defaultDir is where exports go unless the user chose elsewhere: a
// folder named after the workspace in ~/Documents/FlowSleuth (or
// ~/FlowSleuth without a Documents folder), where people look for files;
// never beside the workspace, which may be hidden (the demo's is under
// ~/.local/share).
func (v *exportView) defaultDir() string {
	if d := v.u.app.Preferences().String(prefExportDir); d != "" {
		return d
	}
	name := "export"
	if v.snap != nil {
		name = strings.TrimSuffix(filepath.Base(v.snap.Path), filepath.Ext(v.snap.Path))
	}
	return filepath.Join(exportRoot(), name)
}

// exportRoot is ~/Documents/FlowSleuth, or ~/FlowSleuth when the user has
// no Documents folder.
func exportRoot() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return "FlowSleuth"
	}
	if st, err := os.Stat(filepath.Join(home, "Documents")); err == nil && st.IsDir() {
		return filepath.Join(home, "Documents", "FlowSleuth")
	}
	return filepath.Join(home, "FlowSleuth")
}

func (v *exportView) show(s *Snapshot) {
	first := v.snap == nil
	v.snap = s
	if first || v.dir.Text == "" {
		v.dir.SetText(v.defaultDir()) // calls retarget
	}
	v.updatePlan()
}

// retarget puts every file in the chosen folder.
func (v *exportView) retarget() {
	for _, t := range v.targets {
		t.path.SetText(filepath.Join(v.dir.Text, t.name))
	}
	v.updatePlan()
}

func (v *exportView) chooseDir() {
	d := dialog.NewFolderOpen(func(l fyne.ListableURI, err error) {
		if err != nil || l == nil {
			v.u.showError(err)
			return
		}
		v.u.app.Preferences().SetString(prefExportDir, l.Path())
		v.dir.SetText(l.Path())
	}, v.u.win)
	if l, err := storage.ListerForURI(storage.NewFileURI(v.dir.Text)); err == nil {
		d.SetLocation(l)
	}
	d.Show()
}

// input is what the export writes, from the current snapshot and form.
func (v *exportView) input() (export.Targets, *export.Input) {
	var t export.Targets
	for _, tg := range v.targets {
		if tg.check.Checked && strings.TrimSpace(tg.path.Text) != "" {
			tg.set(&t, strings.TrimSpace(tg.path.Text))
		}
	}
	in := &export.Input{Rules: v.snap.Rules, Convs: v.snap.Convs, Sources: export.WorkspaceSources(v.snap.Sources),
		Vendor:   export.VendorOptions{PolicyName: v.policy.Text, SecuredCategory: strings.TrimSpace(v.category.Text), Apply: v.apply.Checked},
		Workbook: export.WorkbookOptions{Title: "FlowSleuth — " + filepath.Base(v.snap.Path), Generated: time.Now()}}
	return t, in
}

// updatePlan lists the files the export will write.
func (v *exportView) updatePlan() {
	if v.snap == nil {
		return
	}
	t, in := v.input()
	jobs := export.Plan(t, in)
	if v.snap.RulesPending {
		v.plan.SetText("Synthesising the rules…")
		v.button.Disable()
	} else if len(jobs) == 0 {
		v.plan.SetText("Nothing selected.")
		v.button.Disable()
	} else {
		var b strings.Builder
		fmt.Fprintf(&b, "%s, %s, %s, into:\n", plural(len(in.Rules.Rules), "rule"), plural(len(in.Rules.Review), "review item"),
			plural(len(in.Convs), "conversation"))
		for _, j := range jobs {
			note := ""
			if _, err := os.Stat(j.Path); err == nil {
				note = " (replaces the existing file)"
			}
			fmt.Fprintf(&b, "• %s — %s%s\n", j.Path, j.Kind, note)
		}
		v.plan.SetText(b.String())
		v.button.Enable()
	}
	var kinds []string
	for _, j := range jobs {
		if j.Kind != "XLSX workbook" {
			kinds = append(kinds, j.Kind)
		}
	}
	v.which.Options = kinds
	if !slices.Contains(kinds, v.which.Selected) {
		v.which.Selected = ""
		if len(kinds) > 0 {
			v.which.Selected = kinds[0]
		}
	}
	v.which.Refresh()
	v.showPreview()
}

// showPreview shows the first lines of the selected body.
func (v *exportView) showPreview() {
	if v.snap == nil {
		return
	}
	t, in := v.input()
	for _, j := range export.Plan(t, in) {
		if j.Kind != v.which.Selected {
			continue
		}
		var buf bytes.Buffer
		losses, err := j.Preview(&limitWriter{w: &buf, lines: previewLines})
		text := buf.String()
		if err != nil && !errors.Is(err, errPreviewFull) {
			text = "Error: " + err.Error()
		}
		for _, le := range losses {
			text = "Warning: " + le.Error() + "\n\n" + text
		}
		v.preview.SetText(text)
		return
	}
	v.preview.SetText("The workbook is binary: choose a text format to preview it.")
}

// errPreviewFull stops a preview once it has enough lines.
var errPreviewFull = errors.New("preview full")

// limitWriter keeps the first lines written to it.
type limitWriter struct {
	w     *bytes.Buffer
	lines int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	for i, c := range p {
		if c == '\n' {
			l.lines--
			if l.lines == 0 {
				l.w.Write(p[:i+1])
				l.w.WriteString("…\n")
				return i + 1, errPreviewFull
			}
		}
	}
	return l.w.Write(p)
}

// run writes the files in the background.
func (v *exportView) run() {
	if v.snap == nil {
		return
	}
	t, in := v.input()
	jobs := export.Plan(t, in)
	dir := strings.TrimSpace(v.dir.Text)
	v.button.Disable()
	v.progress.Show()
	v.progress.Start()
	v.u.background(func() {
		var written []string
		var losses export.Losses
		err := os.MkdirAll(dir, 0o755) // the chosen export folder
		for _, j := range jobs {
			if err != nil {
				break
			}
			v.u.setStatus("Writing " + j.Path + "…")
			var l export.Losses
			if l, err = j.Write(); err != nil {
				break
			}
			losses = append(losses, l...)
			written = append(written, j.Path)
		}
		v.u.do(func() {
			v.progress.Stop()
			v.progress.Hide()
			v.button.Enable()
			if v.onDone != nil {
				v.onDone(written, err)
			}
			if err != nil {
				v.u.showErrorNow(err)
				return
			}
			v.u.status.SetText(fmt.Sprintf("Exported %s to %s", plural(len(written), "file"), dir))
			v.showFinished(dir, written, losses.Messages())
			v.updatePlan()
		})
	})
}
