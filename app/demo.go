package app

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/flowsleuth/flowsleuth/analysis/workspace"
	"github.com/flowsleuth/flowsleuth/export"
	"github.com/flowsleuth/flowsleuth/ingest/demo"
)

// DemoSessions is the size of the built-in demo: enough traffic to fill
// every view, small enough to build in about a second.
const DemoSessions = 3000

// EnsureDemo makes the built-in demo workspace in dir unless it is there
// already, and returns its path: the three-tier application of
// ingest/demo seen by NSX-V (rule tags SGTSWEB, SGTSAPP, SGTSDB) and by
// Nutanix Flow (policy hit logs), as two log files imported like a user's,
// with the inventory of its VMs (categories AppType:Books and AppTier), so
// that the rules name the tiers.
func EnsureDemo(ctx context.Context, dir string) (string, error) {
	path := filepath.Join(dir, "demo.flowsleuth")
	if st, err := os.Stat(path); err == nil && st.Size() > 0 {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	var files []string
	for _, v := range []string{"nsxv", "nutanix"} {
		name := filepath.Join(dir, "demo-"+v+".log")
		err := export.WriteFile(name, func(w *bufio.Writer) error {
			_, _, err := demo.Generate(w, demo.Config{Vendor: v, Sessions: DemoSessions, Seed: 1})
			return err
		})
		if err != nil {
			return "", fmt.Errorf("demo workspace: %w", err)
		}
		files = append(files, name)
	}
	// Built under a temporary name, so a half-built demo is never opened.
	tmp := path + ".building"
	os.Remove(tmp)
	ws, err := workspace.Open(tmp)
	if err != nil {
		return "", err
	}
	if _, err := ws.Import(ctx, files, workspace.ImportOptions{}); err != nil {
		ws.Close()
		os.Remove(tmp)
		return "", fmt.Errorf("demo workspace: %w", err)
	}
	if err := importDemoInventory(ctx, ws, dir); err != nil {
		ws.Close()
		os.Remove(tmp)
		return "", fmt.Errorf("demo workspace: %w", err)
	}
	if err := ws.Close(); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}

// importDemoInventory writes the demo world's inventory beside the logs and
// imports it, as a user would.
func importDemoInventory(ctx context.Context, ws *workspace.Workspace, dir string) error {
	vms, err := demo.Inventory(demo.Config{Vendor: "nutanix", Seed: 1}) // one world for both logs of seed 1
	if err != nil {
		return err
	}
	name := filepath.Join(dir, "demo-inventory.csv")
	if err := export.WriteFile(name, func(w *bufio.Writer) error { return demo.WriteInventoryCSV(w, vms) }); err != nil {
		return err
	}
	_, err = ws.ImportInventory(ctx, name)
	return err
}
