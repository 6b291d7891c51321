package app

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/flowsleuth/flowsleuth/app/inputs"
	"github.com/flowsleuth/flowsleuth/app/message"
	"github.com/flowsleuth/flowsleuth/export"
	"github.com/flowsleuth/flowsleuth/ingest/printable"
)

// previewLines is how much of a body the preview shows.
const previewLines = 80

// exportView writes the rule base and the flows: XLSX, CSV, Nutanix Flow
// v3/v4 JSON, NSX Policy API JSON, with a preview of what goes where.
type exportView struct {
	sh      *shell
	check   *checkView // its verdicts, when a policy is checked
	content fyne.CanvasObject

	dir      *widget.Entry
	targets  []*target
	policy   *widget.Entry
	category *widget.Entry
	apply    *widget.Check
	opts     exportOptions
	plan     *widget.Label
	which    *widget.Select
	previews []export.Kind // the kinds v.which offers, in its order
	preview  *widget.Label
	// previewSeq counts the previews asked for; a rendered preview lands
	// only when it is still the latest (UI goroutine).
	previewSeq uint64
	progress   *widget.ProgressBarInfinite
	button     *widget.Button

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

func newExportView(sh *shell, check *checkView) *exportView {
	v := &exportView{sh: sh, check: check}
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
	v.apply = widget.NewCheck("Enforce (Nutanix APPLY/ENFORCE, NSX boundary rule enabled) instead of monitor", func(bool) { v.updatePlan() })
	v.opts.build(v)

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
	form.Add(v.opts.form())
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
	if d := v.sh.app.Preferences().String(prefExportDir); d != "" {
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
			v.sh.showError(err)
			return
		}
		v.sh.app.Preferences().SetString(prefExportDir, l.Path())
		v.dir.SetText(l.Path())
	}, v.sh.win)
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
	in := &export.Input{Rules: v.snap.Rules, Sources: inputs.Workspace(v.snap.Sources),
		Vendor: export.VendorOptions{PolicyName: v.policy.Text, SecuredCategory: strings.TrimSpace(v.category.Text), Apply: v.apply.Checked},
		Workbook: export.WorkbookOptions{Title: "FlowSleuth — " + filepath.Base(v.snap.Path), Generated: time.Now(),
			WhatIf: v.check.whatIf(v.snap)}}
	v.opts.apply(&in.Vendor)
	if p := v.sh.Project(); p != nil && p.Path() == v.snap.Path {
		in.History = p.Workspace() // NSX exports delete what they no longer have
	}
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
	} else if err := v.opts.err(); err != nil {
		v.plan.SetText(printable.Text(err.Error()))
		v.button.Disable()
	} else {
		var b strings.Builder
		fmt.Fprintf(&b, "%s, %s, %s, into:\n", plural(len(in.Rules.Rules), "rule"), plural(len(in.Rules.Review), "review item"),
			plural(v.snap.Convs.Len(), "conversation"))
		for _, j := range jobs {
			note := ""
			if _, err := os.Stat(j.Path); err == nil {
				note = " (replaces the existing file)"
			}
			fmt.Fprintf(&b, "• %s — %s%s\n", j.Path, j.Kind, note)
		}
		v.plan.SetText(printable.Text(b.String())) // paths
		v.button.Enable()
	}
	v.previews, v.which.Options = nil, nil
	for _, j := range jobs {
		if j.Kind.Text() {
			v.previews = append(v.previews, j.Kind)
			v.which.Options = append(v.which.Options, j.Kind.String())
		}
	}
	if !slices.Contains(v.which.Options, v.which.Selected) {
		v.which.Selected = ""
		if len(v.which.Options) > 0 {
			v.which.Selected = v.which.Options[0]
		}
	}
	v.which.Refresh()
	v.showPreview()
}

