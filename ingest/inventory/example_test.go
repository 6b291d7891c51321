package inventory_test

import (
	"fmt"
	"strings"

	"github.com/flowsleuth/flowsleuth/ingest/inventory"
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
