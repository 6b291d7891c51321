package workspace

import (
	"context"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// Label names conversation endpoints after the workspace's inventory: for
// conversations read from elsewhere (a shared store).
func (ws *Workspace) Label(ctx context.Context, convs []analysis.Conversation) error {
	vms, err := ws.vmLabels(ctx)
	if err != nil || len(vms) == 0 {
		return err
	}
	for i := range convs {
		c := &convs[i]
		if l, ok := vms[c.Src]; ok {
			c.SrcVM, c.SrcGroups = l.VM, l.Groups
		}
		if l, ok := vms[c.Dst]; ok {
			c.DstVM, c.DstGroups = l.VM, l.Groups
		}
	}
	return nil
}