// showPreview shows the first lines of the selected body. They are
// rendered in the background (a body may read the workspace's export
// history); "Preparing…" shows meanwhile, and only the latest preview
// asked for lands.
func (v *exportView) showPreview() {
	if v.snap == nil {
		return
	}
	v.previewSeq++
	job, ok := v.previewJob()
	if !ok {
		v.preview.SetText("The workbook is binary: choose a text format to preview it.")
		return
	}
	seq := v.previewSeq
	v.preview.SetText("Preparing the preview…")
	v.sh.background(func() {
		text := previewText(job)
		v.sh.do(func() {
			if seq == v.previewSeq {
				v.preview.SetText(printable.Text(text)) // the bodies quote log text
			}
		})
	})
}

// previewJob is the export job of the selected text format; false when
// none is selected.
func (v *exportView) previewJob() (export.Job, bool) {
	i := v.which.SelectedIndex()
	if i < 0 || i >= len(v.previews) {
		return export.Job{}, false
	}
	t, in := v.input()
	for _, j := range export.Plan(t, in) {
		if j.Kind == v.previews[i] {
			return j, true
		}
	}
	return export.Job{}, false
}

// previewText renders the first previewLines of j's body, with its losses
// as warnings above; off the UI goroutine.
func previewText(j export.Job) string {
	var buf bytes.Buffer
	losses, err := j.Preview(&limitWriter{w: &buf, lines: previewLines})
	text := buf.String()
	if err != nil && !errors.Is(err, errPreviewFull) {
		text = "Error: " + err.Error()
	}
	for _, le := range losses {
		text = "Warning: " + le.Error() + "\n\n" + text
	}
	return text
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
	dir := strings.TrimSpace(v.dir.Text)
	v.button.Disable()
	v.progress.Show()
	v.progress.Start()
	v.sh.background(func() {
		var res export.Result
		err := os.MkdirAll(dir, 0o755) // the chosen export folder
		if err == nil {
			res, err = export.Run(t, in, func(j export.Job, written bool) {
				if !written {
					v.sh.setStatus("Writing " + j.Path + "…")
				}
			})
		}
		v.sh.do(func() {
			v.progress.Stop()
			v.progress.Hide()
			v.button.Enable()
			if v.onDone != nil {
				v.onDone(res.Written, err)
			}
			if err != nil {
				v.sh.showErrorNow(err)
				return
			}
			v.sh.status.SetText(printable.Text(fmt.Sprintf("Exported %s to %s", plural(len(res.Written), "file"), dir)))
			showExportDone(v.sh, dir, res)
			v.updatePlan()
		})
	})
}

// exportOptions are the export view's fields for the application's scope
// (tier key and category: synthesis knobs) and the vendor bodies (NSX group
// mapping, sequence and application group; Nutanix categories and the
// policy to update), the files parsed when their names change.
type exportOptions struct {
	tierKey, appCategory             *widget.Entry
	nsxGroups, nsxSequence, appGroup *widget.Entry
	categories, update               *widget.Entry

	groups   map[string]string
	catIDs   map[string]string
	existing *export.ExistingPolicy
	errs     map[string]error // by field
}

func (o *exportOptions) build(v *exportView) {
	o.errs = map[string]error{}
	entry := func(hint string, changed func(string)) *widget.Entry {
		e := widget.NewEntry()
		e.SetPlaceHolder(hint)
		e.OnChanged = func(s string) {
			changed(strings.TrimSpace(s))
			v.updatePlan()
		}
		return e
	}
	o.tierKey = widget.NewEntry()
	o.tierKey.SetPlaceHolder("AppTier when the inventory has it")
	o.appCategory = widget.NewEntry()
	o.appCategory.SetPlaceHolder("Key:Value (default: the one every monitored VM shares)")
	o.tierKey.OnSubmitted = func(string) { o.resynthesise(v) }
	o.appCategory.OnSubmitted = func(string) { o.resynthesise(v) }
	o.nsxGroups = entry("CSV file with columns tag,path", func(s string) {
		o.groups, o.errs["nsx"] = readFileWith(s, func(b []byte) (map[string]string, error) { return export.ReadNSXGroups(bytes.NewReader(b)) })
	})
	o.nsxSequence = entry(strconv.Itoa(export.DefaultNSXSequence), func(s string) {
		o.errs["sequence"] = nil
		if n, err := strconv.Atoi(s); s != "" && (err != nil || n < 1 || n > 999999) {
			o.errs["sequence"] = fmt.Errorf("NSX policy sequence %q: want 1 to 999999", s)
		}
	})
	o.appGroup = entry("/infra/domains/default/groups/SGTSBOOKS (default: every tier group)", func(s string) {
		o.errs["group"] = nil
		if s != "" && !strings.HasPrefix(s, "/") {
			o.errs["group"] = fmt.Errorf("application group %q: want a group path", s)
		}
	})
	o.categories = entry("saved GET /api/prism/v4.x/config/categories", func(s string) {
		o.catIDs, o.errs["categories"] = readFileWith(s, export.ReadCategoryIDs)
	})
	o.update = entry("saved GET of the existing discovery policy (v3 or v4)", func(s string) {
		o.existing, o.errs["update"] = readFileWith(s, export.ReadExistingPolicy)
	})
}

