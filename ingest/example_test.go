package ingest_test

import (
	"fmt"

	"github.com/flowsleuth/flowsleuth/ingest"
)

func ExampleParser_Parse() {
	lines := []string{
		// Nutanix Flow policy hit log, as rsyslog writes it.
		"2025-12-11T12:51:08.857757+00:00 ahv-host-1 ahv INFO:2025/12/11 12:51:05  [c06984c8-d504-4322-bd52-fff217781885] " +
			"Default Global Policy [Destroy] SRC=100.64.128.20 DST=34.243.160.129 PROTO=TCP SPORT=48256 DPORT=443 " +
			"ACTION=ALLOW DIRECTION=OUTBOUND ORIG: PKTS=10 BYTES=1314 REPLY: PKTS=10 BYTES=4429 " +
			"DESCRIPTION=Allow Outbound Internet via HTTP and HTTPS",
		// NSX 4 distributed firewall, RFC 5424.
		"<13>1 2024-05-15T19:41:25.001Z vcf-w1c1-esxi05.corporate.rjet.com FIREWALL-PKTLOG - - - " +
			"INET TERM PASS 5096 OUT TCP RST 10.10.10.11/60517->10.10.10.10/443 9/8 1461/4677 DR-Allow",
		// Something else.
		"<30>Apr 10 10:12:51 ahv-1 systemd[1]: Started Session 1 of user root.",
	}
	p := ingest.NewParser()
	var ev ingest.Event
	for _, line := range lines {
		bucket, err := p.Parse([]byte(line), &ev)
		if bucket != ingest.Parsed {
			fmt.Println(bucket, err)
			continue
		}
		fmt.Printf("%s %s %s %s %s:%d -> %s:%d %s %s %q\n", ev.Vendor, ev.Kind, ev.Time.Format("2006-01-02T15:04:05Z07:00"),
			ev.Host, ev.Src, ev.SPort, ev.Dst, ev.DPort, ingest.ProtoName(ev.Proto), ev.Action, ev.Label())
	}
	// Output:
	// nutanix destroy 2025-12-11T12:51:05Z ahv-host-1 100.64.128.20:48256 -> 34.243.160.129:443 TCP ALLOW "Default Global Policy"
	// nsx4 term 2024-05-15T19:41:25Z vcf-w1c1-esxi05.corporate.rjet.com 10.10.10.11:60517 -> 10.10.10.10:443 TCP ALLOW "DR-Allow"
	// skipped <nil>
}
