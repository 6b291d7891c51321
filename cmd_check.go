package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/policy"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/analysis/workspace"
	"github.com/flowsleuth/flowsleuth/export"
	"github.com/flowsleuth/flowsleuth/ingest/inventory"
)

// checkHelp is check's usage text.
const checkHelp = "Replays the observed conversations (of the FILEs given, or else of the workspace) against a\n" +
	"policy before anyone enforces it: an NSX Policy API body or GET, Nutanix Flow v3 or v4 bodies or\n" +
	"GETs (the format is detected). For every conversation: allowed, blocked, or would block (a policy\n" +
	"in monitor mode), with the deciding rule and the enforcement point; then the traffic that would\n" +
	"break, blocked traffic by rule and by tag, suspect traffic the policy still admits, rules that\n" +
	"matched nothing and rules wider than their evidence.\n" +
	"  --against FILE       also check FILE and compare: deployed vs proposed\n" +
	"  --holdout 1d         readiness: synthesise rules from everything before the last day (or\n" +
	"                       --holdout-from TIME) and replay the held-out period (no --policy needed)\n" +
	"Exit status: 0 when no observed conversation outside review (scans, never answered, only\n" +
	"dropped) would be blocked, 1 when some would (or on error), 2 on usage errors."

// checkFlags are check's own flags.
type checkFlags struct {
	policies, against  stringList
	format             string
	inventory          string
	nsxGroups, members string
	categories         string
	def                string
	learn              bool
	enableDisabled     bool
	v4Categories       string
	intraGroup         string
	holdout            string
	holdoutFrom        string
	since, until       string
	top                int
	xlsx               string
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

func (f *checkFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.policies, "policy", "policy file to check (repeatable: their policies are merged)")
	fs.Var(&f.against, "against", "a second policy file to compare with (repeatable)")
	fs.StringVar(&f.format, "format", "table", "output format: table, csv or json")
	fs.StringVar(&f.inventory, "inventory", "", "VM inventory file (RVTools, Prism Central, name,ip,tags CSV; default: the workspace's)")
	fs.StringVar(&f.nsxGroups, "nsx-groups", "", "CSV tag,path: the NSX group of each log tag (default /infra/domains/default/groups/TAG)")
	fs.StringVar(&f.members, "members", "", "CSV group,address|cidr|range: members of groups and categories the bodies reference")
	fs.StringVar(&f.categories, "categories", "", "saved Prism Central v4 categories list (GET .../config/categories), for extIds")
	fs.StringVar(&f.def, "default", "allow", "action of the NSX default Layer-3 rule: allow or drop")
	fs.BoolVar(&f.learn, "learn", true, "learn group members from the logs: addresses logged under each NSX tag or Nutanix policy")
	fs.BoolVar(&f.enableDisabled, "enable-disabled", false, "NSX: evaluate disabled rules as if enabled (what the policy does once switched on)")
	fs.StringVar(&f.v4Categories, "v4-categories", "all-keys", "Nutanix v4: several categories in one reference list match all-keys (AND across keys) or any")
	fs.StringVar(&f.intraGroup, "intra-group", "action", "Nutanix: traffic inside a secured group is decided by its intra-group action alone (action) or also by allow-list entries (allow-list)")
	fs.StringVar(&f.holdout, "holdout", "", "readiness: hold out the last DURATION (1d, 12h) of the observations")
	fs.StringVar(&f.holdoutFrom, "holdout-from", "", "readiness: hold out everything from TIME on (RFC 3339 or YYYY-MM-DD)")
	fs.StringVar(&f.since, "since", "", "workspace: only sessions that started at or after this time")
	fs.StringVar(&f.until, "until", "", "workspace: only sessions that started before this time")
	fs.IntVar(&f.top, "top", 50, "table: items listed per section")
	fs.StringVar(&f.xlsx, "xlsx", "", "also write the workbook (rules, flows, review) with the What-if sheets to this file")
}

func (c *cli) checkCmd(args []string) error {
	fs := c.newFlagSet("check", "--policy FILE [--policy FILE...] [flags] [FILE...]", checkHelp)
	var mf modelFlags
	mf.register(fs)
	var kf knobFlags
	kf.register(fs)
	wsPath := workspaceFlag(fs)
	var cf checkFlags
	cf.register(fs)
	c.storeFlag(fs)
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := cf.validate(); err != nil {
		return err
	}
	convs, done, err := c.conversations(&mf, *wsPath, files, cf.since, cf.until)
	if convs == nil && err != nil {
		return err
	}
	defer done()
	if err != nil {
		fmt.Fprintf(c.stderr, "flowsleuth check: %v (checking what was read)\n", err)
	}
	k, edits := kf.k, []rules.Edit(nil)
	if len(files) == 0 {
		if k, edits, err = c.workspaceKnobs(*wsPath, k); err != nil {
			return err
		}
	}
	if cf.holdout != "" || cf.holdoutFrom != "" {
		if err := c.readiness(&cf, k, edits, convs); err != nil || len(cf.policies) == 0 {
			return err
		}
		fmt.Fprintln(c.stdout)
	}
	return c.checkPolicies(&cf, k, edits, *wsPath, files, convs)
}

