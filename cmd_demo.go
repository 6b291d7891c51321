package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/flowsleuth/flowsleuth/export"
	"github.com/flowsleuth/flowsleuth/ingest/demo"
)

func (c *cli) demoCmd(args []string) error {
	fs := c.newFlagSet("demo", "[flags] --out FILE | --inventory FILE",
		"Writes realistic firewall logs of a small three-tier application (web, app, db, shared\n"+
			"services, internet clients, scanners) and, with --truth, its true conversation table in\n"+
			"the format of 'flowsleuth flows --format csv'; with --inventory, the inventory of its VMs\n"+
			"(categories AppType:Books and AppTier:Web/App/DB, NSX groups SGTSWEB/SGTSAPP/SGTSDB and\n"+
			"SGTSBOOKS) for 'flowsleuth inventory import'.")
	vendor := fs.String("vendor", "nutanix", "nutanix, nsxv, nsxt or nsx4")
	wrap := fs.String("wrap", "", "syslog wrapper (default: the vendor's usual one); see -list-wraps")
	sessions := fs.Int("sessions", 1000, "number of connections to simulate")
	seed := fs.Int64("seed", 1, "random seed: the same flags give the same files")
	start := fs.String("start", "", "time of the first event, RFC 3339 (default 2025-04-07T00:00:00Z)")
	days := fs.Int("days", 7, "days the traffic is spread over")
	out := fs.String("out", "", "log file to write (- for standard output)")
	truth := fs.String("truth", "", "also write the true conversation table (CSV) here")
	inv := fs.String("inventory", "", "write the inventory of the application's VMs (name,ip,groups CSV) here")
	list := fs.Bool("list-wraps", false, "list the wrappers of each vendor and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *list {
		for _, v := range []string{"nutanix", "nsxv", "nsxt", "nsx4"} {
			fmt.Fprintf(c.stdout, "%-8s %s\n", v, strings.Join(demo.Wrappers(v), " "))
		}
		return nil
	}
	if *out == "" && *inv == "" {
		return usagef("--out or --inventory is required")
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	cfg := demo.Config{Vendor: *vendor, Wrap: *wrap, Sessions: *sessions, Seed: *seed, Days: *days}
	if !validWrap(cfg.Vendor, cfg.Wrap) {
		return usagef("unknown --vendor %q or --wrap %q (see -list-wraps)", cfg.Vendor, cfg.Wrap)
	}
	if *start != "" {
		t, err := time.Parse(time.RFC3339, *start)
		if err != nil {
			return usagef("--start: %v", err)
		}
		cfg.Start = t
	}
	return c.writeDemoFiles(cfg, *out, *inv, *truth)
}

// writeDemoFiles writes what demo was asked for with cfg: the inventory to
// inv, the log to out and its true conversation table to truth ("": not
// written), and says what it wrote.
func (c *cli) writeDemoFiles(cfg demo.Config, out, inv, truth string) error {
	if inv != "" {
		if err := writeDemoInventory(inv, cfg); err != nil {
			return err
		}
		fmt.Fprintf(c.stderr, "wrote the inventory of the demo's VMs to %s\n", inv)
		if out == "" {
			return nil
		}
	}
	sum, rows, err := c.writeDemo(out, cfg)
	if err != nil {
		return err
	}
	if truth != "" {
		if err := writeFileAtomic(truth, func(w *bufio.Writer) error { return demo.WriteTruthCSV(w, rows) }); err != nil {
			return err
		}
	}
	fmt.Fprintf(c.stderr, "wrote %s lines (%d sessions, %d conversations, %s to %s) to %s\n",
		group(sum.Lines), sum.Sessions, len(rows), sum.First.Format(time.RFC3339), sum.Last.Format(time.RFC3339), out)
	return nil
}

func validWrap(vendor, wrap string) bool {
	ws := demo.Wrappers(vendor)
	if len(ws) == 0 {
		return false
	}
	if wrap == "" {
		return true
	}
	for _, w := range ws {
		if w == wrap {
			return true
		}
	}
	return false
}

// writeDemo writes the logs and dates the file at the last event, so that
// RFC 3164 stamps (which have no year) are read back in the right year.
func (c *cli) writeDemo(out string, cfg demo.Config) (demo.Summary, []demo.Row, error) {
	var sum demo.Summary
	var rows []demo.Row
	gen := func(w *bufio.Writer) (err error) {
		rows, sum, err = demo.Generate(w, cfg)
		return err
	}
	if out == "-" {
		w := bufio.NewWriterSize(c.rawOut, 1<<20) // log lines
		if err := gen(w); err != nil {
			return sum, nil, err
		}
		return sum, rows, w.Flush()
	}
	if err := writeFileAtomic(out, gen); err != nil {
		return sum, nil, err
	}
	if !sum.Last.IsZero() {
		if err := os.Chtimes(out, sum.Last, sum.Last); err != nil {
			return sum, nil, err
		}
	}
	return sum, rows, nil
}

// writeDemoInventory writes the inventory of cfg's world.
func writeDemoInventory(path string, cfg demo.Config) error {
	vms, err := demo.Inventory(cfg)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, func(w *bufio.Writer) error { return demo.WriteInventoryCSV(w, vms) })
}

// writeFileAtomic writes a file whole or not at all (see export.WriteFile).
var writeFileAtomic = export.WriteFile
