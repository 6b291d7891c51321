package ingest_test

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// Payloads and their events, reused by the wrapper cases (log-formats.md §4).
const (
	nuHead = "INFO:2025/04/10 10:11:55  [ff16a6fb-ff89-4c2d-a9c8-f67030f93d79] "
	nuBody = "Discover-Traffic [Update] SRC=10.48.52.240 DST=20.10.31.115 PROTO=TCP SPORT=49873 DPORT=443 " +
		"ACTION=MONITOR DIRECTION=OUTBOUND ORIG: PKTS=995 BYTES=85031 REPLY: PKTS=585 BYTES=101450"
	nuPayload  = nuHead + nuBody
	nsxPayload = "f2c65dd5 INET TERM 24642815 IN UDP 10.23.150.100/53408->10.123.70.101/53 1/1 72/103"
	nsxVPay    = "7295 INET match DROP domain-c46/1005 OUT 78 UDP 10.2.5.10/137->10.2.5.255/137"
)

var (
	addr    = netip.MustParseAddr
	utc     = func(s string) time.Time { t, _ := time.Parse(time.RFC3339Nano, s); return t.UTC() }
	nuTime  = utc("2025-04-10T10:11:55Z")
	vmcTime = utc("2020-05-15T09:08:27.965Z")
)

// nuEvent is the event of nuPayload, changed by fs.
func nuEvent(fs ...func(*ingest.Event)) *ingest.Event {
	ev := &ingest.Event{
		Vendor: ingest.Nutanix, Kind: ingest.KindUpdate, Time: nuTime,
		Src: addr("10.48.52.240"), Dst: addr("20.10.31.115"), Proto: ingest.ProtoTCP, SPort: 49873, DPort: 443,
		Action: ingest.ActionMonitor, Direction: ingest.DirOutbound,
		HasCounters: true, OrigPkts: 995, OrigBytes: 85031, ReplyPkts: 585, ReplyBytes: 101450,
		PolicyID: "ff16a6fb-ff89-4c2d-a9c8-f67030f93d79", Policy: "Discover-Traffic", Level: "INFO",
	}
	for _, f := range fs {
		f(ev)
	}
	return ev
}

// nsxEvent is the event of nsxPayload (the VMC TERM line), changed by fs.
func nsxEvent(fs ...func(*ingest.Event)) *ingest.Event {
	ev := &ingest.Event{
		Vendor: ingest.NSXT, Kind: ingest.KindTerm,
		Src: addr("10.23.150.100"), Dst: addr("10.123.70.101"), Proto: ingest.ProtoUDP, SPort: 53408, DPort: 53,
		Direction: ingest.DirInbound, HasCounters: true, OrigPkts: 1, ReplyPkts: 1, OrigBytes: 72, ReplyBytes: 103,
		Filter: "f2c65dd5", Rule: "24642815",
	}
	for _, f := range fs {
		f(ev)
	}
	return ev
}

// nsxVEvent is the event of nsxVPay, changed by fs.
func nsxVEvent(fs ...func(*ingest.Event)) *ingest.Event {
	ev := &ingest.Event{
		Vendor: ingest.NSXV, Kind: ingest.KindMatch, Src: addr("10.2.5.10"), Dst: addr("10.2.5.255"),
		Proto: ingest.ProtoUDP, SPort: 137, DPort: 137, Action: ingest.ActionDrop, Direction: ingest.DirOutbound,
		Filter: "7295", RuleSet: "domain-c46", Rule: "1005", Length: 78,
	}
	for _, f := range fs {
		f(ev)
	}
	return ev
}

func host(h string) func(*ingest.Event)          { return func(e *ingest.Event) { e.Host = h } }
func at(t time.Time) func(*ingest.Event)         { return func(e *ingest.Event) { e.Time = t } }
func vendor(v ingest.Vendor) func(*ingest.Event) { return func(e *ingest.Event) { e.Vendor = v } }

// diffEvent lists the fields in which got and want differ, ignoring Raw.
func diffEvent(got, want *ingest.Event) string {
	var b strings.Builder
	gv, wv := reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()
	for i := 0; i < gv.NumField(); i++ {
		name := gv.Type().Field(i).Name
		g, w := gv.Field(i).Interface(), wv.Field(i).Interface()
		switch name {
		case "Raw":
			continue
		case "Time":
			if g.(time.Time).Equal(w.(time.Time)) {
				continue
			}
		default:
			if reflect.DeepEqual(g, w) {
				continue
			}
		}
		fmt.Fprintf(&b, "\n\t%s: got %v, want %v", name, g, w)
	}
	return b.String()
}

// parseCase is one table row: In is parsed by a Parser with Opts (after the
// common reference time); Want, when set, is the whole expected Event.
type parseCase struct {
	Name    string
	In      string
	Opts    []ingest.Option
	Bucket  ingest.Bucket
	Want    *ingest.Event
	WantErr error
}

func runCases(t *testing.T, cases []parseCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			opts := append([]ingest.Option{ingest.WithReferenceTime(goldenRef)}, tc.Opts...)
			for _, lib := range []bool{false, true} {
				p := ingest.NewParser(append(opts, ingest.WithSyslogLibrary(lib))...)
				var ev ingest.Event
				b, err := p.Parse([]byte(tc.In), &ev)
				if b != tc.Bucket {
					t.Errorf("library=%v: bucket = %v (err %v), want %v", lib, b, err, tc.Bucket)
				}
				switch {
				case tc.WantErr == nil && err != nil:
					t.Errorf("library=%v: err = %v, want nil", lib, err)
				case tc.WantErr != nil && !errors.Is(err, tc.WantErr):
					t.Errorf("library=%v: err = %v, want %v", lib, err, tc.WantErr)
				}
				if tc.Want != nil && b == ingest.Parsed {
					if d := diffEvent(&ev, tc.Want); d != "" {
						t.Errorf("library=%v: event differs:%s", lib, d)
					}
				}
			}
		})
	}
}