// validate refuses flags that cannot work: a combination that asks for
// nothing or for two things at once, then a value outside its choices.
func (f *checkFlags) validate() error {
	if err := f.validateRequest(); err != nil {
		return err
	}
	return f.validateValues()
}

// validateRequest checks that the flags ask for one thing check can do:
// a policy check, a hold-out readiness run, or both in a table.
func (f *checkFlags) validateRequest() error {
	if len(f.policies) == 0 && f.holdout == "" && f.holdoutFrom == "" {
		return usagef("say what to check: --policy FILE, or --holdout 1d for readiness")
	}
	if len(f.against) > 0 && len(f.policies) == 0 {
		return usagef("--against compares with the --policy files: give them too")
	}
	if f.holdout != "" && f.holdoutFrom != "" {
		return usagef("--holdout and --holdout-from exclude each other")
	}
	if (f.holdout != "" || f.holdoutFrom != "") && len(f.policies) > 0 && f.format != "table" {
		return usagef("--format %s writes one document: run the hold-out and the policy check separately", f.format)
	}
	return nil
}

// validateValues checks the flags that take one of a few values.
func (f *checkFlags) validateValues() error {
	if _, ok := map[string]bool{"table": true, "csv": true, "json": true}[f.format]; !ok {
		return usagef("--format must be table, csv or json, not %q", f.format)
	}
	if _, err := policy.ParseAction(f.def); err != nil {
		return usagef("--default: %v", err)
	}
	if f.v4Categories != "all-keys" && f.v4Categories != "any" {
		return usagef("--v4-categories must be all-keys or any, not %q", f.v4Categories)
	}
	if f.intraGroup != "action" && f.intraGroup != "allow-list" {
		return usagef("--intra-group must be action or allow-list, not %q", f.intraGroup)
	}
	return nil
}

// workspaceKnobs returns k with the workspace's exclusions, and its edits,
// so that check reviews what rules reviews and synthesises the same rules.
func (c *cli) workspaceKnobs(wsPath string, k rules.Knobs) (rules.Knobs, []rules.Edit, error) {
	ws, err := c.openWorkspaceToRead(wsPath)
	if err != nil {
		return k, nil, err
	}
	defer ws.Close()
	return ws.Knobs(context.Background(), k)
}

// sources gathers what the evaluator knows besides the bodies.
func (f *checkFlags) sources(c *cli, wsPath string, files []string) (policy.Sources, error) {
	act, _ := policy.ParseAction(f.def)
	s := policy.Sources{Learn: f.learn, Default: act, EnableDisabled: f.enableDisabled}
	if f.v4Categories == "any" {
		s.Categories = policy.MatchAny
	}
	if f.intraGroup == "allow-list" {
		s.Intra = policy.IntraGroupOrAllowList
	}
	var err error
	if s.VMs, err = f.vms(c, wsPath, files); err != nil {
		return s, err
	}
	if f.nsxGroups != "" {
		if s.TagPaths, err = policy.ReadTagPathsFile(f.nsxGroups); err != nil {
			return s, err
		}
	}
	if f.members != "" {
		if s.Members, err = policy.ReadMembersFile(f.members); err != nil {
			return s, err
		}
	}
	if f.categories != "" {
		if s.CategoryIDs, err = policy.ReadCategoriesFile(f.categories); err != nil {
			return s, err
		}
	}
	return s, nil
}

// vms reads --inventory, else the workspace's inventory when reading it.
func (f *checkFlags) vms(c *cli, wsPath string, files []string) ([]inventory.VM, error) {
	if f.inventory != "" {
		vms, _, err := inventory.Read(f.inventory)
		return vms, err
	}
	if len(files) > 0 {
		return nil, nil
	}
	ws, err := c.openWorkspaceToRead(wsPath)
	if err != nil {
		return nil, err
	}
	defer ws.Close()
	inv, err := ws.Inventory(context.Background())
	if err != nil {
		return nil, err
	}
	return policy.VMsOf(inv, func(e workspace.InvEntry) (netip.Addr, string, []string) { return e.IP, e.VM, e.Groups }), nil
}

