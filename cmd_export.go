package main

import (
	"context"
	"fmt"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/export"
	"github.com/flowsleuth/flowsleuth/ingest"
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
	in := &export.Input{Rules: rs, Convs: convs, Vendor: vo,
		Workbook: export.WorkbookOptions{Title: "FlowSleuth", Generated: time.Now()}}
	if *xlsx != "" {
		var serr error
		if in.Sources, serr = c.exportSources(*wsPath, files); serr != nil {
			return serr
		}
	}
	var losses export.Losses
	for _, j := range export.Plan(export.Targets{XLSX: *xlsx, CSVDir: *csvDir, NutanixV3: *v3, NutanixV4: *v4, NSX: *nsx}, in) {
		l, werr := j.Write()
		if werr != nil {
			return werr
		}
		losses = append(losses, l...)
		fmt.Fprintf(c.stdout, "wrote %s\n", j.Path)
	}
	for _, m := range losses.Messages() {
		fmt.Fprintf(c.stderr, "warning: %s\n", m)
	}
	fmt.Fprintf(c.stdout, "%d rules, %d conversations under review, from %d conversations\n", len(rs.Rules), len(rs.Review), len(convs))
	return err
}

// exportSources describes the inputs for the workbook's Sources sheet.
func (c *cli) exportSources(wsPath string, files []string) ([]export.Source, error) {
	if len(files) > 0 {
		return fileSources(c.loaded), nil
	}
	ws, err := openWorkspaceToRead(wsPath)
	if err != nil {
		return nil, err
	}
	defer ws.Close()
	srcs, err := ws.Sources(context.Background())
	if err != nil {
		return nil, err
	}
	return export.WorkspaceSources(srcs), nil
}

// fileSources describes the files read without a workspace, with what
// their lines were, as import counts them.
func fileSources(res []analysis.FileResult) []export.Source {
	out := make([]export.Source, 0, len(res))
	for _, r := range res {
		st := &r.Stats
		src := export.Source{Path: r.Name, Size: max(r.Size, 0), Lines: st.Lines, Events: st.Events, Skipped: st.Skipped,
			Unsupported: st.Unsupported, Malformed: st.Malformed, Imported: time.Now()}
		for _, pe := range st.MalformedSamples {
			src.MalformedSamples = append(src.MalformedSamples, fmt.Sprintf("%s:%d: %v", pe.File, pe.Line, ingest.Reason(pe.Err)))
		}
		out = append(out, src)
	}
	return out
}
