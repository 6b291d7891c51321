package inventory

import (
	"slices"
	"strings"
	"unicode"
)

// Header names, normalised (see normalize). See doc.go for their sources.
var (
	// nameAliases are the VM name headers, best first: RVTools "VM" beats a
	// snapshot's "Name". "Host" is never a VM name: in RVTools and Prism
	// Central it is the hypervisor host.
	nameAliases = []string{
		"vm", "vmname", "virtualmachine", "virtualmachinename", "name",
		"vmdisplayname", "displayname", "hostname", "servername", "server",
		"machinename", "machine", "computername",
	}
	ipAliases = []string{
		"ip", "ips", "ipaddress", "ipaddresses", "ipaddr", "ipaddrs",
		"ipv4", "ipv4address", "ipv4addresses", "ip4address",
		"ipv6", "ipv6address", "ipv6addresses", "ip6address",
		"primaryip", "primaryipaddress", "guestip", "guestipaddress",
		"guestipaddresses", "address", "addresses",
	}
	groupAliases = []string{
		"tag", "tags", "vspheretags", "securitygroup", "securitygroups",
		"nsxsecuritygroups", "nsgroups", "group", "groups",
		"category", "categories",
	}
	// categoryAliases are group columns holding Nutanix "Key: Value" pairs.
	categoryAliases = []string{"category", "categories"}
	// rvtoolsPrefixes start the headers of RVTools CSV files ("vInfoVMName").
	rvtoolsPrefixes = []string{"vinfo", "vnetwork"}
	// rvtoolsIPs are IP headers only RVTools uses together with "VM".
	rvtoolsIPs = []string{"primaryipaddress", "ipv4address", "ipv6address"}
	// ignoredGroups are columns that look like groups but are not.
	ignoredGroups = []string{"folder", "annotation", "notes"}
)

// role is what a column holds.
type role int

const (
	roleNone role = iota
	roleName
	roleIP
	roleGroups
)

// need says which columns make a header.
type need int

const (
	needIP       need = iota // a name and an IP column
	needIPOrTags             // a name and an IP or group column
)

// column is one recognised column.
type column struct {
	index      int
	header     string
	alias      string // normalised header, without RVTools prefix
	categories bool   // Nutanix "Key: Value" pairs
}

// layout maps a header row to roles.
type layout struct {
	headers  []string
	name     column // index -1: none
	nameRank int
	ips      []column
	groups   []column
	used     []column // name, ips and groups
	prefixed bool     // RVTools CSV headers ("vInfoVMName")
	ignored  []string // headers that look like groups but are not
}

// normalize lowercases h and keeps only letters and digits.
func normalize(h string) string {
	var b strings.Builder
	for _, r := range h {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// roleOf returns the role of a normalised header.
func roleOf(n string) role {
	switch {
	case slices.Contains(nameAliases, n):
		return roleName
	case slices.Contains(ipAliases, n):
		return roleIP
	case slices.Contains(groupAliases, n):
		return roleGroups
	}
	return roleNone
}

// classify returns the role of header h, its alias and whether it carries
// an RVTools tab prefix.
func classify(h string) (role, string, bool) {
	if len(h) > 200 {
		return roleNone, "", false
	}
	n := normalize(h)
	if r := roleOf(n); r != roleNone {
		return r, n, false
	}
	for _, p := range rvtoolsPrefixes {
		if rest, ok := strings.CutPrefix(n, p); ok && rest != "" {
			return roleOf(rest), rest, true
		}
	}
	return roleNone, n, false
}

// newLayout recognises the columns of a header row.
func newLayout(cells []string) layout {
	l := layout{headers: cells, name: column{index: -1}}
	for i, h := range cells {
		h = strings.TrimSpace(h)
		r, alias, prefixed := classify(h)
		c := column{index: i, header: h, alias: alias}
		switch r {
		case roleName:
			rank := slices.Index(nameAliases, alias)
			if l.name.index < 0 || rank < l.nameRank {
				l.name, l.nameRank = c, rank
			}
		case roleIP:
			l.ips = append(l.ips, c)
		case roleGroups:
			c.categories = slices.Contains(categoryAliases, alias)
			l.groups = append(l.groups, c)
		case roleNone:
			if slices.Contains(ignoredGroups, alias) {
				l.ignored = append(l.ignored, h)
			}
		}
		l.prefixed = l.prefixed || prefixed
	}
	l.used = slices.Concat([]column{l.name}, l.ips, l.groups)
	return l
}

// ok reports whether l has the columns n needs.
func (l *layout) ok(n need) bool {
	if l.name.index < 0 {
		return false
	}
	return len(l.ips) > 0 || (n == needIPOrTags && len(l.groups) > 0)
}

// score ranks header candidates for error messages.
func (l *layout) score() int {
	s := 0
	if l.name.index >= 0 {
		s++
	}
	if len(l.ips) > 0 {
		s++
	}
	return s
}

// missing names what l lacks for n.
func (l *layout) missing(n need) string {
	what := "IP address"
	if n == needIPOrTags {
		what = "IP address or group"
	}
	switch {
	case l.name.index < 0 && l.score() == 0:
		return "VM name or " + what
	case l.name.index < 0:
		return "VM name"
	}
	return what
}

// format tells which kind of export l comes from.
func (l *layout) format() string {
	ipAlias := func(aliases ...string) bool {
		return slices.ContainsFunc(l.ips, func(c column) bool { return slices.Contains(aliases, c.alias) })
	}
	switch {
	case l.prefixed || (l.name.alias == "vm" && ipAlias(rvtoolsIPs...)):
		return FormatRVTools
	case slices.ContainsFunc(l.groups, func(c column) bool { return c.categories }),
		l.name.alias == "vmname" && ipAlias("ipaddresses"):
		return FormatPrismCentral
	}
	for _, h := range l.headers {
		if r, _, _ := classify(h); r == roleNone && strings.TrimSpace(h) != "" {
			return FormatGeneric
		}
	}
	return FormatSimple
}

// findHeader returns the index and layout of the header among the first
// rows, or a *ColumnError for the row most like a header.
func findHeader(rows []headRow, n need) (int, layout, error) {
	best, bestScore := -1, -1
	for i, r := range rows {
		if blankCells(r.cells) {
			continue
		}
		l := newLayout(r.cells)
		if l.ok(n) {
			return i, l, nil
		}
		if s := l.score(); s > bestScore {
			best, bestScore = i, s
		}
	}
	if best < 0 {
		return 0, layout{}, ErrNoRows
	}
	l := newLayout(rows[best].cells)
	var headers []string
	for _, h := range rows[best].cells {
		if h = strings.TrimSpace(h); h != "" {
			headers = append(headers, h)
		}
	}
	return 0, layout{}, &ColumnError{Missing: l.missing(n), Headers: headers}
}

// blankCells reports whether every cell is empty or spaces.
func blankCells(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// headRow is one of the first rows of a table, kept while the header is
// searched for.
type headRow struct {
	num   int
	cells []string
	bad   string // why the row cannot be read
}
