// Package services names network services for people: the IANA name of a
// well-known port ("DNS" for 53/udp) and the one label every view and
// export shows for a service ("DNS (53/udp)", "8443/tcp", "ICMP"). It knows
// protocols and ports only, nothing of conversations or rules.
package services

import (
	"strconv"
	"strings"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// Name returns the IANA service name of a well-known port ("DNS" for
// 53/udp, "LDAP" for 389/tcp), or "". The table holds the services seen in
// data-centre traffic, from the IANA Service Name and Transport Protocol Port
// Number Registry, with the names admins use.
func Name(proto uint8, port uint16) string {
	switch proto {
	case ingest.ProtoICMP:
		return "ICMP"
	case ingest.ProtoICMPv6:
		return "ICMPv6"
	}
	if n, ok := ianaPorts[portKey{proto, port}]; ok {
		return n
	}
	if proto == ingest.ProtoUDP || proto == ingest.ProtoTCP {
		// Many services are registered for both transports under one name.
		other := ingest.ProtoTCP
		if proto == ingest.ProtoTCP {
			other = ingest.ProtoUDP
		}
		if n, ok := bothPorts[portKey{other, port}]; ok {
			return n
		}
	}
	return ""
}

// HasPorts reports whether proto's services are told apart by port (TCP,
// UDP); the others (ICMP, GRE, …) are one service each.
func HasPorts(proto uint8) bool { return proto == ingest.ProtoTCP || proto == ingest.ProtoUDP }

// Port is the port that identifies the service of a protocol and
// destination port: the port, or 0 for ICMP, whose types are one service.
func Port(proto uint8, dport uint16) uint16 {
	if proto == ingest.ProtoICMP || proto == ingest.ProtoICMPv6 {
		return 0
	}
	return dport
}

// Label names the service of one protocol and destination port, the one
// format people read everywhere: "DNS (53/udp)", "8443/tcp", "ICMP",
// "protocol 47". The port of a protocol without ports (an ICMP type) is
// not shown.
func Label(proto uint8, port uint16) string {
	return LabelPorts(proto, strconv.Itoa(int(port)), Name(proto, port))
}

// LabelPorts is Label of a protocol, its ports rendered as a list ("53,
// 80, 8000-8080"; ignored without HasPorts) and the service's name (""
// when none): "DNS (53/udp)", "8080, 9000-9001/tcp", "ICMP".
func LabelPorts(proto uint8, ports, name string) string {
	if !HasPorts(proto) {
		if name != "" {
			return name
		}
		return "protocol " + ingest.ProtoName(proto)
	}
	ports += "/" + strings.ToLower(ingest.ProtoName(proto))
	if name != "" {
		return name + " (" + ports + ")"
	}
	return ports
}

type portKey struct {
	proto uint8
	port  uint16
}

const (
	tcp = ingest.ProtoTCP
	udp = ingest.ProtoUDP
)

// bothPorts are registered for TCP and UDP alike.
var bothPorts = map[portKey]string{
	{tcp, 53}: "DNS", {udp, 53}: "DNS", {tcp, 88}: "Kerberos", {udp, 88}: "Kerberos",
	{tcp, 389}: "LDAP", {udp, 389}: "LDAP", {tcp, 464}: "Kerberos password", {udp, 464}: "Kerberos password",
	{tcp, 3268}: "LDAP Global Catalog", {tcp, 1812}: "RADIUS", {udp, 1812}: "RADIUS",
}

var ianaPorts = map[portKey]string{
	{tcp, 20}: "FTP data", {tcp, 21}: "FTP", {tcp, 22}: "SSH", {tcp, 23}: "Telnet", {tcp, 25}: "SMTP",
	{tcp, 53}: "DNS", {udp, 53}: "DNS", {udp, 67}: "DHCP", {udp, 68}: "DHCP client", {udp, 69}: "TFTP",
	{tcp, 80}: "HTTP", {tcp, 88}: "Kerberos", {udp, 88}: "Kerberos", {tcp, 110}: "POP3",
	{udp, 123}: "NTP", {tcp, 135}: "MS RPC", {udp, 137}: "NetBIOS name", {udp, 138}: "NetBIOS datagram",
	{tcp, 139}: "NetBIOS session", {tcp, 143}: "IMAP", {udp, 161}: "SNMP", {udp, 162}: "SNMP trap",
	{tcp, 179}: "BGP", {tcp, 389}: "LDAP", {udp, 389}: "LDAP", {tcp, 443}: "HTTPS", {udp, 443}: "QUIC",
	{tcp, 445}: "SMB", {tcp, 464}: "Kerberos password", {udp, 500}: "IKE", {udp, 514}: "Syslog",
	{tcp, 514}: "Syslog (TCP)", {tcp, 587}: "SMTP submission", {tcp, 636}: "LDAPS", {tcp, 873}: "rsync",
	{tcp, 902}: "VMware ESXi", {tcp, 989}: "FTPS data", {tcp, 990}: "FTPS", {tcp, 993}: "IMAPS",
	{tcp, 995}: "POP3S", {tcp, 1433}: "MS SQL", {udp, 1434}: "MS SQL monitor", {tcp, 1521}: "Oracle",
	{tcp, 1883}: "MQTT", {udp, 1812}: "RADIUS", {udp, 1813}: "RADIUS accounting", {tcp, 2049}: "NFS",
	{udp, 2049}: "NFS", {tcp, 2379}: "etcd", {tcp, 3260}: "iSCSI", {tcp, 3268}: "LDAP Global Catalog",
	{tcp, 3269}: "LDAP Global Catalog TLS", {tcp, 3306}: "MySQL", {tcp, 3389}: "RDP", {udp, 3389}: "RDP",
	{udp, 4500}: "IPsec NAT-T", {tcp, 5432}: "PostgreSQL", {tcp, 5601}: "Kibana", {tcp, 5671}: "AMQPS",
	{tcp, 5672}: "AMQP", {tcp, 5985}: "WinRM", {tcp, 5986}: "WinRM HTTPS", {tcp, 6379}: "Redis",
	{tcp, 6443}: "Kubernetes API", {udp, 6514}: "Syslog TLS", {tcp, 6514}: "Syslog TLS",
	{tcp, 8080}: "HTTP alternate", {tcp, 8443}: "HTTPS alternate", {tcp, 9000}: "HTTP (9000)",
	{tcp, 9090}: "Prometheus", {tcp, 9092}: "Kafka", {tcp, 9100}: "Node exporter", {tcp, 9200}: "Elasticsearch",
	{tcp, 9440}: "Nutanix Prism", {tcp, 10514}: "Syslog (10514)", {udp, 10514}: "Syslog (10514)",
	{tcp, 11211}: "Memcached", {tcp, 27017}: "MongoDB", {tcp, 50000}: "SAP",

	// Well-known ports (0-1023) seen in data centres, by their IANA service
	// names (registry keyword in the comment where the name differs).
	{tcp, 7}: "Echo", {udp, 7}: "Echo", {tcp, 37}: "Time", {udp, 37}: "Time", {tcp, 43}: "WHOIS",
	{tcp, 49}: "TACACS", {udp, 49}: "TACACS", {tcp, 111}: "ONC RPC portmapper", {udp, 111}: "ONC RPC portmapper", // sunrpc
	{tcp, 113}: "Ident", {tcp, 119}: "NNTP", {udp, 135}: "MS RPC", // epmap
	{tcp, 161}: "SNMP", {tcp, 162}: "SNMP trap", {tcp, 194}: "IRC", {udp, 319}: "PTP event", {udp, 320}: "PTP general",
	{tcp, 427}: "SLP", {udp, 427}: "SLP", {tcp, 465}: "SMTPS", // submissions
	{udp, 464}: "Kerberos password", {tcp, 502}: "Modbus", {tcp, 512}: "rexec", {tcp, 513}: "rlogin", {tcp, 515}: "LPD", // printer
	{udp, 520}: "RIP", {udp, 521}: "RIPng", {udp, 546}: "DHCPv6 client", {udp, 547}: "DHCPv6",
	{tcp, 548}: "AFP", {tcp, 554}: "RTSP", {udp, 554}: "RTSP", {tcp, 563}: "NNTPS", {tcp, 593}: "RPC over HTTP", // http-rpc-epmap
	{udp, 623}: "IPMI", // asf-rmcp
	{tcp, 631}: "IPP", {udp, 631}: "IPP", {tcp, 646}: "LDP", {udp, 646}: "LDP", {tcp, 749}: "Kerberos admin",
	{tcp, 853}: "DNS over TLS", {udp, 853}: "DNS over DTLS", {tcp, 860}: "iSCSI (860)", {tcp, 992}: "Telnets",
	{tcp, 994}: "IRCS",

	// Registered ports common in data centres, by their IANA registrations.
	{tcp, 1080}: "SOCKS", {udp, 1194}: "OpenVPN", {tcp, 1194}: "OpenVPN", {tcp, 1494}: "Citrix ICA",
	{udp, 1701}: "L2TP", {tcp, 1723}: "PPTP", {tcp, 1812}: "RADIUS", {tcp, 1813}: "RADIUS accounting",
	{udp, 1900}: "SSDP", {tcp, 2375}: "Docker", {tcp, 2376}: "Docker TLS",
	{tcp, 2380}: "etcd peer", {tcp, 2598}: "Citrix CGP", {tcp, 3478}: "STUN", {udp, 3478}: "STUN",
	{tcp, 4369}: "Erlang port mapper", {udp, 4789}: "VXLAN", {tcp, 5060}: "SIP", {udp, 5060}: "SIP",
	{tcp, 5061}: "SIP TLS", {udp, 5353}: "mDNS", {udp, 5355}: "LLMNR", {tcp, 5900}: "VNC", {udp, 6081}: "Geneve",
	{tcp, 9418}: "Git",
}
