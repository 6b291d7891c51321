package inventory_test

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/flowsleuth/flowsleuth/analysis/inventory"
)

func ExampleReadCSV() {
	const export = `VM Name,Host,IP Addresses,Power State,Cluster,Categories
web-01,ahv-node-1,"10.10.1.11, 10.10.1.12",On,PROD,"AppTier: Web, Environment: Production"
jump-01,ahv-node-2,-,Off,PROD,Environment: Management
`
	vms, rep, err := inventory.ReadCSV(strings.NewReader(export))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, vm := range vms {
		fmt.Println(vm.Name, vm.IPs, vm.Groups)
	}
	fmt.Println(rep.Format, rep.Columns["ip"], rep.Columns["groups"])
	for _, p := range rep.Skipped {
		fmt.Printf("row %d: %s\n", p.Row, p.Reason)
	}
	// Output:
	// web-01 [10.10.1.11 10.10.1.12] [AppTier:Web Environment:Production]
	// prism-central IP Addresses Categories
	// row 3: no valid IP address in "IP Addresses": "-"
}

func ExampleIndex_Lookup() {
	vms, _, err := inventory.ReadCSV(strings.NewReader("name,ip,tags\nweb01,10.0.1.11,web|prod\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	ix := inventory.NewIndex(vms)
	for _, s := range []string{"10.0.1.11", "10.0.1.99"} {
		vm, ok := ix.Lookup(netip.MustParseAddr(s))
		fmt.Println(s, vm.Name, vm.Groups, ok)
	}
	// Output:
	// 10.0.1.11 web01 [prod web] true
	// 10.0.1.99  [] false
}
