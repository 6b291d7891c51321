package main

// The rule synthesis every rule-reading command shares (rules, export,
// check): the knobs' flags and the rule set of files or of the workspace.

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/analysis/workspace"
)

// knobFlags are the rule synthesis settings.
type knobFlags struct {
	k        rules.Knobs
	focus    string
	appCats  string
	resolved bool
}

func (f *knobFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&f.k.CollapseMin, "collapse-min", rules.DefaultCollapseMin,
		"collapse outside peers into a prefix when at least this many hosts of a /24 were seen...")
	fs.Float64Var(&f.k.CollapseCoverage, "collapse-coverage", rules.DefaultCollapseCoverage,
		"...and they fill at least this percentage of the prefix")
	fs.IntVar(&f.k.AnyPeers, "any-peers", rules.DefaultAnyPeers, "use Any when more peers than this use one service")
	fs.IntVar(&f.k.ScanPorts, "scan-ports", rules.DefaultScanPorts,
		"treat a source reaching this many unanswered ports of one host as a port scan")
	fs.BoolVar(&f.k.IncludeSuspect, "include-suspect", false, "make rules of suspect traffic too instead of listing it for review")
	fs.StringVar(&f.focus, "focus", "", "only conversations with an end in these addresses, CIDRs or inventory VMs (comma separated);\n"+
		"directions are then relative to them and they are named after their VM or address")
	fs.StringVar(&f.k.TierKey, "tier-key", "", "the inventory category key naming the application's tiers (default: AppTier when the inventory has it)")
	fs.StringVar(&f.appCats, "app-category", "", `the application's category, "Key:Value" (default: the one every monitored VM of the inventory shares)`)
}

// resolve reads --focus (VM names from the workspace's inventory) and
// --app-category into the knobs.
func (f *knobFlags) resolve(c *cli, wsPath string) error {
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
			inv, invErr = c.workspaceInventory(wsPath)
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

// ruleSet synthesises the rules of files, or of the workspace with its
// edits replayed; the rule set's table holds the conversations. Call done
// once the rule set is written (see conversations).
func (c *cli) ruleSet(mf *modelFlags, k rules.Knobs, wsPath string, files []string, since, until string) (*rules.Set, func(), error) {
	c.samples = true // rules keep sample lines as evidence
	t, done, err := c.conversations(mf, wsPath, files, since, until)
	if t == nil && err != nil {
		return nil, nil, err
	}
	var rs rules.Set
	var results []rules.EditResult
	if len(files) == 0 && !c.storeWithoutWorkspace(wsPath) {
		ws, werr := c.openWorkspaceToRead(wsPath)
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
		rs = rules.Synthesize(t, k)
	}
	for _, r := range results {
		if !r.Applied {
			fmt.Fprintf(c.stderr, "flowsleuth: edit %d (%s %s) no longer applies: %s\n", r.Edit.Seq, r.Edit.Op, r.Edit.Rule, r.Why)
		}
	}
	return &rs, done, err
}

// workspaceInventory returns the inventory of the workspace at path, if
// there is one.
func (c *cli) workspaceInventory(path string) ([]workspace.InvEntry, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, noWorkspace(path, "")
	}
	ws, err := c.openWorkspaceToRead(path)
	if err != nil {
		return nil, err
	}
	defer ws.Close()
	return ws.Inventory(context.Background())
}
