package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/analysis/services"
	"github.com/flowsleuth/flowsleuth/analysis/workspace"
	"github.com/flowsleuth/flowsleuth/export"
)

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
	table := func(w io.Writer, rs rules.Set) error {
		return export.WriteRulesTable(w, rs, c.tableOptions(*wide))
	}
	write, ok := map[string]func(io.Writer, rules.Set) error{
		"table": table, "csv": export.WriteRulesCSV, "json": export.WriteRulesJSON,
	}[*format]
	if !ok {
		return usagef("--format must be table, csv or json, not %q", *format)
	}
	if rerr := kf.resolve(c, *wsPath); rerr != nil {
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
func (c *cli) listOutside(rs *rules.Set, items []rules.ReviewItem) {
	if len(items) == 0 {
		return
	}
	verb := "are"
	if len(items) == 1 {
		verb = "is"
	}
	fmt.Fprintf(c.stderr, "flowsleuth rules: %s %s outside the scope (neither end monitored or in --focus), not rules:\n",
		analysis.Plural(uint64(len(items)), "conversation"), verb)
	for i, it := range items {
		if i == 20 {
			fmt.Fprintf(c.stderr, "  … and %s more (--format table or json lists them all)\n", analysis.Thousands(uint64(len(items)-i)))
			break
		}
		t, row := rs.Table, int(it.Row)
		fmt.Fprintf(c.stderr, "  %s -> %s %s\n", t.Src(row), t.Dst(row), services.Label(t.Proto(row), t.DPort(row)))
	}
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
	ws, err := c.openWorkspace(*wsPath)
	if err != nil {
		return err
	}
	defer ws.Close()
	ctx := context.Background()
	var e rules.Edit
	switch {
	case args[0] == "edits" && len(rest) == 0:
		return c.listEdits(ctx, ws)
	case args[0] == "unedit" && len(rest) == 1:
		return unedit(ctx, ws, rest[0])
	case args[0] == "exclude" && len(rest) == 1:
		if _, perr := analysis.ParsePeer(rest[0]); perr != nil {
			return usagef("exclude: %v", perr)
		}
		e = rules.Edit{Op: rules.EditExclude, Arg: rest[0]}
	case args[0] == "edit" && len(rest) >= 2:
		if e, err = c.ruleEdit(ctx, ws, rest); err != nil {
			return err
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

// unedit undoes edit number seq ("rules unedit SEQ").
func unedit(ctx context.Context, ws *workspace.Workspace, seq string) error {
	n, err := strconv.ParseInt(seq, 10, 64)
	if err != nil {
		return usagef("unedit takes an edit number (see 'flowsleuth rules edits')")
	}
	return ws.RemoveEdit(ctx, n)
}

// ruleEdit reads "rules edit ID OP [ARG...]": an edit of a rule of the
// workspace's current rules (and, to merge, into another of them).
func (c *cli) ruleEdit(ctx context.Context, ws *workspace.Workspace, rest []string) (rules.Edit, error) {
	e := rules.Edit{Rule: rest[0], Op: rules.EditOp(rest[1]), Arg: strings.Join(rest[2:], " ")}
	if err := checkEdit(e); err != nil {
		return e, err
	}
	if e.Op == rules.EditMerge && e.Arg == e.Rule {
		return e, usagef("a rule cannot be merged into itself")
	}
	rs, _, err := c.currentRules(ctx, ws)
	if err != nil {
		return e, err
	}
	for _, id := range []string{e.Rule, map[bool]string{true: e.Arg}[e.Op == rules.EditMerge]} {
		if id != "" && !slices.ContainsFunc(rs.Rules, func(r rules.Rule) bool { return r.ID == id }) {
			return e, fmt.Errorf("no rule %s in the workspace's current rules (see 'flowsleuth rules')", id)
		}
	}
	return e, nil
}

// checkEdit refuses edits that miss or have a stray argument.
func checkEdit(e rules.Edit) error {
	switch e.Op {
	case rules.EditRename, rules.EditDescribe, rules.EditMerge:
		if e.Arg == "" {
			return usagef("edit %s needs an argument", e.Op)
		}
	case rules.EditDelete, rules.EditSplit:
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
func (c *cli) currentRules(ctx context.Context, ws *workspace.Workspace) (rules.Set, []rules.EditResult, error) {
	k, edits, err := ws.Knobs(ctx, rules.Knobs{})
	if err != nil {
		return rules.Set{}, nil, err
	}
	t, err := c.workspaceOrStore(ctx, ws)
	if err != nil {
		return rules.Set{}, nil, err
	}
	rs, results := rules.ApplyEdits(rules.Synthesize(t, k), edits)
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