// wrapperCases are the syslog and file wrappers of log-formats.md §1. The
// NSX payloads carry no time, so Want.Time is the header's.
var wrapperCases = []parseCase{
	{Name: "RFC5424/NSX4", In: "<13>1 2024-05-15T19:41:25.001Z vcf-w1c1-esxi05.corporate.rjet.com FIREWALL-PKTLOG - - - INET TERM PASS 5096 OUT TCP RST 10.10.10.11/60517->10.10.10.10/443 9/8 1461/4677 DR-Allow",
		Want: &ingest.Event{Vendor: ingest.NSX4, Kind: ingest.KindTerm, Time: utc("2024-05-15T19:41:25.001Z"),
			Host: "vcf-w1c1-esxi05.corporate.rjet.com", Src: addr("10.10.10.11"), Dst: addr("10.10.10.10"),
			Proto: ingest.ProtoTCP, SPort: 60517, DPort: 443, Action: ingest.ActionAllow, Direction: ingest.DirOutbound,
			HasCounters: true, OrigPkts: 9, ReplyPkts: 8, OrigBytes: 1461, ReplyBytes: 4677,
			Rule: "5096", Tag: "DR-Allow", Close: "RST"}},
	{Name: "RFC5424/nil host and time", In: "<13>1 - - FIREWALL_PKTLOG - - - " + nsxPayload, Want: nsxEvent()},
	{Name: "RFC5424/structured data", In: "<14>1 2025-04-10T10:12:51.646697+00:00 ahv-1 Genesis_1 4711 HIT [meta seq=\"1\"] " + nuPayload,
		Want: nuEvent(host("ahv-1"))},
	{Name: "RFC5424/no version (SC4S)", In: "<13>2024-05-15T19:41:25.001Z esx-5 FIREWALL-PKTLOG - - - " + nsxPayload,
		Want: nsxEvent(host("esx-5"), at(utc("2024-05-15T19:41:25.001Z")), vendor(ingest.NSX4))},
	{Name: "RFC3164/NSX-V", In: "<14>Sep 17 09:41:50 esxi-01 dfwpktlogs: " + nsxVPay,
		Want: nsxVEvent(host("esxi-01"), at(utc("2025-09-17T09:41:50Z")))},
	{Name: "RFC3164/space-padded day", In: "<14>Mar  3 00:02:11 esxi-01 dfwpktlogs: " + nsxVPay,
		Want: nsxVEvent(host("esxi-01"), at(utc("2026-03-03T00:02:11Z")))},
	{Name: "RFC3164/Nutanix", In: "<134>Apr 10 10:12:51 ahv-host-1 Genesis_1: " + nuPayload, Want: nuEvent(host("ahv-host-1"))},
	{Name: "RFC3164/tag with pid", In: "<14>Sep 17 09:41:50 esxi-01 dfwpktlogs[2101]: " + nsxVPay,
		Want: nsxVEvent(host("esxi-01"), at(utc("2025-09-17T09:41:50Z")))},
	{Name: "RFC3164/no tag", In: "<134>Apr 10 10:12:51 ahv-host-1 " + nuPayload, Want: nuEvent(host("ahv-host-1"))},
	{Name: "RFC3164/Feb 29", In: "<14>Feb 29 09:41:50 esxi-01 dfwpktlogs: " + nsxVPay,
		Want: nsxVEvent(host("esxi-01"), at(utc("2024-02-29T09:41:50Z")))},
	{Name: "RFC3164/SC4S space after PRI", In: "<144> Sep 17 09:41:50 esxi-01 dfwpktlogs: 4711 INET match PASS domain-c7/1001 IN 60 TCP 10.33.24.50/45926->10.33.24.9/8140 S",
		Want: &ingest.Event{Vendor: ingest.NSXV, Kind: ingest.KindMatch, Time: utc("2025-09-17T09:41:50Z"), Host: "esxi-01",
			Src: addr("10.33.24.50"), Dst: addr("10.33.24.9"), Proto: ingest.ProtoTCP, SPort: 45926, DPort: 8140,
			Action: ingest.ActionAllow, Direction: ingest.DirInbound, Filter: "4711", RuleSet: "domain-c7", Rule: "1001",
			Length: 60, Flags: "S"}},
	{Name: "forward/fraction", In: "<99>2020-05-15T09:08:27.965Z ip-10-23-254-72 FIREWALL_PKTLOG: " + nsxPayload,
		Want: nsxEvent(host("ip-10-23-254-72"), at(vmcTime))},
	{Name: "forward/no fraction", In: "<99>2020-05-15T09:08:27Z ip-10-23-254-72 FIREWALL_PKTLOG: " + nsxPayload,
		Want: nsxEvent(host("ip-10-23-254-72"), at(utc("2020-05-15T09:08:27Z")))},
	{Name: "forward/offset", In: "<99>2020-05-15T11:08:27.965+02:00 esx FIREWALL_PKTLOG: " + nsxPayload,
		Want: nsxEvent(host("esx"), at(vmcTime))},
	{Name: "forward/Nutanix", In: "<134>2025-04-10T10:12:51.646697+00:00 GSO-EVERGLADE01-4-1 Genesis_1: " + nuPayload,
		Want: nuEvent(host("GSO-EVERGLADE01-4-1"))},
	{Name: "rsyslog file/tag with colon", In: "2017-04-11T21:09:59.877Z ESXi_FQDN dfwpktlogs: " + nsxVPay,
		Want: nsxVEvent(host("ESXi_FQDN"), at(utc("2017-04-11T21:09:59.877Z")))},
	{Name: "rsyslog file/tag without colon", In: "2020-05-15T09:08:27.965Z esx-2 FIREWALL_PKTLOG " + nsxPayload,
		Want: nsxEvent(host("esx-2"), at(vmcTime))},
	{Name: "rsyslog file/Nutanix ahv", In: "2025-12-11T12:51:08.857757+00:00 ahv-host-1 ahv " + nuPayload, Want: nuEvent(host("ahv-host-1"))},
	{Name: "rsyslog file/traditional", In: "Sep 17 09:41:50 esx-2 dfwpktlogs: " + nsxVPay,
		Want: nsxVEvent(host("esx-2"), at(utc("2025-09-17T09:41:50Z")))},
	{Name: "ESXi local", In: "2026-03-03T00:02:11.678Z No(13) FIREWALL-PKTLOG[1069031]: 8b4a1980 INET match PASS 25577 OUT 84 ICMP 192.168.72.10->192.168.72.17",
		Want: &ingest.Event{Vendor: ingest.NSX4, Kind: ingest.KindMatch, Time: utc("2026-03-03T00:02:11.678Z"),
			Src: addr("192.168.72.10"), Dst: addr("192.168.72.17"), Proto: ingest.ProtoICMP, Action: ingest.ActionAllow,
			Direction: ingest.DirOutbound, Filter: "8b4a1980", Rule: "25577", Length: 84}},
	{Name: "ESXi local/default host", In: "2020-05-15T09:08:27.965Z No(13) FIREWALL_PKTLOG[99]: " + nsxPayload,
		Opts: []ingest.Option{ingest.WithDefaultHost("esx-7")}, Want: nsxEvent(host("esx-7"), at(vmcTime))},
	{Name: "bare timestamp", In: "2016-09-17T10:34:55.004Z " + nsxVPay, Want: nsxVEvent(at(utc("2016-09-17T10:34:55.004Z")))},
	{Name: "VSS file/IP first", In: "10.48.52.230\tApr 10 11:12:46\t\tlocal0\tinfo\t\t2025-04-10T10:12:51.646697+00:00 GSO-EVERGLADE01-4-1 Genesis_1: " + nuPayload,
		Want: nuEvent(host("GSO-EVERGLADE01-4-1"))},
	{Name: "VSS file/NSX", In: "10.0.0.5\tMay 15 11:08:22\t\tuser\tnotice\t\t2020-05-15T09:08:27.965Z esx-9 FIREWALL_PKTLOG: " + nsxPayload + "\r\n",
		Want: nsxEvent(host("esx-9"), at(vmcTime))},
	{Name: "VSS file/host and tag filled", In: "10.0.0.5\tSep 17 09:41:50\tesxi-01\tuser\tnotice\tdfwpktlogs\t" + nsxVPay,
		Want: nsxVEvent(host("esxi-01"), at(utc("2025-09-17T09:41:50Z")))},
	{Name: "VSS file/host and tag filled, no hash", In: "10.0.0.5\tSep 17 09:41:50\tesxi-01\tuser\tnotice\tdfwpktlogs\tINET match DROP domain-c46/1005 OUT 78 UDP 10.2.5.10/137->10.2.5.255/137",
		Want: nsxVEvent(host("esxi-01"), at(utc("2025-09-17T09:41:50Z")), filter(""))},
	{Name: "VSS file/Nutanix host and tag filled", In: "10.48.52.230\tApr 10 11:12:46\tahv-1\tlocal0\tinfo\tGenesis_1\t" + nuPayload,
		Want: nuEvent(host("ahv-1"))},
	{Name: "VSS file/no host", In: "10.0.0.5\tSep 17 09:41:50\t\tuser\tnotice\t\t" + nsxVPay,
		Want: nsxVEvent(host("10.0.0.5"), at(utc("2025-09-17T09:41:50Z")))},
	{Name: "VSS clipboard/date first", In: "Apr 10 11:12:46\t10.48.52.230\t\tlocal0\tinfo\t\t2025-04-10T10:12:51.646697+00:00 GSO-EVERGLADE01-4-1 Genesis_1: " + nuPayload,
		Want: nuEvent(host("GSO-EVERGLADE01-4-1"))},
	{Name: "VSS clipboard/NSX", In: "May 15 11:08:22\t10.0.0.5\t\tuser\tnotice\t\t2020-05-15T09:08:27.965Z esx-9 FIREWALL_PKTLOG: " + nsxPayload,
		Want: nsxEvent(host("esx-9"), at(vmcTime))},
	{Name: "VSS collapsed/Nutanix", In: "10.48.52.230 Apr 10 11:12:46 local0 info 2025-04-10T10:12:51.646697+00:00 GSO-EVERGLADE01-4-1 Genesis_1: " + nuPayload,
		Want: nuEvent(host("GSO-EVERGLADE01-4-1"))},
	{Name: "VSS collapsed/NSX", In: "10.0.0.5 May 15 11:08:22 user notice 2020-05-15T09:08:27.965Z esx-9 FIREWALL_PKTLOG: " + nsxPayload,
		Want: nsxEvent(host("esx-9"), at(vmcTime))},
	{Name: "VSS collapsed/host and tag filled", In: "10.0.0.5 Sep 17 09:41:50 esxi-01 user notice dfwpktlogs " + nsxVPay,
		Want: nsxVEvent(host("esxi-01"), at(utc("2025-09-17T09:41:50Z")))},
	{Name: "VSS collapsed/payload only", In: "10.0.0.5 Sep 17 09:41:50 user notice " + nsxVPay,
		Want: nsxVEvent(host("10.0.0.5"), at(utc("2025-09-17T09:41:50Z")))},
	{Name: "VMC JSON", In: `{"sddc_id":"037c42e3-c198-47c1-956c-1e5867210c02","text":"<99>2020-05-15T09:08:27.965Z ip-10-23-254-72.ap-southeast-1.compute.internal FIREWALL_PKTLOG: f2c65dd5 INET TERM 24642815 IN UDP 10.23.150.100\/53408->10.123.70.101\/53 1\/1 72\/103","timestamp":1.589533710199E12}`,
		Want: nsxEvent(host("ip-10-23-254-72.ap-southeast-1.compute.internal"), at(vmcTime))},
	{Name: "VMC JSON/text ends with LF", In: `{"text":"<99>2020-05-15T09:08:27.965Z esx FIREWALL_PKTLOG: f2c65dd5 INET TERM 24642815 IN UDP 10.23.150.100\/53408->10.123.70.101\/53 1\/1 72\/103\n"}`,
		Want: nsxEvent(host("esx"), at(vmcTime))},
	{Name: "unknown prefix (Kiwi)", In: "2025-04-10 10:12:52\tLocal0.Info\t10.48.52.230\t" + nuPayload, Want: nuEvent()},
	{Name: "bare payload/Nutanix", In: nuPayload, Want: nuEvent()},
	{Name: "bare payload/NSX", In: nsxPayload, Want: nsxEvent()},
}

