package export

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/flowsleuth/flowsleuth/analysis/rules"
)

// Targets says which files an export writes; an empty path writes nothing.
type Targets struct {
	XLSX      string // workbook
	CSVDir    string // rules.csv, flows.csv and review.csv in this directory
	NutanixV3 string // Prism Central v3 network_security_rule body
	NutanixV4 string // Prism Central v4 NetworkSecurityPolicy body (and PATH.extids.csv, PATH.update.txt for an update)
	NSX       string // NSX Policy API hierarchical body
}

// Input is what an export writes from.
type Input struct {
	Rules    rules.Set // its Table holds the conversations
	Sources  []Source
	Vendor   VendorOptions
	Workbook WorkbookOptions
	// History remembers what NSX exports wrote (the workspace), so that a
	// new export deletes the rules it no longer has; nil remembers nothing.
	History History
}

// History keeps the ids each export wrote, by target and policy
// (*workspace.Workspace implements it).
type History interface {
	Exported(ctx context.Context, target, policy string) ([]string, error)
	RecordExport(ctx context.Context, target, policy string, ids []string) error
}

// Kind is what a Job writes. Compare kinds, not their names: String is
// for people.
type Kind int

// The kinds of file an export writes, in Plan's order.
const (
	KindWorkbook        Kind = iota // the XLSX workbook
	KindRulesCSV                    // rules.csv
	KindFlowsCSV                    // flows.csv
	KindReviewCSV                   // review.csv
	KindNutanixV3                   // Prism Central v3 body
	KindNutanixV4                   // Prism Central v4 body
	KindNutanixV4ExtIDs             // the v4 placeholders to fill
	KindNutanixV4Update             // the v4 update's request headers
	KindNSX                         // NSX Policy API body
)

var kindNames = [...]string{"XLSX workbook", "rules CSV", "flows CSV", "review CSV", "Nutanix Flow v3 JSON",
	"Nutanix Flow v4 JSON", "Nutanix v4 extId mapping", "Nutanix v4 update headers", "NSX Policy API JSON"}

// String names the kind for people: "XLSX workbook".
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return kindNames[k]
}

// Text reports whether the kind's files are text, which a preview shows.
func (k Kind) Text() bool { return k != KindWorkbook }

// Job is one file of an export.
type Job struct {
	Path string
	Kind Kind

	write func(w io.Writer, l *Losses) error
	mkdir bool         // the CSV directory is made when missing; other files need theirs
	after func() error // run once the file is written (not on Preview)
}

// Losses gathers what vendor writers could not say exactly: each body is
// still valid and written (see LossError).
type Losses []*LossError

// Messages describes each loss for people: "NSX: rule web-to-db left
// out: …".
func (l Losses) Messages() []string {
	var out []string
	for _, le := range l {
		for _, x := range le.Losses {
			what := "changed"
			if x.Dropped {
				what = "left out"
			}
			out = append(out, fmt.Sprintf("%s: rule %s %s: %s", le.Format, cmp.Or(x.RuleName, x.RuleID), what, x.Reason))
		}
	}
	return out
}

// keep records a LossError and returns any other error.
func (l *Losses) keep(err error) error {
	var le *LossError
	if errors.As(err, &le) {
		*l = append(*l, le)
		return nil
	}
	return err
}

