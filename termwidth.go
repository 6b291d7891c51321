package main

import (
	"os"
	"strconv"

	"github.com/flowsleuth/flowsleuth/export"
)

// tableOptions returns how the flows and rules tables fit standard output:
// a terminal's width (else $COLUMNS when set; else no limit, the full text,
// for files and pipes), unless wide. The terminal is the one beneath the
// escaping stdout (printable), which is not a file.
func (c *cli) tableOptions(wide bool) export.TableOptions {
	o := export.TableOptions{Wide: wide}
	if f, ok := c.rawOut.(*os.File); ok {
		o.Width = terminalWidth(f)
	}
	if o.Width == 0 {
		o.Width, _ = strconv.Atoi(os.Getenv("COLUMNS"))
	}
	return o
}