func TestParseWrappers(t *testing.T) { runCases(t, wrapperCases) }

// payloadCases are the payload edge cases of log-formats.md §5.
var payloadCases = []parseCase{
	// Nutanix.
	{Name: "nutanix/policy with spaces", In: nuHead + "Default Global Policy [Update] SRC=10.48.52.240 DST=20.10.31.115 PROTO=TCP SPORT=49873 DPORT=443 ACTION=MONITOR DIRECTION=OUTBOUND ORIG: PKTS=995 BYTES=85031 REPLY: PKTS=585 BYTES=101450",
		Want: nuEvent(func(e *ingest.Event) { e.Policy = "Default Global Policy" })},
	{Name: "nutanix/policy with brackets", In: nuHead + "A [b] c [Update] SRC=10.48.52.240 DST=20.10.31.115 PROTO=TCP SPORT=49873 DPORT=443 ACTION=MONITOR DIRECTION=OUTBOUND ORIG: PKTS=995 BYTES=85031 REPLY: PKTS=585 BYTES=101450",
		Want: nuEvent(func(e *ingest.Event) { e.Policy = "A [b] c" })},
	{Name: "nutanix/one space before uuid", In: strings.Replace(nuPayload, "  [", " [", 1), Want: nuEvent()},
	{Name: "nutanix/two spaces before uuid", In: nuPayload, Want: nuEvent()},
	{Name: "nutanix/New", In: strings.Replace(nuPayload, "[Update]", "[New]", 1), Want: nuEvent(kind(ingest.KindNew))},
	{Name: "nutanix/Create", In: strings.Replace(nuPayload, "[Update]", "[Create]", 1), Want: nuEvent(kind(ingest.KindNew))},
	{Name: "nutanix/Destroy", In: strings.Replace(nuPayload, "[Update]", "[Destroy]", 1), Want: nuEvent(kind(ingest.KindDestroy))},
	{Name: "nutanix/unknown event word", In: strings.Replace(nuPayload, "[Update]", "[Refresh]", 1), Want: nuEvent()},
	{Name: "nutanix/Destroy ends after DPORT", In: "INFO:2020/05/31 12:42:06 [7847abb0-285b-4ff9-bb40-271df1a0c229] test [Destroy] SRC=10.55.7.26 DST=10.55.7.140 PROTO=UDP SPORT=45214 DPORT=10514",
		Want: &ingest.Event{Vendor: ingest.Nutanix, Kind: ingest.KindDestroy, Time: utc("2020-05-31T12:42:06Z"),
			Src: addr("10.55.7.26"), Dst: addr("10.55.7.140"), Proto: ingest.ProtoUDP, SPort: 45214, DPort: 10514,
			PolicyID: "7847abb0-285b-4ff9-bb40-271df1a0c229", Policy: "test", Level: "INFO"}},
	{Name: "nutanix/ALLOW", In: strings.Replace(nuPayload, "MONITOR", "ALLOW", 1), Want: nuEvent(action(ingest.ActionAllow))},
	{Name: "nutanix/DROP", In: strings.Replace(nuPayload, "MONITOR", "DROP", 1), Want: nuEvent(action(ingest.ActionDrop))},
	{Name: "nutanix/unknown action kept in Extra", In: strings.Replace(nuPayload, "MONITOR", "QUARANTINE", 1),
		Want: nuEvent(action(ingest.ActionUnknown), extra("ACTION=QUARANTINE"))},
	{Name: "nutanix/INBOUND", In: strings.Replace(nuPayload, "OUTBOUND", "INBOUND", 1),
		Want: nuEvent(func(e *ingest.Event) { e.Direction = ingest.DirInbound })},
	{Name: "nutanix/no DIRECTION (2020)", In: strings.Replace(nuPayload, " DIRECTION=OUTBOUND", "", 1),
		Want: nuEvent(func(e *ingest.Event) { e.Direction = ingest.DirUnknown })},
	{Name: "nutanix/DESCRIPTION to end of line", In: nuPayload + " DESCRIPTION=R4 (App to DB) SRC=1.2.3.4 x=y  ",
		Want: nuEvent(func(e *ingest.Event) { e.Description = "R4 (App to DB) SRC=1.2.3.4 x=y" })},
	{Name: "nutanix/unknown KEY=VALUE in Extra", In: strings.Replace(nuPayload, " ACTION=", " ZONE=dmz VLAN=12 ACTION=", 1) + " RULE=7",
		Want: nuEvent(extra("ZONE=dmz VLAN=12 RULE=7"))},
	{Name: "nutanix/ICMP without ports", In: nuHead + "p [Update] SRC=10.0.0.1 DST=10.0.0.2 PROTO=ICMP ACTION=ALLOW",
		Want: &ingest.Event{Vendor: ingest.Nutanix, Kind: ingest.KindUpdate, Time: nuTime, Src: addr("10.0.0.1"),
			Dst: addr("10.0.0.2"), Proto: ingest.ProtoICMP, Action: ingest.ActionAllow,
			PolicyID: "ff16a6fb-ff89-4c2d-a9c8-f67030f93d79", Policy: "p", Level: "INFO"}},
	{Name: "nutanix/IPv6 and protocol number", In: nuHead + "p [New] SRC=fd00::1 DST=fd00:0:0:0:0:0:0:2 PROTO=132 SPORT=5 DPORT=6",
		Want: &ingest.Event{Vendor: ingest.Nutanix, Kind: ingest.KindNew, Time: nuTime, Src: addr("fd00::1"),
			Dst: addr("fd00::2"), Proto: 132, SPort: 5, DPort: 6,
			PolicyID: "ff16a6fb-ff89-4c2d-a9c8-f67030f93d79", Policy: "p", Level: "INFO"}},
	{Name: "nutanix/iptables line is not a hit log", In: "IPTables Packet Dropped: IN=eth0 OUT= MAC=00:50:56:aa:bb:cc:00:50:56:dd:ee:ff:08:00 SRC=10.0.0.1 DST=10.0.0.2 LEN=60 PROTO=TCP SPT=1234 DPT=22",
		Bucket: ingest.Skipped},
	{Name: "nutanix/iptables line with header", In: "<4>2025-04-10T10:12:51.646697+00:00 ahv-1 kernel: IPTables Packet Dropped: IN=eth0 OUT= SRC=10.0.0.1 DST=10.0.0.2 LEN=60 PROTO=TCP SPT=1234 DPT=22",
		Bucket: ingest.Skipped},
	{Name: "other syslog", In: "<30>Apr 10 10:12:51 ahv-1 systemd[1]: Started Session 1 of user root.", Bucket: ingest.Skipped},
	{Name: "blank", In: " \t \r\n", Bucket: ingest.Skipped},
	{Name: "JSON without payload", In: `{"level":"info"}`, Bucket: ingest.Skipped},

	// NSX.
	{Name: "nsx/TERM with action", In: "6be61891 INET TERM PASS 5112 IN UDP 10.222.22.1/62824->10.222.29.255/1947 1/0 68/0 SZ-x",
		Want: &ingest.Event{Vendor: ingest.NSXT, Kind: ingest.KindTerm, Src: addr("10.222.22.1"), Dst: addr("10.222.29.255"),
			Proto: ingest.ProtoUDP, SPort: 62824, DPort: 1947, Action: ingest.ActionAllow, Direction: ingest.DirInbound,
			HasCounters: true, OrigPkts: 1, OrigBytes: 68, Filter: "6be61891", Rule: "5112", Tag: "SZ-x"}},
	{Name: "nsx/TERM without action", In: nsxPayload, Want: nsxEvent()},
	{Name: "nsx/NSX-V 6.2.2 no hash", In: "INET match DROP domain-c46/1005 OUT 78 UDP 10.2.5.10/137->10.2.5.255/137",
		Want: nsxVEvent(filter(""))},
	{Name: "nsx/decimal hash", In: nsxVPay, Want: nsxVEvent()},
	{Name: "nsx/hex hash mainrs", In: "b6507827 INET match PASS mainrs/1024 IN 52 TCP 192.168.4.3/49627->192.168.4.4/49153 SEW",
		Want: &ingest.Event{Vendor: ingest.NSXT, Kind: ingest.KindMatch, Src: addr("192.168.4.3"), Dst: addr("192.168.4.4"),
			Proto: ingest.ProtoTCP, SPort: 49627, DPort: 49153, Action: ingest.ActionAllow, Direction: ingest.DirInbound,
			Filter: "b6507827", RuleSet: "mainrs", Rule: "1024", Length: 52, Flags: "SEW"}},
	{Name: "nsx/bare rule id", In: "7c11f001 INET match PASS 8225 OUT 73 UDP 10.10.10.10/42017->20.20.20.20/53",
		Want: &ingest.Event{Vendor: ingest.NSXT, Kind: ingest.KindMatch, Src: addr("10.10.10.10"), Dst: addr("20.20.20.20"),
			Proto: ingest.ProtoUDP, SPort: 42017, DPort: 53, Action: ingest.ActionAllow, Direction: ingest.DirOutbound,
			Filter: "7c11f001", Rule: "8225", Length: 73}},
	{Name: "nsx/ICMP no ports", In: "f1007e48 INET match PASS 2 OUT 84 ICMP 1.1.1.10->1.1.3.10", Want: icmpEvent()},
	{Name: "nsx/ICMP type and code", In: "f1007e48 INET match PASS 2 OUT 84 ICMP 8 0 1.1.1.10->1.1.3.10",
		Want: icmpEvent(func(e *ingest.Event) { e.HasICMP, e.ICMPType = true, 8 })},
	{Name: "nsx/ICMP TERM type code counters", In: "f1007e48 INET TERM PASS 2 OUT ICMP 3 1 1.1.1.10->1.1.3.10 1/0 84/0",
		Want: icmpEvent(func(e *ingest.Event) {
			e.Kind, e.Length, e.HasICMP, e.ICMPType, e.ICMPCode = ingest.KindTerm, 0, true, 3, 1
			e.HasCounters, e.OrigPkts, e.OrigBytes = true, 1, 84
		})},
	{Name: "nsx/INET6 ICMP is ICMPv6", In: "f1007e48 INET6 match PASS 2 OUT 104 ICMP fe80:0:0:0:0:0:0:1->fe80:0:0:0:0:0:0:2",
		Want: icmpEvent(func(e *ingest.Event) {
			e.Proto, e.Length, e.Src, e.Dst = ingest.ProtoICMPv6, 104, addr("fe80::1"), addr("fe80::2")
		})},
	{Name: "nsx/close RST", In: tcpTerm("RST"), Want: tcpTermEvent("RST")},
	{Name: "nsx/close FIN", In: tcpTerm("FIN"), Want: tcpTermEvent("FIN")},
	{Name: "nsx/close TIMEOUT", In: tcpTerm("TIMEOUT"), Want: tcpTermEvent("TIMEOUT")},
	{Name: "nsx/TCP flags then tag", In: tcpMatch + " S RULE_TAG", Want: tcpMatchEvent("S", "RULE_TAG")},
	{Name: "nsx/TCP flags only", In: tcpMatch + " SA", Want: tcpMatchEvent("SA", "")},
	{Name: "nsx/TCP tag only", In: tcpMatch + " DR-Allow", Want: tcpMatchEvent("", "DR-Allow")},
	{Name: "nsx/TCP flags and tag with spaces", In: tcpMatch + " S my rule tag ", Want: tcpMatchEvent("S", "my rule tag")},
	{Name: "nsx/UDP first word is the tag", In: nsxVPay + " SA", Want: nsxVEvent(tag("SA"))},
	{Name: "nsx/ICMP first word is the tag", In: "f1007e48 INET match PASS 2 OUT 84 ICMP 1.1.1.10->1.1.3.10 S",
		Want: icmpEvent(tag("S"))},
	{Name: "nsx/TCP TERM word after counters is the tag", In: tcpTerm("FIN") + " SA", Want: tcpTermEvent("FIN", tag("SA"))},
	{Name: "nsx/tag with slash", In: nsxVPay + " web/db", Want: nsxVEvent(tag("web/db"))},
	{Name: "nsx/TERM tag with slash", In: tcpTerm("FIN") + " web/db", Want: tcpTermEvent("FIN", tag("web/db"))},
	{Name: "nsx/uncompressed IPv6", In: "028cd586 INET6 match DROP mainrs/1027 OUT 143 UDP fe80:0:0:0:68c2:8472:2364:9be/546->ff02:0:0:0:0:0:1:2/547",
		Want: &ingest.Event{Vendor: ingest.NSXT, Kind: ingest.KindMatch, Src: addr("fe80::68c2:8472:2364:9be"),
			Dst: addr("ff02::1:2"), Proto: ingest.ProtoUDP, SPort: 546, DPort: 547, Action: ingest.ActionDrop,
			Direction: ingest.DirOutbound, Filter: "028cd586", RuleSet: "mainrs", Rule: "1027", Length: 143}},
	{Name: "nsx/PROTO n", In: "028cd586 INET match DROP mainrs/1027 IN 36 PROTO 2 0.0.0.0->224.0.0.1",
		Want: &ingest.Event{Vendor: ingest.NSXT, Kind: ingest.KindMatch, Src: addr("0.0.0.0"), Dst: addr("224.0.0.1"),
			Proto: 2, Action: ingest.ActionDrop, Direction: ingest.DirInbound, Filter: "028cd586", RuleSet: "mainrs",
			Rule: "1027", Length: 36}},
	{Name: "nsx/REJECT", In: strings.Replace(nsxVPay, "DROP", "REJECT", 1), Want: nsxVEvent(action(ingest.ActionReject))},
	{Name: "nsx/NAT is not a verdict", In: strings.Replace(nsxVPay, "DROP", "RDR", 1), Want: nsxVEvent(action(ingest.ActionNAT))},
	{Name: "nsx/datapath bad-offset", In: "7295 INET bad-offset DROP domain-c46/1005 OUT 78 UDP 10.2.5.10/137->10.2.5.255/137",
		Bucket: ingest.Unsupported, WantErr: ingest.ErrDatapathReason},
	{Name: "nsx/datapath state-mismatch", In: "2018-07-03T19:44:09.749Z b6507827 INET state-mismatch DROP 1024 IN 52 TCP 192.168.4.3/49627->192.168.4.4/49153 A",
		Bucket: ingest.Unsupported, WantErr: ingest.ErrDatapathReason},
	{Name: "nsx/datapath SpoofGuard", In: "b6507827 INET SpoofGuard DROP 1024 IN 52 TCP 192.168.4.3/49627->192.168.4.4/49153 S",
		Bucket: ingest.Unsupported, WantErr: ingest.ErrDatapathReason},
	{Name: "nsx/gateway reason-match", In: "<181>1 2020-09-21T22:14:12.080427+00:00 edge NSX 2802 FIREWALL [nsx@6876 comp=\"nsx-edge\"] <1 55f1af2f487544e9:b0e059132ad7753d> INET reason-match PASS 1005 OUT 60 TCP 1.1.1.10/45120->91.189.92.38/443 S",
		Bucket: ingest.Unsupported, WantErr: ingest.ErrGatewayFirewall},
	{Name: "nsx/gateway reason-match without marker", In: "INET reason-match PASS 1005 OUT 60 TCP 1.1.1.10/45120->91.189.92.38/443 S",
		Bucket: ingest.Unsupported, WantErr: ingest.ErrGatewayFirewall},
	{Name: "nsx/gateway TERM", In: "<1 55f1af2f487544e9:b0e059132ad7753d> INET TERM PASS 1005 OUT TCP 1.1.1.10/45120->91.189.92.38/443",
		Bucket: ingest.Unsupported, WantErr: ingest.ErrGatewayFirewall},
	{Name: "nsx/INET inside a word is no anchor", In: "<30>Apr 10 10:12:51 host app: INETD started, SUBINET 1 2", Bucket: ingest.Skipped},

	// Line handling.
	{Name: "CRLF", In: nuPayload + "\r\n", Want: nuEvent()},
	{Name: "CR", In: nsxPayload + "\r", Want: nsxEvent()},
	{Name: "NUL bytes removed", In: "\x00INFO:2025/04/10 10:11:55  [ff16a6fb-ff89-4c2d-a9c8-f67030f93d79] Discover-\x00Traffic [Update] SRC=10.48.52.240 DST=20.10.31.115 PROTO=TCP SPORT=49873 DPORT=443 ACTION=MONITOR DIRECTION=OUTBOUND ORIG: PKTS=995 BYTES=85031 REPLY: PKTS=585 BYTES=101450\x00",
		Want: nuEvent()},
	{Name: "NUL bytes removed/NSX", In: "f2c65dd5 IN\x00ET TERM 24642815 IN UDP 10.23.150.100/53408->10.123.70.101/53 1/1 72/103\x00\x00", Want: nsxEvent()},
}

