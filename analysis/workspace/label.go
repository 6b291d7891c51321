package workspace

import (
	"context"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// Label returns t with its endpoints named after the workspace's inventory
// (t itself when the inventory is empty): for conversations read from
// elsewhere (a shared store).
func (ws *Workspace) Label(ctx context.Context, t *analysis.Table) (*analysis.Table, error) {
	vms, err := ws.vmLabels(ctx)
	if err != nil || len(vms) == 0 {
		return t, err
	}
	return t.WithLabels(vms), nil
}
