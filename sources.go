package main

import (
	"context"
	"fmt"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/clickhouse"
	"github.com/flowsleuth/flowsleuth/app/inputs"
	"github.com/flowsleuth/flowsleuth/export"
	"github.com/flowsleuth/flowsleuth/ingest"
)

// The sources an export or a check names as what its conversations came
// from (the workbook's Sources sheet): the workspace's imported files, the
// files read in memory, or the store and its collectors. The export and
// check commands both call these.

// exportSources describes the inputs for the workbook's Sources sheet.
func (c *cli) exportSources(wsPath string, files []string) ([]export.Source, error) {
	if c.store != "" {
		return c.storeSources()
	}
	if len(files) > 0 {
		return fileSources(c.loaded), nil
	}
	ws, err := c.openWorkspaceToRead(wsPath)
	if err != nil {
		return nil, err
	}
	defer ws.Close()
	srcs, err := ws.Sources(context.Background())
	if err != nil {
		return nil, err
	}
	return inputs.Workspace(srcs), nil
}

// fileSources describes the files read without a workspace, with what
// their lines were, as import counts them.
func fileSources(res []analysis.FileResult) []export.Source {
	out := make([]export.Source, 0, len(res))
	for _, r := range res {
		st := &r.Stats
		src := export.Source{Path: r.Name, Size: max(r.Size, 0), Lines: st.Lines, Events: st.Events, Skipped: st.Skipped,
			Unsupported: st.Unsupported, Malformed: st.Malformed, Imported: time.Now()}
		for _, pe := range st.MalformedSamples {
			src.MalformedSamples = append(src.MalformedSamples, fmt.Sprintf("%s:%d: %v", pe.File, pe.Line, ingest.Reason(pe.Err)))
		}
		out = append(out, src)
	}
	return out
}

// storeSources describes the store for the workbook's Sources sheet.
func (c *cli) storeSources() ([]export.Source, error) {
	ctx := context.Background()
	s, err := clickhouse.Open(ctx, c.store)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	in, err := s.Info(ctx)
	if err != nil {
		return nil, err
	}
	out := []export.Source{{Path: in.Address, Events: int64(in.Sessions), Imported: time.Now()}}
	for _, col := range in.Collectors {
		out = append(out, export.Source{Path: fmt.Sprintf("collector %s (%s)", col.Name, col.Workspace),
			Events: int64(col.Records), Imported: col.Seen})
	}
	return out, nil
}