func kind(k ingest.Kind) func(*ingest.Event)     { return func(e *ingest.Event) { e.Kind = k } }
func action(a ingest.Action) func(*ingest.Event) { return func(e *ingest.Event) { e.Action = a } }
func extra(s string) func(*ingest.Event)         { return func(e *ingest.Event) { e.Extra = s } }
func tag(s string) func(*ingest.Event)           { return func(e *ingest.Event) { e.Tag = s } }
func filter(s string) func(*ingest.Event)        { return func(e *ingest.Event) { e.Filter = s } }

func icmpEvent(fs ...func(*ingest.Event)) *ingest.Event {
	ev := &ingest.Event{Vendor: ingest.NSXT, Kind: ingest.KindMatch, Src: addr("1.1.1.10"), Dst: addr("1.1.3.10"),
		Proto: ingest.ProtoICMP, Action: ingest.ActionAllow, Direction: ingest.DirOutbound, Filter: "f1007e48",
		Rule: "2", Length: 84}
	for _, f := range fs {
		f(ev)
	}
	return ev
}

const tcpMatch = "58734 INET match PASS domain-c8/1006 OUT 60 TCP 172.18.8.121/36485->172.18.8.119/22"

func tcpMatchEvent(flags, tag string) *ingest.Event {
	return &ingest.Event{Vendor: ingest.NSXV, Kind: ingest.KindMatch, Src: addr("172.18.8.121"), Dst: addr("172.18.8.119"),
		Proto: ingest.ProtoTCP, SPort: 36485, DPort: 22, Action: ingest.ActionAllow, Direction: ingest.DirOutbound,
		Filter: "58734", RuleSet: "domain-c8", Rule: "1006", Length: 60, Flags: flags, Tag: tag}
}

