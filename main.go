// Command flowsleuth turns Nutanix Flow and VMware NSX firewall logs into a
// conversation table and, from it, a micro-segmentation rule base.
//
//	flowsleuth import [flags] FILE...   read logs and print what they contained
//	flowsleuth flows  [flags] FILE...   print the conversations (table, CSV, JSON)
//	flowsleuth demo   [flags]           write realistic demo logs and their true table
package main

import (
	"os"

	_ "github.com/flowsleuth/flowsleuth/app/locale" // before Fyne initialises: no locale error under LANG=C.UTF-8
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