// checkPolicies runs the check (and the comparison) and writes it; the
// error says how many observed conversations would break.
func (c *cli) checkPolicies(f *checkFlags, k rules.Knobs, edits []rules.Edit, wsPath string, files []string, convs *analysis.Table) error {
	src, err := f.sources(c, wsPath, files)
	if err != nil {
		return err
	}
	x, err := export.RunCheck(export.CheckRequest{Policies: f.policies, Against: f.against, Sources: src, Convs: convs,
		Knobs: k, Top: f.top})
	if err != nil {
		return err
	}
	if f.xlsx != "" {
		if err := c.checkWorkbook(f.xlsx, x, k, edits, wsPath, files); err != nil {
			return err
		}
	}
	write := map[string]func(io.Writer, *export.WhatIf) error{
		"table": export.WriteWhatIfTable, "csv": export.WriteWhatIfCSV, "json": export.WriteWhatIfJSON}[f.format]
	out := bufio.NewWriterSize(c.output(f.format), 256<<10)
	if err := write(out, x); err != nil {
		return err
	}
	if err := out.Flush(); err != nil {
		return err
	}
	if r := &x.Result.Report; !r.OK() {
		return fmt.Errorf("%s observed conversations outside review would be blocked (%s sessions)",
			analysis.Thousands(uint64(len(r.Broken))), analysis.Thousands(brokenSessions(convs, r.Broken)))
	}
	return nil
}

// checkWorkbook writes the workbook of the conversations, their rules (with
// the workspace's edits when reading it) and the check.
func (c *cli) checkWorkbook(path string, x *export.WhatIf, k rules.Knobs, edits []rules.Edit, wsPath string, files []string) error {
	rs, _ := rules.ApplyEdits(rules.Synthesize(x.Convs, k), edits)
	sources, err := c.exportSources(wsPath, files)
	if err != nil {
		return err
	}
	o := export.WorkbookOptions{Title: "FlowSleuth what-if: " + strings.Join(x.Policies, ", "), Generated: time.Now(), WhatIf: x}
	if err := export.WriteFile(path, func(w *bufio.Writer) error { return export.WriteWorkbook(w, rs, x.Convs, sources, o) }); err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "wrote %s\n", path)
	return nil
}

func brokenSessions(convs *analysis.Table, idx []int) uint64 {
	var n uint64
	for _, i := range idx {
		n += convs.Sessions(i)
	}
	return n
}

// readiness runs the hold-out: rules from before the cut (with the
// workspace's edits when reading it) replayed on the rest.
func (c *cli) readiness(f *checkFlags, k rules.Knobs, edits []rules.Edit, convs *analysis.Table) error {
	var cut time.Time
	var err error
	if f.holdoutFrom != "" {
		if cut, err = parseTime("--holdout-from", f.holdoutFrom); err != nil {
			return err
		}
	} else {
		d, derr := parseDays(f.holdout)
		if derr != nil {
			return usagef("--holdout: %v", derr)
		}
		if cut, err = rules.HoldoutCut(convs, d); err != nil {
			return err
		}
	}
	synth := func(before *analysis.Table) (rules.Set, error) {
		rs, _ := rules.ApplyEdits(rules.Synthesize(before, k), edits)
		return rs, nil
	}
	r, err := rules.CheckReadiness(convs, cut, k, synth)
	if err != nil {
		return fmt.Errorf("readiness with the cut at %s: %w", cut.UTC().Format(time.RFC3339), err)
	}
	out := bufio.NewWriter(c.output(f.format))
	switch f.format {
	case "json":
		err = export.WriteReadinessJSON(out, &r)
	case "csv":
		err = export.WriteReadinessCSV(out, &r)
	default:
		err = export.WriteReadinessTable(out, &r, f.top)
	}
	if err != nil {
		return err
	}
	return out.Flush()
}

// parseDays reads a duration that may count days: "1d", "36h", "1d12h".
func parseDays(s string) (time.Duration, error) {
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bad duration %q (say 1d, 36h, 1d12h)", s)
		}
		days, s = time.Duration(n)*24*time.Hour, s[i+1:]
	}
	if s == "" {
		if days == 0 {
			return 0, fmt.Errorf("a zero duration holds nothing out")
		}
		return days, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d+days <= 0 {
		return 0, fmt.Errorf("bad duration %q (say 1d, 36h, 1d12h)", s)
	}
	return days + d, nil
}