func tcpTerm(close string) string {
	return "50047 INET TERM domain-c1/1001 IN TCP " + close + " 10.1.2.3/33491->10.4.5.6/10001 22/14 7684/1070"
}

func tcpTermEvent(close string, fs ...func(*ingest.Event)) *ingest.Event {
	ev := &ingest.Event{Vendor: ingest.NSXV, Kind: ingest.KindTerm, Src: addr("10.1.2.3"), Dst: addr("10.4.5.6"),
		Proto: ingest.ProtoTCP, SPort: 33491, DPort: 10001, Direction: ingest.DirInbound, HasCounters: true,
		OrigPkts: 22, ReplyPkts: 14, OrigBytes: 7684, ReplyBytes: 1070, Filter: "50047", RuleSet: "domain-c1",
		Rule: "1001", Close: close}
	for _, f := range fs {
		f(ev)
	}
	return ev
}

func TestParsePayloads(t *testing.T) { runCases(t, payloadCases) }

// malformedCases are firewall lines that cannot be read, with their reason.
var malformedCases = []parseCase{
	{Name: "nutanix/bad SRC", In: strings.Replace(nuPayload, "SRC=10.48.52.240", "SRC=10.0.0.999", 1), WantErr: ingest.ErrBadAddr},
	{Name: "nutanix/bad DST", In: strings.Replace(nuPayload, "DST=20.10.31.115", "DST=host.example", 1), WantErr: ingest.ErrBadAddr},
	{Name: "nutanix/port > 65535", In: strings.Replace(nuPayload, "SPORT=49873", "SPORT=65536", 1), WantErr: ingest.ErrBadPort},
	{Name: "nutanix/missing DPORT on TCP", In: strings.Replace(nuPayload, " DPORT=443", "", 1), WantErr: ingest.ErrIncomplete},
	{Name: "nutanix/missing DST", In: strings.Replace(nuPayload, " DST=20.10.31.115", "", 1), WantErr: ingest.ErrIncomplete},
	{Name: "nutanix/missing PROTO", In: strings.Replace(nuPayload, " PROTO=TCP", "", 1), WantErr: ingest.ErrIncomplete},
	{Name: "nutanix/bad PROTO", In: strings.Replace(nuPayload, "PROTO=TCP", "PROTO=TCPX", 1), WantErr: ingest.ErrBadProto},
	{Name: "nutanix/bad counter", In: strings.Replace(nuPayload, "PKTS=995", "PKTS=99x", 1), WantErr: ingest.ErrBadCounter},
	{Name: "nutanix/ORIG without BYTES", In: strings.Replace(nuPayload, " BYTES=85031", "", 1), WantErr: ingest.ErrIncomplete},
	{Name: "nutanix/bad date", In: strings.Replace(nuPayload, "2025/04/10", "2025/13/40", 1), WantErr: ingest.ErrBadTime},
	{Name: "nutanix/Feb 30", In: strings.Replace(nuPayload, "2025/04/10", "2025/02/30", 1), WantErr: ingest.ErrBadTime},
	{Name: "nutanix/bad time", In: strings.Replace(nuPayload, "10:11:55", "25:11:55", 1), WantErr: ingest.ErrBadTime},
	{Name: "nutanix/letter in year", In: strings.Replace(nuPayload, "2025/", "20x5/", 1), WantErr: ingest.ErrBadTime},
	{Name: "nutanix/letter in minute", In: strings.Replace(nuPayload, "10:11:55", "10:1x:55", 1), WantErr: ingest.ErrBadTime},
	{Name: "nutanix/no uuid", In: "INFO:2025/04/10 10:11:55 Discover-Traffic [Update] SRC=10.48.52.240 DST=20.10.31.115 PROTO=TCP SPORT=1 DPORT=2", WantErr: ingest.ErrBadField},
	{Name: "nutanix/empty event", In: strings.Replace(nuPayload, "[Update]", "[]", 1), WantErr: ingest.ErrBadField},
	{Name: "nsx/bad source address", In: strings.Replace(nsxPayload, "10.23.150.100", "10.0.0.999", 1), WantErr: ingest.ErrBadTuple},
	{Name: "nsx/port > 65535", In: strings.Replace(nsxPayload, "/53408", "/65536", 1), WantErr: ingest.ErrBadTuple},
	{Name: "nsx/tuple without arrow", In: strings.Replace(nsxPayload, "->", " ", 1), WantErr: ingest.ErrBadTuple},
	{Name: "nsx/TCP without DPORT", In: "50047 INET TERM domain-c1/1001 IN TCP RST 10.1.2.3/33491->10.4.5.6 22/14 7684/1070", WantErr: ingest.ErrBadTuple},
	{Name: "nsx/bad counters", In: strings.Replace(nsxPayload, "1/1 72/103", "1/x 72/103", 1), WantErr: ingest.ErrBadCounter},
	{Name: "nsx/counters without bytes", In: strings.Replace(nsxPayload, " 72/103", "", 1), WantErr: ingest.ErrBadCounter},
	{Name: "nsx/bad rule id", In: strings.Replace(nsxPayload, "24642815", "rule-1", 1), WantErr: ingest.ErrBadField},
	{Name: "nsx/bad direction", In: strings.Replace(nsxPayload, " IN ", " UP ", 1), WantErr: ingest.ErrBadField},
	{Name: "nsx/bad protocol", In: strings.Replace(nsxPayload, "UDP", "udp", 1), WantErr: ingest.ErrBadProto},
	{Name: "nsx/PROTO n > 255", In: "028cd586 INET match DROP mainrs/1027 IN 36 PROTO 256 0.0.0.0->224.0.0.1", WantErr: ingest.ErrBadProto},
	{Name: "nsx/truncated", In: "f2c65dd5 INET TERM 24642815 IN", WantErr: ingest.ErrBadProto},
	{Name: "JSON broken", In: `{"text":"f2c65dd5 INET TERM 24642815`, WantErr: ingest.ErrBadJSON},
	{Name: "line too long", In: nuPayload + " DESCRIPTION=" + strings.Repeat("x", ingest.DefaultMaxLineLength), WantErr: ingest.ErrLineTooLong},
	{Name: "line too long/option", In: nsxPayload, Opts: []ingest.Option{ingest.WithMaxLineLength(40)}, WantErr: ingest.ErrLineTooLong},
}