// readFileWith parses the file named s, or returns the zero value for "".
func readFileWith[T any](s string, parse func([]byte) (T, error)) (T, error) {
	var zero T
	if s == "" {
		return zero, nil
	}
	b, err := os.ReadFile(s)
	if err != nil {
		return zero, err
	}
	v, err := parse(b)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", s, err)
	}
	return v, nil
}

// form lays the fields out.
func (o *exportOptions) form() fyne.CanvasObject {
	return container.NewVBox(
		widget.NewLabelWithStyle("Application (Enter re-synthesises the rules)", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		widget.NewForm(widget.NewFormItem("Tier key", o.tierKey), widget.NewFormItem("Application category", o.appCategory)),
		widget.NewLabelWithStyle("NSX", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		widget.NewForm(widget.NewFormItem("Group mapping", o.nsxGroups), widget.NewFormItem("Policy sequence", o.nsxSequence),
			widget.NewFormItem("Application group", o.appGroup)),
		widget.NewLabelWithStyle("Nutanix", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		widget.NewForm(widget.NewFormItem("Categories", o.categories), widget.NewFormItem("Update policy", o.update)))
}

// apply puts the vendor fields into the options.
func (o *exportOptions) apply(vo *export.VendorOptions) {
	vo.NSXGroups, vo.CategoryIDs, vo.Update = o.groups, o.catIDs, o.existing
	vo.AppGroup = strings.TrimSpace(o.appGroup.Text)
	vo.NSXSequence, _ = strconv.Atoi(strings.TrimSpace(o.nsxSequence.Text))
}

// err is the first problem of the fields, or nil.
func (o *exportOptions) err() error {
	for _, k := range []string{"nsx", "sequence", "group", "categories", "update"} {
		if o.errs[k] != nil {
			return o.errs[k]
		}
	}
	return nil
}

// resynthesise applies the tier key and application category to the rules.
func (o *exportOptions) resynthesise(v *exportView) {
	p := v.sh.Project()
	if p == nil || v.snap == nil {
		return
	}
	k := v.snap.Knobs
	k.TierKey, k.AppCategories = strings.TrimSpace(o.tierKey.Text), nil
	for _, c := range strings.Split(o.appCategory.Text, ",") {
		if c = strings.TrimSpace(c); c != "" {
			if key, val, ok := strings.Cut(c, ":"); !ok || key == "" || val == "" {
				v.sh.showErrorNow(message.New("Bad application category", fmt.Sprintf("The application category %q is not Key:Value.", c),
					"Write categories as Key:Value, separated by commas: AppType:Web, AppTier:DB."))
				return
			}
			k.AppCategories = append(k.AppCategories, c)
		}
	}
	v.plan.SetText("Synthesising the rules…")
	v.sh.background(func() {
		s, err := p.SetKnobs(v.sh.ctx, k)
		if s != nil {
			v.sh.do(func() { v.sh.showNewRules(s) })
		}
		v.sh.showError(err)
	})
}
