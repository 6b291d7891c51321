package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/workspace"
	"github.com/flowsleuth/flowsleuth/export"
)

// knobFlags are the rule synthesis settings.
type knobFlags struct {
	k        analysis.Knobs
	focus    string
	appCats  string
	resolved bool
}

func (f *knobFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&f.k.CollapseMin, "collapse-min", analysis.DefaultCollapseMin,
		"collapse outside peers into a prefix when at least this many hosts of a /24 were seen...")
	fs.Float64Var(&f.k.CollapseCoverage, "collapse-coverage", analysis.DefaultCollapseCoverage,
		"...and they fill at least this percentage of the prefix")
	fs.IntVar(&f.k.AnyPeers, "any-peers", analysis.DefaultAnyPeers, "use Any when more peers than this use one service")
	fs.IntVar(&f.k.ScanPorts, "scan-ports", analysis.DefaultScanPorts,
		"treat a source reaching this many unanswered ports of one host as a port scan")
	fs.BoolVar(&f.k.IncludeSuspect, "include-suspect", false, "make rules of suspect traffic too instead of listing it for review")
	fs.StringVar(&f.focus, "focus", "", "only conversations with an end in these addresses, CIDRs or inventory VMs (comma separated);\n"+
		"directions are then relative to them and they are named after their VM or address")
	fs.StringVar(&f.k.TierKey, "tier-key", "", "the inventory category key naming the application's tiers (default: AppTier when the inventory has it)")
	fs.StringVar(&f.appCats, "app-category", "", `the application's category, "Key:Value" (default: the one every monitored VM of the inventory shares)`)
}

// resolve reads --focus (VM names from the workspace's inventory) and
// --app-category into the knobs.
func (f *knobFlags) resolve(wsPath string) error {
	if f.resolved {
		return nil
	}
	f.resolved = true
	for _, c := range strings.Split(f.appCats, ",") {
		if c = strings.TrimSpace(c); c == "" {
			continue
		}
		k, v, ok := strings.Cut(c, ":")
		if !ok || strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "" {
			return usagef("--app-category %q: want Key:Value", c)
		}
		f.k.AppCategories = append(f.k.AppCategories, strings.TrimSpace(k)+":"+strings.TrimSpace(v))
	}
	var inv []workspace.InvEntry
	var invErr error
	loaded := false
	vm := func(name string) []netip.Addr {
		if !loaded {
			loaded = true
			inv, invErr = workspaceInventory(wsPath)
		}
		var out []netip.Addr
		for _, e := range inv {
			if strings.EqualFold(e.VM, name) {
				out = append(out, e.IP)
			}
		}
		return out
	}
	focus, err := analysis.ParseFocus(f.focus, vm)
	if err != nil {
		if invErr != nil {
			return fmt.Errorf("--focus: %w (reading the inventory: %v)", err, invErr)
		}
		return usagef("--focus: %v", err)
	}
	f.k.Focus = focus
	return nil
}

// workspaceInventory returns the inventory of the workspace at path, if
// there is one.
func workspaceInventory(path string) ([]workspace.InvEntry, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no workspace at %s", path)
	}
	ws, err := openWorkspaceToRead(path)
	if err != nil {
		return nil, err
	}
	defer ws.Close()
	return ws.Inventory(context.Background())
}