// Plan lists the files t asks for, in the order they are written.
func Plan(t Targets, in *Input) []Job {
	var jobs []Job
	if t.XLSX != "" {
		jobs = append(jobs, Job{t.XLSX, KindWorkbook, func(w io.Writer, _ *Losses) error {
			return WriteWorkbook(w, in.Rules, in.Rules.Table, in.Sources, in.Workbook)
		}, false, nil})
	}
	if t.CSVDir != "" {
		jobs = append(jobs,
			Job{filepath.Join(t.CSVDir, "rules.csv"), KindRulesCSV, func(w io.Writer, _ *Losses) error { return WriteRulesCSV(w, in.Rules) }, true, nil},
			Job{filepath.Join(t.CSVDir, "flows.csv"), KindFlowsCSV, func(w io.Writer, _ *Losses) error {
				return WriteFlowsCSV(w, in.Rules.Table, in.Rules.Table.All())
			}, true, nil},
			Job{filepath.Join(t.CSVDir, "review.csv"), KindReviewCSV, func(w io.Writer, _ *Losses) error { return WriteReviewCSV(w, in.Rules) }, true, nil})
	}
	if t.NutanixV3 != "" {
		jobs = append(jobs, Job{t.NutanixV3, KindNutanixV3, func(w io.Writer, l *Losses) error {
			return l.keep(WriteNutanixV3(w, in.Rules, in.Vendor.forAPI("v3")))
		}, false, nil})
	}
	if t.NutanixV4 != "" {
		jobs = append(jobs, Job{t.NutanixV4, KindNutanixV4, func(w io.Writer, l *Losses) error {
			_, err := WriteNutanixV4(w, in.Rules, in.Vendor.forAPI("v4"))
			return l.keep(err)
		}, false, nil}, Job{t.NutanixV4 + ".extids.csv", KindNutanixV4ExtIDs, func(w io.Writer, _ *Losses) error {
			ph, err := WriteNutanixV4(io.Discard, in.Rules, in.Vendor.forAPI("v4"))
			var le *LossError
			if err != nil && !errors.As(err, &le) {
				return err
			}
			return WritePlaceholders(w, ph)
		}, false, nil})
		if u := in.Vendor.Update; u != nil && u.V4 != nil {
			jobs = append(jobs, Job{t.NutanixV4 + ".update.txt", KindNutanixV4Update, func(w io.Writer, _ *Losses) error {
				var body bytes.Buffer
				_, err := WriteNutanixV4(&body, in.Rules, in.Vendor.forAPI("v4"))
				var le *LossError
				if err != nil && !errors.As(err, &le) {
					return err
				}
				return WriteNutanixV4Update(w, u, filepath.Base(t.NutanixV4), body.Bytes())
			}, false, nil})
		}
	}
	if t.NSX != "" {
		jobs = append(jobs, nsxJob(t.NSX, in))
	}
	return jobs
}

// nsxJob writes the NSX body with the rules and IP-set groups exported
// before under the same policy marked for delete, then records what it
// wrote.
func nsxJob(path string, in *Input) Job {
	opts := func() (VendorOptions, error) {
		o := in.Vendor
		if in.History == nil {
			return o, nil
		}
		prev, err := in.History.Exported(context.Background(), "nsx", nsxPolicyID(o.policyName()))
		o.NSXHistory = append(slices.Clip(o.NSXHistory), prev...)
		return o, err
	}
	return Job{Path: path, Kind: KindNSX, write: func(w io.Writer, l *Losses) error {
		o, err := opts()
		if err != nil {
			return err
		}
		return l.keep(WriteNSXPolicy(w, in.Rules, o))
	}, after: func() error {
		if in.History == nil {
			return nil
		}
		ids, err := NSXObjectIDs(in.Rules, in.Vendor)
		if err != nil {
			return err
		}
		return in.History.RecordExport(context.Background(), "nsx", nsxPolicyID(in.Vendor.policyName()), ids)
	}}
}

// Preview writes the job's content to w, for a look before writing files.
func (j Job) Preview(w io.Writer) (Losses, error) {
	var l Losses
	err := j.write(w, &l)
	return l, err
}

// Write writes the job's file whole or not at all (see WriteFile). Only
// the CSV directory is created when missing: a file path naming a missing
// directory is more likely a typo than a wish.
func (j Job) Write() (Losses, error) {
	if j.mkdir {
		if err := os.MkdirAll(filepath.Dir(j.Path), 0o755); err != nil {
			return nil, err
		}
	}
	var l Losses
	if err := WriteFile(j.Path, func(w *bufio.Writer) error { return j.write(w, &l) }); err != nil {
		return l, err // it names j.Path
	}
	if j.after != nil {
		if err := j.after(); err != nil {
			return l, fmt.Errorf("%s written, but not recorded in the workspace: %w", j.Path, err)
		}
	}
	return l, nil
}

// WritePlaceholders lists the v4 placeholders the admin must replace with
// the extIds of the categories in Prism Central, as CSV.
func WritePlaceholders(w io.Writer, ph Placeholders) error {
	cw := NewCSVWriter(w)
	if err := cw.Write([]string{"placeholder", "kind", "name", "extId"}); err != nil {
		return err
	}
	for _, p := range ph {
		if err := cw.Write([]string{p.Placeholder, string(p.Kind), p.Name, ""}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// forAPI returns o without an Update of another Nutanix API version.
func (o VendorOptions) forAPI(api string) VendorOptions {
	if o.Update != nil && o.Update.API != api {
		o.Update = nil
	}
	return o
}
