package demo

import (
	"fmt"
	"io"
	"slices"
)

// Generate writes the log described by cfg to w, one line per firewall
// event, and returns the true conversation table, sorted by direction
// (INBOUND, OUTBOUND, INTRA, UNKNOWN), source, destination, protocol and
// destination port. The same cfg always gives the same bytes and rows.
//
// It returns an error wrapping ErrVendor, ErrWrapper or ErrConfig for a bad
// cfg (nothing is written), or the first write error (then the rows are nil
// and the summary counts the lines handed to w's buffer).
func Generate(w io.Writer, cfg Config) ([]Row, Summary, error) {
	v, ok := parseVendor(cfg.Vendor)
	if !ok {
		return nil, Summary{}, fmt.Errorf("generate: vendor %q: %w", cfg.Vendor, ErrVendor)
	}
	wr, ok := parseWrap(v, cfg.Wrap)
	if !ok {
		return nil, Summary{}, fmt.Errorf("generate %s: wrapper %q: %w", cfg.Vendor, cfg.Wrap, ErrWrapper)
	}
	if cfg.Sessions < 0 || cfg.Days < 0 {
		return nil, Summary{}, fmt.Errorf("generate: sessions %d, days %d: %w", cfg.Sessions, cfg.Days, ErrConfig)
	}
	if cfg.Start.IsZero() {
		cfg.Start = defaultStart
	}
	if cfg.Days == 0 {
		cfg.Days = defaultDays
	}
	g := newGen(w, cfg, v, wr)
	if err := g.run(); err != nil {
		return nil, g.sum, fmt.Errorf("generate %s: %w", cfg.Vendor, err)
	}
	rows := g.rows()
	slices.SortFunc(rows, compareRows)
	return rows, g.sum, nil
}

// Wrappers returns the wrappers valid for vendor, its default first, or nil
// for an unknown vendor.
func Wrappers(vendor string) []string {
	v, ok := parseVendor(vendor)
	if !ok {
		return nil
	}
	ws := nutanixWraps
	if v != vNutanix {
		ws = nsxWraps
	}
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = wrapNames[w]
	}
	return out
}
