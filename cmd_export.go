package main

import (
	"fmt"
	"maps"
	"os"
	"strings"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
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
	csvDir := fs.String("csv", "", "write rules.csv, flows.csv and review.csv into this directory")
	v3 := fs.String("nutanix-v3", "", "write Prism Central v3 network_security_rule bodies to this file (a JSON array, one per tier, when tiers are known)")
	v4 := fs.String("nutanix-v4", "", "write a Prism Central v4 NetworkSecurityPolicy body to this file (and FILE.extids.csv)")
	nsx := fs.String("nsx", "", "write an NSX Policy API (PATCH /policy/api/v1/infra) body to this file")
	var vo export.VendorOptions
	fs.StringVar(&vo.PolicyName, "policy-name", "FlowSleuth discovered policy", "name of the generated policy")
	fs.StringVar(&vo.SecuredCategory, "secured-category", "", `the secured workloads' category or group, "Key:Value", when the inventory names no tiers (default: a placeholder to fill in)`)
	fs.BoolVar(&vo.Apply, "apply", false, "Nutanix: enforce (APPLY/ENFORCE) instead of MONITOR; NSX: the boundary rule enabled")
	nsxGroups := fs.String("nsx-groups", "", "NSX: CSV with columns tag,path naming the group of each security group (default /infra/domains/default/groups/TAG)")
	fs.IntVar(&vo.NSXSequence, "nsx-sequence", export.DefaultNSXSequence, "NSX: the policy's sequence_number in the Application category (1-999999)")
	fs.StringVar(&vo.AppGroup, "app-group", "", "NSX: path of the application's group (SGTSBOOKS), the boundary rule's Applied To (default: every tier group)")
	categories := fs.String("categories", "", "Nutanix v4: saved GET /api/prism/v4.x/config/categories responses (comma separated pages) to fill category extIds")
	update := fs.String("update", "", "Nutanix: saved GETs of the existing (discovery, or earlier exported) policies, v3 or v4,\n"+
		"comma separated (curl -i keeps the v4 ETag): write updates of them instead of new policies")
	c.storeFlag(fs)
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	targets := export.Targets{XLSX: *xlsx, CSVDir: *csvDir, NutanixV3: *v3, NutanixV4: *v4, NSX: *nsx}
	if err := checkExportTargets(targets, *update, vo.NSXSequence); err != nil {
		return err
	}
	if err := readVendorFiles(&vo, targets, *nsxGroups, *categories, *update); err != nil {
		return err
	}
	if rerr := kf.resolve(c, *wsPath); rerr != nil {
		return rerr
	}
	rsp, done, err := c.ruleSet(&mf, kf.k, *wsPath, files, "", "")
	if rsp == nil {
		return err
	}
	defer done()
	rs := *rsp
	in, closeHistory, ierr := c.exportInput(rs, vo, targets, *wsPath, files)
	if ierr != nil {
		return ierr
	}
	defer closeHistory()
	res, rerr := export.Run(targets, in, func(j export.Job, written bool) {
		if written {
			fmt.Fprintf(c.stdout, "wrote %s\n", j.Path)
		}
	})
	if rerr != nil {
		return rerr
	}
	c.reportExport(res, rs)
	if terr := rs.Table.Err(); terr != nil {
		return terr
	}
	return err
}

// checkExportTargets refuses an export that writes nothing, an --update
// without a Nutanix body to update, and an NSX sequence NSX would refuse.
func checkExportTargets(t export.Targets, update string, nsxSequence int) error {
	if t.XLSX == "" && t.CSVDir == "" && t.NutanixV3 == "" && t.NutanixV4 == "" && t.NSX == "" {
		return usagef("say what to write: --xlsx, --csv, --nutanix-v3, --nutanix-v4 and/or --nsx")
	}
	if update != "" && t.NutanixV3 == "" && t.NutanixV4 == "" {
		return usagef("--update updates a Nutanix policy: give --nutanix-v3 or --nutanix-v4")
	}
	if nsxSequence < 1 || nsxSequence > 999999 {
		return usagef("--nsx-sequence %d: NSX takes 1 to 999999", nsxSequence)
	}
	return nil
}

