// Package inputs describes what a rule base was made from, for the
// workbook's Sources sheet (export.Source), as the CLI and the app both
// show it. It sits above the store and the exporters so that neither
// imports the other: export never reads the workspace, and the workspace
// knows nothing of spreadsheets.
package inputs

import (
	"fmt"

	"github.com/flowsleuth/flowsleuth/analysis/workspace"
	"github.com/flowsleuth/flowsleuth/export"
)

// Workspace describes a workspace's imported files for the workbook's
// Sources sheet.
func Workspace(srcs []workspace.Source) []export.Source {
	out := make([]export.Source, 0, len(srcs))
	for _, s := range srcs {
		es := export.Source{Path: s.Path, Size: s.Size, Lines: s.Stats.Lines, Events: s.Stats.Events,
			Skipped: s.Stats.Skipped, Unsupported: s.Stats.Unsupported, Malformed: s.Stats.Malformed, Imported: s.LastImported}
		for _, m := range s.Malformed {
			es.MalformedSamples = append(es.MalformedSamples, fmt.Sprintf("%s:%d: %s", s.Path, m.Line, m.Reason))
		}
		out = append(out, es)
	}
	return out
}
