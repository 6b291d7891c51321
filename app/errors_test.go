package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/flowsleuth/flowsleuth/analysis/workspace"
	"github.com/flowsleuth/flowsleuth/app/message"
)

// The app's tests log their errors in the temporary directory, not in the
// user's cache (a test's UI may not set Options.Log).
func init() { os.Setenv(message.LogEnv, filepath.Join(os.TempDir(), "flowsleuth-app-test.log")) }

// labelTexts returns the texts of the labels o shows.
func labelTexts(o fyne.CanvasObject) []string {
	if !o.Visible() {
		return nil
	}
	switch x := o.(type) {
	case *widget.Label:
		return []string{x.Text}
	case *fyne.Container:
		var out []string
		for _, c := range x.Objects {
			out = append(out, labelTexts(c)...)
		}
		return out
	case *widget.Accordion:
		var out []string
		for _, it := range x.Items {
			if it.Open {
				out = append(out, labelTexts(it.Detail)...)
			}
		}
		return out
	case fyne.Widget:
		var out []string
		for _, c := range test.WidgetRenderer(x).Objects() {
			out = append(out, labelTexts(c)...)
		}
		return out
	}
	return nil
}

// TestErrorDialog: an error shows message.For's title, text and hint and
// where the details are, not the wrapped chain, which goes to the log.
func TestErrorDialog(t *testing.T) {
	dir := t.TempDir()
	u, w := newTestUI(t, filepath.Join(dir, "ws.flowsleuth"))
	u.log = message.NewLog(filepath.Join(dir, "log", "flowsleuth.log"))
	chain := fmt.Errorf("import fw.log into %s: %w", filepath.Join(dir, "ws.flowsleuth"), workspace.ErrBusy)
	onUI(func() { u.showErrorNow(chain) })
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no dialog")
	}
	shown := strings.Join(labelTexts(top), "\n")
	for _, want := range []string{"Workspace busy", "This program is already importing into or listening to the workspace.",
		"Wait for the import to finish, or stop the listener, then try again.", "Details: " + u.log.Path()} {
		if !strings.Contains(shown, want) {
			t.Errorf("the dialog does not say %q; it shows:\n%s", want, shown)
		}
	}
	if strings.Contains(shown, "import fw.log") {
		t.Errorf("the dialog shows the wrapped chain unasked:\n%s", shown)
	}
	var acc *widget.Accordion
	for _, o := range test.LaidOutObjects(top) {
		if a, ok := o.(*widget.Accordion); ok {
			acc = a
		}
	}
	if acc == nil {
		t.Fatal("no technical details to unfold")
	}
	onUI(func() { acc.Open(0) })
	if shown := strings.Join(labelTexts(top), "\n"); !strings.Contains(shown, chain.Error()) {
		t.Errorf("the unfolded details do not show the chain:\n%s", shown)
	}
	if got, want := u.status.Text, "Error: Workspace busy: This program is already importing"; !strings.HasPrefix(got, want) {
		t.Errorf("status %q, want %q…", got, want)
	}
	b, err := os.ReadFile(u.log.Path())
	if err != nil {
		t.Fatalf("nothing logged: %v", err)
	}
	if !strings.Contains(string(b), "app: Workspace busy: "+chain.Error()) {
		t.Errorf("the log does not hold the chain:\n%s", b)
	}
}