func (c *cli) rulesCmd(args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "edit", "exclude", "edits", "unedit":
			return c.ruleEditCmd(args)
		}
	}
	fs := c.newFlagSet("rules", "[flags] [FILE...]",
		"Synthesises allow rules from the conversations of the FILEs given, or else of the workspace:\n"+
			"one rule per direction, source group, destination group and protocol, ports merged, peers\n"+
			"generalised by the knobs below. Suspect traffic (probable scans, flows only dropped) is listed\n"+
			"for review instead. The table ends with the trade-off: combinations admitted but never seen.\n"+
			"Edits (kept in the workspace, replayed on every synthesis so they survive new data):\n"+
			"  rules edit ID rename NAME | describe TEXT | delete | merge OTHER-ID | split\n"+
			"  rules exclude ADDRESS|CIDR     keep a peer out of every rule\n"+
			"  rules edits                    list the edits and whether each still applies\n"+
			"  rules unedit SEQ               undo an edit")
	var mf modelFlags
	mf.register(fs)
	var kf knobFlags
	kf.register(fs)
	wsPath := workspaceFlag(fs)
	format := fs.String("format", "table", "output format: table, csv or json")
	wide := fs.Bool("wide", false, "table: the full text of every cell (by default a terminal's table is cut to fit it)")
	since := fs.String("since", "", "workspace: only sessions that started at or after this time")
	until := fs.String("until", "", "workspace: only sessions that started before this time")
	c.storeFlag(fs)
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	table := func(w io.Writer, rs analysis.RuleSet) error {
		return export.WriteRulesTable(w, rs, c.tableOptions(*wide))
	}
	write, ok := map[string]func(io.Writer, analysis.RuleSet) error{
		"table": table, "csv": export.WriteRulesCSV, "json": export.WriteRulesJSON,
	}[*format]
	if !ok {
		return usagef("--format must be table, csv or json, not %q", *format)
	}
	if rerr := kf.resolve(*wsPath); rerr != nil {
		return rerr
	}
	rs, done, err := c.ruleSet(&mf, kf.k, *wsPath, files, *since, *until)
	if rs == nil {
		return err
	}
	defer done()
	out := bufio.NewWriterSize(c.output(*format), 256<<10)
	if werr := write(out, *rs); werr != nil {
		return werr
	}
	if ferr := out.Flush(); ferr != nil {
		return ferr
	}
	if *format == "csv" {
		c.listOutside(rs, rs.Outside)
	}
	if terr := rs.Table.Err(); terr != nil {
		return terr
	}
	return err
}

// listOutside lists, on standard error, the conversations outside the scope
// that a CSV of rules cannot hold.
func (c *cli) listOutside(rs *analysis.RuleSet, items []analysis.ReviewItem) {
	if len(items) == 0 {
		return
	}
	verb := "are"
	if len(items) == 1 {
		verb = "is"
	}
	fmt.Fprintf(c.stderr, "flowsleuth rules: %s %s outside the scope (neither end monitored or in --focus), not rules:\n",
		export.Plural(uint64(len(items)), "conversation"), verb)
	for i, it := range items {
		if i == 20 {
			fmt.Fprintf(c.stderr, "  … and %s more (--format table or json lists them all)\n", analysis.Thousands(uint64(len(items)-i)))
			break
		}
		cv := rs.Item(it)
		fmt.Fprintf(c.stderr, "  %s -> %s %s\n", cv.Src, cv.Dst, analysis.ServiceLabel(cv.Proto, analysis.ServicePort(&cv)))
	}
}

// ruleSet synthesises the rules of files, or of the workspace with its
// edits replayed; the rule set's table holds the conversations. Call done
// once the rule set is written (see conversations).
func (c *cli) ruleSet(mf *modelFlags, k analysis.Knobs, wsPath string, files []string, since, until string) (*analysis.RuleSet, func(), error) {
	c.samples = true // rules keep sample lines as evidence
	t, done, err := c.conversations(mf, wsPath, files, since, until)
	if t == nil && err != nil {
		return nil, nil, err
	}
	var rs analysis.RuleSet
	var results []analysis.EditResult
	if len(files) == 0 && !c.storeWithoutWorkspace(wsPath) {
		ws, werr := openWorkspaceToRead(wsPath)
		if werr != nil {
			done()
			return nil, nil, werr
		}
		rs, results, werr = ws.Synthesize(context.Background(), t, k)
		ws.Close()
		if werr != nil {
			done()
			return nil, nil, werr
		}
	} else {
		rs = analysis.Synthesize(t, k)
	}
	for _, r := range results {
		if !r.Applied {
			fmt.Fprintf(c.stderr, "flowsleuth: edit %d (%s %s) no longer applies: %s\n", r.Edit.Seq, r.Edit.Op, r.Edit.Rule, r.Why)
		}
	}
	return &rs, done, err
}

