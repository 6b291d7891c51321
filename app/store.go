package app

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// storeBox is the Sources view's store control: what the views read, and
// a button to open a store or return to the workspace.
type storeBox struct {
	sh        *shell
	openStore func(ctx context.Context, url string) (ConversationSource, error) // nil: no stores
	label     *widget.Label
	content   fyne.CanvasObject
}

func newStoreBox(sh *shell, openStore func(ctx context.Context, url string) (ConversationSource, error)) *storeBox {
	b := &storeBox{sh: sh, openStore: openStore, label: widget.NewLabel("")}
	btn := widget.NewButtonWithIcon("ClickHouse store…", theme.StorageIcon(), b.choose)
	b.content = container.NewHBox(b.label, btn)
	return b
}

// show says where the conversations come from; on the UI goroutine.
func (b *storeBox) show(p *Project) {
	if src := p.Source(); src != nil {
		b.label.SetText("Conversations from " + src.String())
	} else {
		b.label.SetText("")
	}
}

// choose asks for a store's address and opens it; an empty address
// returns to the workspace's conversations.
func (b *storeBox) choose() {
	entry := widget.NewEntry()
	entry.SetPlaceHolder("clickhouse://host:9000/flowsleuth (empty: the workspace's conversations)")
	if p := b.sh.Project(); p != nil && p.Source() != nil {
		entry.SetText(p.Source().String())
	}
	d := dialog.NewForm("Read conversations from a ClickHouse store", "Open", "Cancel",
		[]*widget.FormItem{widget.NewFormItem("Store", entry)}, func(ok bool) {
			if ok {
				b.open(strings.TrimSpace(entry.Text))
			}
		}, b.sh.win)
	d.Resize(fyne.NewSize(640, 200))
	d.Show()
}

// open makes the views read the conversations of the store at url, or of
// the workspace again when url is empty; from any goroutine. Loading runs
// in the background, as for a workspace.
func (b *storeBox) open(url string) {
	sh := b.sh
	sh.background(func() {
		p := sh.Project()
		if p == nil {
			sh.showError(errNoWorkspace)
			return
		}
		var src ConversationSource
		if url != "" {
			if b.openStore == nil {
				sh.showError(ErrNoStores)
				return
			}
			sh.setStatus("Opening " + url + "…")
			var err error
			if src, err = b.openStore(sh.ctx, url); err != nil {
				sh.showError(err)
				return
			}
		}
		p.SetSource(src)
		sh.load(p)
		sh.do(func() {
			b.show(p)
			if src != nil {
				sh.status.SetText(fmt.Sprintf("Conversations from %s, computed there; the workspace %s names them and keeps the edits.",
					src, p.Path()))
			}
		})
	})
}