func TestParseMalformed(t *testing.T) {
	for i := range malformedCases {
		malformedCases[i].Bucket = ingest.Malformed
	}
	runCases(t, malformedCases)
}

// TestParseMaxLine checks the limit is on the line without its ending.
func TestParseMaxLine(t *testing.T) {
	p := ingest.NewParser(ingest.WithMaxLineLength(len(nsxPayload)))
	var ev ingest.Event
	if b, err := p.Parse([]byte(nsxPayload+"\r\n"), &ev); b != ingest.Parsed {
		t.Errorf("line of exactly the limit: bucket = %v (%v), want parsed", b, err)
	}
	if b, err := p.Parse([]byte(nsxPayload+" x"), &ev); b != ingest.Malformed || !errors.Is(err, ingest.ErrLineTooLong) {
		t.Errorf("line over the limit: bucket = %v, err = %v; want malformed, ErrLineTooLong", b, err)
	}
}

// yearRef is the reference time of yearCases.
var yearRef = time.Date(2026, time.January, 5, 12, 0, 0, 0, time.UTC)

// yearCases check the year given to RFC 3164 stamps, which have none.
var yearCases = []struct {
	Name string
	In   string
	Opts []ingest.Option
	Want time.Time
}{
	{"Dec 30 before January reference", "<14>Dec 30 23:59:59 esx dfwpktlogs: " + nsxVPay,
		[]ingest.Option{ingest.WithReferenceTime(yearRef)}, utc("2025-12-30T23:59:59Z")},
	{"Jan 4 same year", "<14>Jan  4 08:00:00 esx dfwpktlogs: " + nsxVPay,
		[]ingest.Option{ingest.WithReferenceTime(yearRef)}, utc("2026-01-04T08:00:00Z")},
	{"Jan 20 a little ahead", "<14>Jan 20 08:00:00 esx dfwpktlogs: " + nsxVPay,
		[]ingest.Option{ingest.WithReferenceTime(yearRef)}, utc("2026-01-20T08:00:00Z")},
	{"Feb 29 in the last leap year", "<14>Feb 29 08:00:00 esx dfwpktlogs: " + nsxVPay,
		[]ingest.Option{ingest.WithReferenceTime(yearRef)}, utc("2024-02-29T08:00:00Z")},
	{"Feb 29 in a year without one", "<14>Feb 29 08:00:00 esx dfwpktlogs: " + nsxVPay,
		[]ingest.Option{ingest.WithYear(2025)}, time.Time{}},
	{"WithYear overrides", "<14>Dec 30 23:59:59 esx dfwpktlogs: " + nsxVPay,
		[]ingest.Option{ingest.WithReferenceTime(yearRef), ingest.WithYear(2019)}, utc("2019-12-30T23:59:59Z")},
	{"WithLocation", "<14>Dec 30 23:59:59 esx dfwpktlogs: " + nsxVPay,
		[]ingest.Option{ingest.WithYear(2025), ingest.WithLocation(time.FixedZone("CET", 3600))}, utc("2025-12-30T22:59:59Z")},
	{"file line", "Dec 30 23:59:59 esx dfwpktlogs: " + nsxVPay,
		[]ingest.Option{ingest.WithReferenceTime(yearRef)}, utc("2025-12-30T23:59:59Z")},
	{"VSS record", "10.0.0.5\tDec 30 23:59:59\tesx\tuser\tinfo\tdfwpktlogs\t" + nsxVPay,
		[]ingest.Option{ingest.WithReferenceTime(yearRef)}, utc("2025-12-30T23:59:59Z")},
	{"VSS collapsed", "10.0.0.5 Dec 30 23:59:59 user info " + nsxVPay,
		[]ingest.Option{ingest.WithReferenceTime(yearRef)}, utc("2025-12-30T23:59:59Z")},
}

