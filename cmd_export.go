package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/flowsleuth/flowsleuth/export"
)

func (c *cli) exportCmd(args []string) error {
	fs := c.newFlagSet("export", "[flags] [FILE...]",
		"Writes the rule base and the conversations of the FILEs given, or else of the workspace:\n"+
			"a workbook for review (Rules, Flows, Summary with charts, Review, Sources), CSV files, and\n"+
			"policy bodies for Nutanix Flow (Prism Central v3 and v4 APIs) and the NSX Policy API.\n"+
			"Each file is written whole or not at all.")
	var mf modelFlags
	mf.register(fs)
	var kf knobFlags
	kf.register(fs)
	wsPath := workspaceFlag(fs)
	xlsx := fs.String("xlsx", "", "write the workbook to this .xlsx file")
	csvDir := fs.String("csv", "", "write rules.csv and flows.csv into this directory")
	v3 := fs.String("nutanix-v3", "", "write a Prism Central v3 network_security_rule body to this file")
	v4 := fs.String("nutanix-v4", "", "write a Prism Central v4 NetworkSecurityPolicy body to this file (and FILE.extids.csv)")
	nsx := fs.String("nsx", "", "write an NSX Policy API (PATCH /policy/api/v1/infra) body to this file")
	var vo export.VendorOptions
	fs.StringVar(&vo.PolicyName, "policy-name", "FlowSleuth discovered policy", "name of the generated policy")
	fs.StringVar(&vo.SecuredCategory, "secured-category", "", `the secured workloads' category or group, "Key:Value" (default: a placeholder to fill in)`)
	fs.BoolVar(&vo.Apply, "apply", false, "Nutanix: enforce (APPLY) instead of MONITOR; NSX: enabled rules")
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if *xlsx == "" && *csvDir == "" && *v3 == "" && *v4 == "" && *nsx == "" {
		return usagef("say what to write: --xlsx, --csv, --nutanix-v3, --nutanix-v4 and/or --nsx")
	}
	rsp, convs, err := c.ruleSet(&mf, kf.k, *wsPath, files, "", "")
	if rsp == nil {
		return err
	}
	rs := *rsp
	// The exporters read each rule's evidence figures, not its
	// conversations: dropping those copies (every kept conversation, 380 MB
	// for a million) leaves the writers the conversations once.
	for i := range rs.Rules {
		rs.Rules[i].Evidence.Flows = nil
	}
	var jobs []exportJob
	if *xlsx != "" {
		sources, serr := c.exportSources(*wsPath, files)
		if serr != nil {
			return serr
		}
		opts := export.WorkbookOptions{Title: "FlowSleuth", Generated: time.Now()}
		jobs = append(jobs, exportJob{*xlsx, func(w *bufio.Writer) error { return export.WriteWorkbook(w, rs, convs, sources, opts) }})
	}
	if *csvDir != "" {
		if err := os.MkdirAll(*csvDir, 0o755); err != nil {
			return err
		}
		jobs = append(jobs,
			exportJob{filepath.Join(*csvDir, "rules.csv"), func(w *bufio.Writer) error { return export.WriteRulesCSV(w, rs) }},
			exportJob{filepath.Join(*csvDir, "flows.csv"), func(w *bufio.Writer) error { return export.WriteFlowsCSV(w, convs) }})
	}
	var losses []*export.LossError
	keep := func(err error) error { // a LossError comes with a valid body: keep it, warn
		var le *export.LossError
		if errors.As(err, &le) {
			losses = append(losses, le)
			return nil
		}
		return err
	}
	if *v3 != "" {
		jobs = append(jobs, exportJob{*v3, func(w *bufio.Writer) error { return keep(export.WriteNutanixV3(w, rs, vo)) }})
	}
	if *v4 != "" {
		var ph export.Placeholders
		jobs = append(jobs, exportJob{*v4, func(w *bufio.Writer) (err error) {
			ph, err = export.WriteNutanixV4(w, rs, vo)
			return keep(err)
		}}, exportJob{*v4 + ".extids.csv", func(w *bufio.Writer) error { return writePlaceholders(w, ph) }})
	}
	if *nsx != "" {
		jobs = append(jobs, exportJob{*nsx, func(w *bufio.Writer) error { return keep(export.WriteNSXPolicy(w, rs, vo)) }})
	}
	for _, j := range jobs {
		if werr := writeFileAtomic(j.path, j.write); werr != nil {
			return fmt.Errorf("write %s: %w", j.path, werr)
		}
		fmt.Fprintf(c.stdout, "wrote %s\n", j.path)
	}
	for _, le := range losses {
		for _, l := range le.Losses {
			what := "changed"
			if l.Dropped {
				what = "left out"
			}
			fmt.Fprintf(c.stderr, "warning: %s: rule %s %s: %s\n", le.Format, cmp.Or(l.RuleName, l.RuleID), what, l.Reason)
		}
	}
	fmt.Fprintf(c.stdout, "%d rules, %d conversations under review, from %d conversations\n", len(rs.Rules), len(rs.Review), len(convs))
	return err
}

type exportJob struct {
	path  string
	write func(*bufio.Writer) error
}

// writePlaceholders lists the v4 placeholders the admin must replace with
// the extIds of the categories in Prism Central.
func writePlaceholders(w *bufio.Writer, ph export.Placeholders) error {
	fmt.Fprintln(w, "placeholder,kind,name,extId")
	for _, p := range ph {
		fmt.Fprintf(w, "%q,%s,%q,\n", p.Placeholder, p.Kind, p.Name)
	}
	return nil
}

// exportSources describes the inputs for the workbook's Sources sheet.
func (c *cli) exportSources(wsPath string, files []string) ([]export.Source, error) {
	if len(files) > 0 {
		var out []export.Source
		for _, f := range files {
			st, err := os.Stat(f)
			if err == nil {
				out = append(out, export.Source{Path: f, Size: st.Size(), Imported: time.Now()})
			}
		}
		return out, nil
	}
	ws, err := openWorkspace(wsPath)
	if err != nil {
		return nil, err
	}
	defer ws.Close()
	srcs, err := ws.Sources(context.Background())
	if err != nil {
		return nil, err
	}
	var out []export.Source
	for _, s := range srcs {
		es := export.Source{Path: s.Path, Size: s.Size, Lines: s.Stats.Lines, Events: s.Stats.Events,
			Skipped: s.Stats.Skipped, Unsupported: s.Stats.Unsupported, Malformed: s.Stats.Malformed, Imported: s.LastImported}
		for _, m := range s.Malformed {
			es.MalformedSamples = append(es.MalformedSamples, fmt.Sprintf("%s:%d: %s", s.Path, m.Line, m.Reason))
		}
		out = append(out, es)
	}
	return out, nil
}
