package ingest_test

import (
	"testing"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// Lines benchmarked, one per vendor and wrapper (log-formats.md §4).
var benchLines = []struct {
	Name string
	Line string
}{
	{"NutanixForward", "<134>2020-05-31T12:42:15.058679+00:00 RTP-POC007-1 flow-hitCount4: INFO:2020/05/31 12:42:06 [7847abb0-285b-4ff9-bb40-271df1a0c229] test [Destroy] SRC=10.55.7.26 DST=10.55.7.140 PROTO=UDP SPORT=45214 DPORT=10514 ACTION=ALLOW DIRECTION=OUTBOUND ORIG: PKTS=10 BYTES=1314 REPLY: PKTS=10 BYTES=4429"},
	{"NutanixVSS", "10.48.52.230 Apr 10 11:12:46 local0 info 2025-04-10T10:12:51.646697+00:00 GSO-EVERGLADE01-4-1 Genesis_1: INFO:2025/04/10 10:11:55 [ff16a6fb-ff89-4c2d-a9c8-f67030f93d79] Discover-Traffic [Update] SRC=10.48.52.240 DST=20.10.31.115 PROTO=TCP SPORT=49873 DPORT=443 ACTION=MONITOR DIRECTION=OUTBOUND ORIG: PKTS=995 BYTES=85031 REPLY: PKTS=585 BYTES=101450"},
	{"NSXTLocal", "2018-07-03T19:44:09.749Z b6507827 INET match PASS mainrs/1024 IN 52 TCP 192.168.4.3/49627->192.168.4.4/49153 SEW"},
	{"NSXTForward", "<14>2025-06-02T06:00:00.008Z esxi-prod-01 FIREWALL_PKTLOG: 5a05ebbf INET match PASS 4100 IN 60 TCP 100.64.0.1/1024->10.60.10.1/443 S SG-WEB-FRONTEND"},
	{"NSX4RFC5424", "<13>1 2024-05-15T19:41:25.001Z vcf-w1c1-esxi05.corporate.rjet.com FIREWALL-PKTLOG - - - INET TERM PASS 5096 OUT TCP RST 10.10.10.11/60517->10.10.10.10/443 9/8 1461/4677 DR-Allow"},
}

// Lines with a <PRI> header that go-syslog can read, for the fast path
// against the library.
var benchLibLines = []struct {
	Name string
	Line string
}{
	{"RFC5424", benchLines[3].Line},
	{"RFC3164", "<14>Sep 17 10:34:55 esxi-01 dfwpktlogs: 7295 INET match DROP domain-c46/1005 OUT 78 UDP 10.2.5.10/137->10.2.5.255/137"},
}

var sinkBucket ingest.Bucket

func benchParse(b *testing.B, line string, opts ...ingest.Option) {
	p := ingest.NewParser(opts...)
	in := []byte(line)
	var ev ingest.Event
	if bucket, err := p.Parse(in, &ev); bucket != ingest.Parsed {
		b.Fatalf("bucket %v: %v", bucket, err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		sinkBucket, _ = p.Parse(in, &ev)
	}
}

func BenchmarkParse(b *testing.B) {
	for _, bl := range benchLines {
		b.Run(bl.Name, func(b *testing.B) { benchParse(b, bl.Line) })
	}
}

func BenchmarkParseLibrary(b *testing.B) {
	for _, bl := range benchLibLines {
		b.Run(bl.Name+"/fast", func(b *testing.B) { benchParse(b, bl.Line) })
		b.Run(bl.Name+"/go-syslog", func(b *testing.B) { benchParse(b, bl.Line, ingest.WithSyslogLibrary(true)) })
	}
}
