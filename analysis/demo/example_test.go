package demo_test

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis/demo"
)

// ExampleGenerate writes two NSX-T sessions in the ESXi local file form: a
// scanner's unanswered SYN and an app → database ping logged at both vNICs.
func ExampleGenerate() {
	cfg := demo.Config{Vendor: "nsxt", Wrap: "local", Sessions: 2, Seed: 4, Days: 1}
	rows, sum, err := demo.Generate(os.Stdout, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sum.Lines, "lines,", sum.Sessions, "sessions, last", sum.Last.Format(time.RFC3339))
	var truth strings.Builder
	if err := demo.WriteTruthCSV(&truth, rows); err != nil {
		fmt.Println(err)
	}
	fmt.Print(strings.ReplaceAll(truth.String(), "\r\n", "\n")) // the CSV ends lines with CRLF (RFC 4180)
	// Output:
	// 2025-04-07T00:00:00.000Z 6b56ecb5 INET match PASS 3041 IN 44 TCP 203.0.113.66/47815->10.20.10.11/173 S SGTSWEB
	// 2025-04-07T00:00:30.000Z 6b56ecb5 INET TERM PASS 3041 IN TCP TIMEOUT 203.0.113.66/47815->10.20.10.11/173 1/0 44/0 SGTSWEB
	// 2025-04-07T14:09:04.172Z d5bdf984 INET match PASS 3042 OUT 84 ICMP 10.20.20.21->10.20.30.31 SGTSAPP
	// 2025-04-07T14:09:04.172Z 3a52d5fa INET match PASS 3043 IN 84 ICMP 10.20.20.21->10.20.30.31 SGTSDB
	// 2025-04-07T14:09:28.173Z d5bdf984 INET TERM PASS 3042 OUT ICMP 10.20.20.21->10.20.30.31 5/5 420/420 SGTSAPP
	// 2025-04-07T14:09:28.173Z 3a52d5fa INET TERM PASS 3043 IN ICMP 10.20.20.21->10.20.30.31 5/5 420/420 SGTSDB
	// 6 lines, 2 sessions, last 2025-04-07T14:09:28Z
	// direction,tags,src,dst,proto,dport,sessions,packets,bytes,first_seen,last_seen,actions,hosts
	// INBOUND,SGTSWEB,203.0.113.66,10.20.10.11,TCP,173,1,1,44,2025-04-07T00:00:00Z,2025-04-07T00:00:30Z,ALLOW,
	// INTRA,SGTSAPP;SGTSDB,10.20.20.21,10.20.30.31,ICMP,0,1,10,840,2025-04-07T14:09:04Z,2025-04-07T14:09:28Z,ALLOW,
}
