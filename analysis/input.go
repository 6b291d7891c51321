package analysis

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// The grammar of what people type: addresses and prefixes (the monitored
// list, a listener's allow list, an exclude edit's argument), focus lists
// and time bounds. The CLI's flags, the app's entries and the listener's
// settings read them here, so the same text means the same thing in each.

// ParsePeer reads an address (as a one-address prefix) or a CIDR prefix.
func ParsePeer(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is neither an address nor a prefix", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// ParsePeers reads a list of addresses and prefixes separated by commas,
// spaces or line breaks (ParsePeer each).
func ParsePeers(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' || r == '\r' }) {
		p, err := ParsePeer(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// ParseFocus reads a focus list: addresses, prefixes and VM names separated
// by commas or spaces. vm returns the addresses of a VM by name (nil when
// unknown; vm may be nil).
func ParseFocus(s string, vm func(name string) []netip.Addr) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		if p, err := ParsePeer(f); err == nil {
			out = append(out, p)
			continue
		}
		var addrs []netip.Addr
		if vm != nil {
			addrs = vm(f)
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("focus %q is no address, prefix or VM of the inventory", f)
		}
		for _, a := range addrs {
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return out, nil
}

// ParseTime reads a time bound as users type it: RFC 3339, "YYYY-MM-DD
// HH:MM" (UTC) or a date (UTC midnight). Empty is the zero time (no bound).
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time, a YYYY-MM-DD HH:MM time or a YYYY-MM-DD date", s)
}
