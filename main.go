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
//	flowsleuth workspace info|export|monitor  show, export or configure the workspace
//	flowsleuth inventory import FILE          name addresses after VMs and groups
//	flowsleuth version                        print the version
package main

import (
	"os"

	_ "github.com/flowsleuth/flowsleuth/app/locale" // before Fyne initialises: no locale error under LANG=C.UTF-8
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
