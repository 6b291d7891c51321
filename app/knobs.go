package app

import (
	"encoding/json"

	"fyne.io/fyne/v2"

	"github.com/flowsleuth/flowsleuth/analysis/rules"
)

// savedKnobs are the generalisation knobs as kept in the app's preferences,
// one set per workspace file (its exclusions are edits, kept in the
// workspace itself).
type savedKnobs struct {
	CollapseMin      int     `json:"collapse_min"`
	CollapseCoverage float64 `json:"collapse_coverage"`
	AnyPeers         int     `json:"any_peers"`
	ScanPorts        int     `json:"scan_ports"`
	IncludeSuspect   bool    `json:"include_suspect"`
}

func knobsKey(workspace string) string { return "knobs:" + workspace }

// loadKnobs returns the knobs last used on workspace (zero: the defaults).
func loadKnobs(p fyne.Preferences, workspace string) rules.Knobs {
	var s savedKnobs
	if err := json.Unmarshal([]byte(p.String(knobsKey(workspace))), &s); err != nil {
		return rules.Knobs{}
	}
	return rules.Knobs{CollapseMin: s.CollapseMin, CollapseCoverage: s.CollapseCoverage, AnyPeers: s.AnyPeers,
		ScanPorts: s.ScanPorts, IncludeSuspect: s.IncludeSuspect}
}

// saveKnobs keeps k as the knobs of workspace.
func saveKnobs(p fyne.Preferences, workspace string, k rules.Knobs) {
	b, _ := json.Marshal(savedKnobs{k.CollapseMin, k.CollapseCoverage, k.AnyPeers, k.ScanPorts, k.IncludeSuspect})
	p.SetString(knobsKey(workspace), string(b))
}