func TestParseYear(t *testing.T) {
	for _, tc := range yearCases {
		t.Run(tc.Name, func(t *testing.T) {
			for _, lib := range []bool{false, true} {
				p := ingest.NewParser(append(tc.Opts, ingest.WithSyslogLibrary(lib))...)
				var ev ingest.Event
				if b, err := p.Parse([]byte(tc.In), &ev); b != ingest.Parsed {
					t.Fatalf("library=%v: bucket = %v (%v), want parsed", lib, b, err)
				}
				if got := ev.Time; !got.Equal(tc.Want) {
					t.Errorf("library=%v: time = %v, want %v", lib, got, tc.Want)
				}
			}
		})
	}
}

// TestParseLibraryParity parses every sample line and every table line with
// the hand-written header reader and with go-syslog's machines.
func TestParseLibraryParity(t *testing.T) {
	var lines []string
	for _, l := range sampleLines(t) {
		lines = append(lines, string(l))
	}
	for _, cs := range [][]parseCase{wrapperCases, payloadCases, malformedCases} {
		for _, tc := range cs {
			lines = append(lines, tc.In)
		}
	}
	for _, tc := range yearCases {
		lines = append(lines, tc.In)
	}
	pri := 0
	for _, line := range lines {
		if strings.HasPrefix(line, "<") || strings.Contains(line, `"text":"<`) {
			pri++
		}
		fast := ingest.NewParser(ingest.WithReferenceTime(goldenRef))
		lib := ingest.NewParser(ingest.WithReferenceTime(goldenRef), ingest.WithSyslogLibrary(true))
		var a, b ingest.Event
		ba, ea := fast.Parse([]byte(line), &a)
		bb, eb := lib.Parse([]byte(line), &b)
		a.Raw, b.Raw = nil, nil
		if ba != bb || fmt.Sprint(ea) != fmt.Sprint(eb) || !reflect.DeepEqual(a, b) {
			t.Errorf("%q:\n fast    %v %v %+v\n library %v %v %+v", line, ba, ea, a, bb, eb, b)
		}
	}
	if pri < 15 {
		t.Errorf("only %d lines with a <PRI> header", pri)
	}
}

// TestParseReuse checks that an Event keeps nothing from the line before.
func TestParseReuse(t *testing.T) {
	p := ingest.NewParser()
	var ev ingest.Event
	p.Parse([]byte(nuPayload+" DESCRIPTION=x"), &ev)
	if b, _ := p.Parse([]byte(nsxPayload), &ev); b != ingest.Parsed {
		t.Fatalf("bucket = %v", b)
	}
	if d := diffEvent(&ev, nsxEvent()); d != "" {
		t.Errorf("event differs:%s", d)
	}
	if b, _ := p.Parse([]byte("hello"), &ev); b != ingest.Skipped || ev.Src.IsValid() || ev.Rule != "" {
		t.Errorf("skipped line left %+v", ev)
	}
}