// ruleEditCmd records, lists or undoes rule edits in the workspace.
func (c *cli) ruleEditCmd(args []string) error {
	fs := c.newFlagSet("rules "+args[0], "...", "See 'flowsleuth rules -h'.")
	wsPath := workspaceFlag(fs)
	c.storeFlag(fs)
	rest, err := parseArgs(fs, args[1:])
	if err != nil {
		return err
	}
	ws, err := openWorkspace(*wsPath)
	if err != nil {
		return err
	}
	defer ws.Close()
	ctx := context.Background()
	var e analysis.Edit
	switch {
	case args[0] == "edits" && len(rest) == 0:
		return c.listEdits(ctx, ws)
	case args[0] == "unedit" && len(rest) == 1:
		seq, perr := strconv.ParseInt(rest[0], 10, 64)
		if perr != nil {
			return usagef("unedit takes an edit number (see 'flowsleuth rules edits')")
		}
		return ws.RemoveEdit(ctx, seq)
	case args[0] == "exclude" && len(rest) == 1:
		if _, perr := analysis.ParsePeer(rest[0]); perr != nil {
			return usagef("exclude: %v", perr)
		}
		e = analysis.Edit{Op: analysis.EditExclude, Arg: rest[0]}
	case args[0] == "edit" && len(rest) >= 2:
		e = analysis.Edit{Rule: rest[0], Op: analysis.EditOp(rest[1]), Arg: strings.Join(rest[2:], " ")}
		if err := checkEdit(e); err != nil {
			return err
		}
		if e.Op == analysis.EditMerge && e.Arg == e.Rule {
			return usagef("a rule cannot be merged into itself")
		}
		rs, _, err := c.currentRules(ctx, ws)
		if err != nil {
			return err
		}
		for _, id := range []string{e.Rule, map[bool]string{true: e.Arg}[e.Op == analysis.EditMerge]} {
			if id != "" && !slices.ContainsFunc(rs.Rules, func(r analysis.Rule) bool { return r.ID == id }) {
				return fmt.Errorf("no rule %s in the workspace's current rules (see 'flowsleuth rules')", id)
			}
		}
	default:
		return usagef("say: rules edit ID rename NAME|describe TEXT|delete|merge OTHER-ID|split, rules exclude PEER, rules edits, rules unedit SEQ")
	}
	e, err = ws.AddEdit(ctx, e)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "edit %d recorded: %s %s %s\n", e.Seq, e.Op, e.Rule, e.Arg)
	return nil
}

// checkEdit refuses edits that miss or have a stray argument.
func checkEdit(e analysis.Edit) error {
	switch e.Op {
	case analysis.EditRename, analysis.EditDescribe, analysis.EditMerge:
		if e.Arg == "" {
			return usagef("edit %s needs an argument", e.Op)
		}
	case analysis.EditDelete, analysis.EditSplit:
		if e.Arg != "" {
			return usagef("edit %s takes no argument", e.Op)
		}
	default:
		return usagef("unknown edit %q: rename, describe, delete, merge or split", e.Op)
	}
	return nil
}

// currentRules synthesises the workspace's rules (of the store's
// conversations with --store) with its edits replayed.
func (c *cli) currentRules(ctx context.Context, ws *workspace.Workspace) (analysis.RuleSet, []analysis.EditResult, error) {
	edits, err := ws.Edits(ctx)
	if err != nil {
		return analysis.RuleSet{}, nil, err
	}
	t, err := c.workspaceOrStore(ctx, ws)
	if err != nil {
		return analysis.RuleSet{}, nil, err
	}
	k := analysis.Knobs{}
	if k.Exclude, err = analysis.Exclusions(edits); err != nil {
		return analysis.RuleSet{}, nil, err
	}
	rs, results := analysis.ApplyEdits(analysis.Synthesize(t, k), edits)
	return rs, results, nil
}

// listEdits shows the edits and whether each applies to the current rules.
func (c *cli) listEdits(ctx context.Context, ws *workspace.Workspace) error {
	_, results, err := c.currentRules(ctx, ws)
	if err != nil {
		return err
	}
	for _, r := range results {
		state := "applies"
		if !r.Applied {
			state = "does not apply: " + r.Why
		}
		fmt.Fprintf(c.stdout, "%4d  %-8s %-14s %-30s %s\n", r.Edit.Seq, r.Edit.Op, r.Edit.Rule, r.Edit.Arg, state)
	}
	if len(results) == 0 {
		fmt.Fprintln(c.stdout, "no edits")
	}
	return nil
}
