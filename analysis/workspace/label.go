package workspace

import (
	"context"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// Label names conversation endpoints after the workspace's inventory: for
// conversations read from elsewhere (a shared store).
func (ws *Workspace) Label(ctx context.Context, convs []analysis.Conversation) error {
	return ws.label(ctx, convs)
}
