package main

import (
	"io"
	"os"
	"strconv"

	"github.com/flowsleuth/flowsleuth/export"
)

// tableOptions returns how the flows and rules tables fit w: a terminal's
// width (else $COLUMNS when set; else no limit, the full text, for files and
// pipes), unless wide.
func tableOptions(w io.Writer, wide bool) export.TableOptions {
	o := export.TableOptions{Wide: wide}
	if f, ok := w.(*os.File); ok {
		o.Width = terminalWidth(f)
	}
	if o.Width == 0 {
		o.Width, _ = strconv.Atoi(os.Getenv("COLUMNS"))
	}
	return o
}
