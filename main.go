// Command flowsleuth turns Nutanix Flow and VMware NSX firewall logs into a
// conversation table and, from it, a micro-segmentation rule base, in a
// desktop app or on the command line ('flowsleuth help', 'flowsleuth CMD -h').
//
//	flowsleuth                                with no command: the desktop app, as 'flowsleuth gui'
//	flowsleuth gui       [flags]              open the desktop app
//	flowsleuth import    [flags] FILE...      read logs into the workspace and print what they contained
//	flowsleuth flows     [flags] [FILE...]    print the conversations (table, CSV, JSON)
//	flowsleuth rules     [flags] [FILE...]    synthesise allow rules from the conversations
//	flowsleuth export    [flags] [FILE...]    write XLSX, CSV, Nutanix v3/v4 and NSX JSON
//	flowsleuth check     --policy F [FILE...] replay the observed traffic against a policy
//	flowsleuth demo      [flags] --out FILE   write realistic demo logs and their true table
//	flowsleuth listen    [flags]              receive syslog over UDP, TCP and TLS into the workspace
//	flowsleuth store     init|info URL        create or describe a shared ClickHouse store
//	flowsleuth workspace info|export|monitor|compact
//	                                          show, export, configure or compact the workspace
//	flowsleuth inventory import FILE          name addresses after VMs and groups
//	flowsleuth version                        print the version
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	_ "time/tzdata" // --timezone names resolve on a machine without a zoneinfo database

	"github.com/flowsleuth/flowsleuth/app/message"
	"github.com/flowsleuth/flowsleuth/ingest/printable"

	_ "github.com/flowsleuth/flowsleuth/app/locale" // before Fyne initialises: no locale error under LANG=C.UTF-8
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

type command struct {
	name, args, help string
	run              func(c *cli, args []string) error
}

var commands []command

func init() {
	commands = []command{
		{"gui", "[flags]", "open the desktop app (the demo workspace when you have none)", (*cli).guiCmd},
		{"import", "[flags] FILE...", "read logs and print what they contained", (*cli).importCmd},
		{"flows", "[flags] FILE...", "print the conversations found in logs", (*cli).flowsCmd},
		{"rules", "[flags] [FILE...]", "synthesise allow rules from the conversations", (*cli).rulesCmd},
		{"export", "[flags] [FILE...]", "write the rules and flows: XLSX, CSV, Nutanix v3/v4 and NSX JSON", (*cli).exportCmd},
		{"check", "--policy F [FILE...]", "replay the observed traffic against a policy: what it would block", (*cli).checkCmd},
		{"demo", "[flags] --out FILE", "write realistic demo logs and their true conversation table", (*cli).demoCmd},
		{"listen", "[flags]", "receive syslog over UDP, TCP and TLS into the workspace", (*cli).listenCmd},
		{"store", "init|info URL", "create or describe a ClickHouse store shared by collectors", (*cli).storeCmd},

		{"workspace", "CMD [ARG]", "info, export, monitor or compact: the workspace itself ('workspace -h')", (*cli).workspaceCmd},
		{"inventory", "import FILE", "name addresses after VMs and groups from an inventory export", (*cli).inventoryCmd},
		{"version", "", "print the version", (*cli).versionCmd},
	}
}

func run(args []string, stdin io.Reader, rawOut, rawErr io.Writer) int {
	stdout, stderr := printable.NewWriter(rawOut), printable.NewWriter(rawErr) // messages quote log text
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, rawOut: rawOut, rawErr: rawErr,
		log: message.NewLog(message.DefaultLogPath())}
	if len(args) == 0 {
		// What a desktop launcher or a double-click runs: open the app.
		// In a terminal with no display, say what there is instead.
		if err := haveDisplay(); err != nil {
			c.usage()
			fmt.Fprintf(stderr, "\nflowsleuth: %v\n", err)
			return exitUsage
		}
		args = []string{"gui"}
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		c.usage()
		return exitOK
	}
	for _, cmd := range commands {
		if cmd.name != args[0] {
			continue
		}
		err := cmd.run(c, args[1:])
		var ue *usageError
		switch {
		case err == nil:
			return exitOK
		case errors.Is(err, flag.ErrHelp):
			return exitOK
		case errors.As(err, &ue) && ue.reported:
			return exitUsage
		case errors.As(err, &ue):
			fmt.Fprintf(stderr, "flowsleuth %s: %s\n", cmd.name, ue.msg)
			if ue.hint != "" {
				fmt.Fprintf(stderr, "  %s\n", ue.hint)
			}
			fmt.Fprintf(stderr, "Run 'flowsleuth %s -h' for usage.\n", cmd.name)
			return exitUsage
		default:
			c.report(cmd.name, err)
			return exitFailure
		}
	}
	fmt.Fprintf(stderr, "flowsleuth: unknown command %q\n", args[0])
	c.usage()
	return exitUsage
}

// report prints err for people (message.For) and logs its whole chain:
// "flowsleuth CMD: text", the hint, then the error itself, whose layers
// often name what the words cannot (which record, which process). An
// error no rule knows is printed as it is, with where the log is.
func (c *cli) report(name string, err error) {
	m := message.For(err)
	logErr := c.log.Record("flowsleuth "+name, err)
	if m.Unexpected {
		fmt.Fprintf(c.stderr, "flowsleuth %s: %v\n", name, err)
		if logErr == nil {
			fmt.Fprintf(c.stderr, "  details in %s\n", c.log.Path())
		}
		return
	}
	fmt.Fprintf(c.stderr, "flowsleuth %s: %s\n", name, m.Text)
	if m.Hint != "" {
		fmt.Fprintf(c.stderr, "  %s\n", m.Hint)
	}
	fmt.Fprintf(c.stderr, "  (%v)\n", err)
}

func (c *cli) usage() {
	fmt.Fprintf(c.stderr, "FlowSleuth %s: firewall logs to a micro-segmentation rule base.\n\nUsage:\n", version)
	w := tabwriter.NewWriter(c.stderr, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "  flowsleuth\t\t%s\n", "with no command: open the desktop app, as 'flowsleuth gui'")
	for _, cmd := range commands {
		fmt.Fprintf(w, "  flowsleuth %s\t%s\t%s\n", cmd.name, cmd.args, cmd.help)
	}
	w.Flush()
	fmt.Fprintf(c.stderr, "\nFILE may be a plain or gzip-compressed log, or - for standard input.\n")
	fmt.Fprintf(c.stderr, "Errors are logged in full to %s.\n", c.log.Path())
}

func (c *cli) versionCmd(args []string) error {
	fmt.Fprintf(c.stdout, "flowsleuth %s\n", version)
	return nil
}