// readVendorFiles reads the files the vendor bodies draw on (--nsx-groups,
// --categories, --update) into vo, and refuses an --update of a policy of
// the API no body is written for.
func readVendorFiles(vo *export.VendorOptions, t export.Targets, nsxGroups, categories, update string) error {
	if nsxGroups != "" {
		var err error
		if vo.NSXGroups, err = readNSXGroups(nsxGroups); err != nil {
			return err
		}
	}
	if err := readNutanixFiles(vo, categories, update); err != nil {
		return err
	}
	if u := vo.Update; u != nil && map[string]string{"v3": t.NutanixV3, "v4": t.NutanixV4}[u.API] == "" {
		return usagef("--update names a %s policy: give --nutanix-%s", u.API, u.API)
	}
	return nil
}

// exportInput gathers what the export writes besides the rule set: the
// sources for the workbook, and the workspace's record of earlier NSX
// exports. The caller calls the returned func when done with the input.
func (c *cli) exportInput(rs rules.Set, vo export.VendorOptions, t export.Targets, wsPath string, files []string) (*export.Input, func(), error) {
	in := &export.Input{Rules: rs, Vendor: vo,
		Workbook: export.WorkbookOptions{Title: "FlowSleuth", Generated: time.Now()}}
	if t.XLSX != "" {
		var err error
		if in.Sources, err = c.exportSources(wsPath, files); err != nil {
			return nil, nil, err
		}
	}
	if len(files) == 0 && t.NSX != "" { // the workspace remembers what NSX exports wrote
		ws, err := c.openWorkspace(wsPath)
		if err != nil {
			return nil, nil, err
		}
		in.History = ws
		return in, func() { ws.Close() }, nil
	}
	return in, func() {}, nil
}

// reportExport says what the export could not carry and what it wrote from.
func (c *cli) reportExport(res export.Result, rs rules.Set) {
	if len(res.NSXExternal) > 0 {
		fmt.Fprintf(c.stdout, "the NSX body references these existing groups: %s\n", strings.Join(res.NSXExternal, ", "))
	}
	for _, m := range res.Losses.Messages() {
		fmt.Fprintf(c.stderr, "warning: %s\n", m)
	}
	fmt.Fprintf(c.stdout, "%s, %s under review, %s outside the scope, from %s\n",
		analysis.Plural(uint64(len(rs.Rules)), "rule"), analysis.Plural(uint64(len(rs.Review)), "conversation"),
		analysis.Plural(uint64(len(rs.Outside)), "conversation"), analysis.Plural(uint64(rs.Table.Len()), "conversation"))
}

// readNutanixFiles reads --categories (pages of the categories list) and
// --update (saved GETs) into the vendor options.
func readNutanixFiles(vo *export.VendorOptions, categories, update string) error {
	err := eachFile(categories, func(data []byte) error {
		ids, err := export.ReadCategoryIDs(data)
		if err == nil {
			if vo.CategoryIDs == nil {
				vo.CategoryIDs = map[string]string{}
			}
			maps.Copy(vo.CategoryIDs, ids)
		}
		return err
	})
	if err != nil {
		return err
	}
	return eachFile(update, func(data []byte) error {
		u, err := export.ReadExistingPolicy(data)
		switch {
		case err != nil:
			return err
		case vo.Update != nil:
			return vo.Update.Add(u)
		}
		vo.Update = u
		return nil
	})
}

// eachFile reads each file of a comma-separated list and hands it to read;
// errors name the file.
func eachFile(list string, read func([]byte) error) error {
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := read(data); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	return nil
}

// readNSXGroups reads the --nsx-groups mapping.
func readNSXGroups(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := export.ReadNSXGroups(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}
