package export

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/flowsleuth/flowsleuth/analysis/rules"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// Helpers shared by the vendor writers (nutanix.go and nsx.go).

// vndObj is a JSON object. encoding/json writes map keys sorted, so the
// bodies are deterministic; the vendor validators in the tests, not Go
// types, check the field names.
type vndObj = map[string]any

// ErrNotExportable is matched by errors.Is on a *LossError.
var ErrNotExportable = errors.New("rules not exportable as synthesised")

// ErrBadOption is wrapped by the error a writer returns, having written
// nothing, when a VendorOptions field is malformed.
var ErrBadOption = errors.New("bad vendor option")

// Loss is one rule that a vendor body leaves out (Dropped) or carries in
// part or wider than synthesised, with the reason.
type Loss struct {
	RuleID   string
	RuleName string
	Reason   string
	Dropped  bool
}

// LossError lists what a vendor writer could not say exactly. It is
// returned after the whole body was written: the body is valid and carries
// every rule not listed as Dropped, so show the losses and keep the output.
type LossError struct {
	Format string // "Nutanix v3", "Nutanix v4", "NSX"
	Losses []Loss // in rule order
}

func (e *LossError) Error() string {
	n := len(slices.DeleteFunc(slices.Clone(e.Losses), func(l Loss) bool { return !l.Dropped }))
	return fmt.Sprintf("%s: %d rules left out, %d changed (first, %s: %s)", e.Format, n, len(e.Losses)-n,
		cmp.Or(e.Losses[0].RuleName, e.Losses[0].RuleID), e.Losses[0].Reason)
}

// Unwrap returns ErrNotExportable.
func (e *LossError) Unwrap() error { return ErrNotExportable }

type vndLosses struct {
	format string
	list   []Loss
}

func (l *vndLosses) add(r *rules.Rule, dropped bool, reason string) {
	l.list = append(l.list, Loss{RuleID: r.ID, RuleName: r.Name, Reason: strings.TrimSuffix(reason, "; "), Dropped: dropped})
}

func (l *vndLosses) err() error {
	if len(l.list) == 0 {
		return nil
	}
	return &LossError{Format: l.format, Losses: l.list}
}

// vndAllows says whether r is an allow rule (the zero Action counts as allow).
func vndAllows(r *rules.Rule) bool {
	return r.Action == ingest.ActionAllow || r.Action == ingest.ActionUnknown
}

func vndWriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // keep "<extId of …>" and "->" readable
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// vndClip cuts s to at most n bytes (so also n characters) on a character
// boundary, ending in "..." when cut.
func vndClip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// vndSlug keeps the characters NSX allows in ids, [A-Za-z0-9_.-], turns
// the others into "_" and cuts the result to n bytes.
func vndSlug(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, s)
	return s[:min(len(s), n)]
}

// vndHash is a short stable digest of parts, for unique ids.
func vndHash(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:4])
}

func vndSortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// vndPrefix returns p masked, IPv4-mapped IPv6 prefixes as IPv4.
func vndPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() {
		p = netip.PrefixFrom(a.Unmap(), max(p.Bits()-96, 0))
	}
	return p.Masked()
}

// vndMergeRanges returns the ranges sorted, overlapping and adjacent ones merged.
func vndMergeRanges(rs []rules.PortRange) []rules.PortRange {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b rules.PortRange) int { return cmp.Compare(a.From, b.From) })
	var out []rules.PortRange
	for _, r := range rs {
		if n := len(out); n > 0 && int(r.From) <= int(out[n-1].To)+1 {
			out[n-1].To = max(out[n-1].To, r.To)
			continue
		}
		out = append(out, r)
	}
	return out
}

// vndPortsOrAll returns the merged ranges, or 0-65535 for none.
func vndPortsOrAll(rs []rules.PortRange) []rules.PortRange {
	if len(rs) == 0 {
		return []rules.PortRange{{From: 0, To: 65535}}
	}
	return vndMergeRanges(rs)
}

// vndJoin renders xs with f, joined by sep.
func vndJoin[T any](xs []T, sep string, f func(T) string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = f(x)
	}
	return strings.Join(parts, sep)
}

// vndServiceLabel renders a service as "tcp/443,8443" or "icmp".
func vndServiceLabel(s rules.Service) string {
	l := strings.ToLower(ingest.ProtoName(s.Proto))
	if len(s.Ports) > 0 {
		l += "/" + vndJoin(s.Ports, ",", rules.PortRange.String)
	}
	return l
}

// vndICMP is an ICMP service: any type, or the listed types.
type vndICMP struct {
	used, any bool
	types     []int
}

// vndICMPTypes reads ICMP types from a service's port ranges (the analysis
// keeps the ICMP type in the port). Type 0 means "type unknown" in the logs
// as well as echo reply, so it allows any type. The reason says how the
// service was widened, if it was.
func vndICMPTypes(ports []rules.PortRange, max int) (vndICMP, string) {
	c := vndICMP{used: true}
	for _, r := range ports {
		switch {
		case r.From == 0:
			return vndICMP{used: true, any: true}, ""
		case int(r.To) > max:
			return vndICMP{used: true, any: true}, fmt.Sprintf("ICMP type above %d: any ICMP allowed", max)
		}
		for t := int(r.From); t <= int(r.To); t++ {
			c.types = append(c.types, t)
		}
	}
	c.any = len(c.types) == 0
	return c, ""
}
