package demo_test

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest/demo"
)

// ExampleGenerate writes two NSX-T sessions in the ESXi local file form: an
// app → database ping logged at both vNICs and a scanner's unanswered SYN.
func ExampleGenerate() {
	cfg := demo.Config{Vendor: "nsxt", Wrap: "local", Sessions: 2, Seed: 1024, Days: 1}
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
	// 2025-04-07T00:00:00.000Z a66f7ba4 INET match PASS 3042 OUT 84 ICMP 10.20.20.22->10.20.30.32 SGTSAPP
	// 2025-04-07T00:00:00.000Z 4b24357f INET match PASS 3043 IN 84 ICMP 10.20.20.22->10.20.30.32 SGTSDB
	// 2025-04-07T00:00:22.005Z a66f7ba4 INET TERM PASS 3042 OUT ICMP 10.20.20.22->10.20.30.32 3/3 252/252 SGTSAPP
	// 2025-04-07T00:00:22.005Z 4b24357f INET TERM PASS 3043 IN ICMP 10.20.20.22->10.20.30.32 3/3 252/252 SGTSDB
	// 2025-04-07T17:03:03.129Z 51bafb16 INET match PASS 3041 IN 44 TCP 203.0.113.66/45947->10.20.10.11/475 S SGTSWEB
	// 2025-04-07T17:03:33.129Z 51bafb16 INET TERM PASS 3041 IN TCP TIMEOUT 203.0.113.66/45947->10.20.10.11/475 1/0 44/0 SGTSWEB
	// 6 lines, 2 sessions, last 2025-04-07T17:03:33Z
	// direction,tags,src,dst,proto,dport,sessions,packets,bytes,first_seen,last_seen,actions,hosts
	// INBOUND,SGTSWEB,203.0.113.66,10.20.10.11,TCP,475,1,1,44,2025-04-07T17:03:03Z,2025-04-07T17:03:33Z,ALLOW,
	// INTRA,SGTSAPP;SGTSDB,10.20.20.22,10.20.30.32,ICMP,0,1,6,504,2025-04-07T00:00:00Z,2025-04-07T00:00:22Z,ALLOW,
}
