package app

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/workspace"
	"github.com/flowsleuth/flowsleuth/app/message"
)

// ConversationSource is where the views take conversations from instead of
// the workspace: a ClickHouse store shared by collectors, which computes
// the conversation table itself. Package main opens it (Options.OpenStore),
// so the app needs no database driver. The workspace stays open: its
// inventory names the endpoints, its monitored set and rule edits apply,
// imports still go to it.
type ConversationSource interface {
	// Conversations returns the conversations, with directions relative
	// to monitored when it is not empty.
	Conversations(ctx context.Context, monitored []netip.Prefix) ([]analysis.Conversation, error)
	// String names the source for people (an address without password).
	String() string
	Close() error
}

// ErrNoStores is returned when the app was started without a way to open
// stores (Options.OpenStore).
var ErrNoStores error = message.New("Stores not available", "This build of FlowSleuth cannot open ClickHouse stores.",
	"Use the flowsleuth command built with store support, or read the workspace.")

// SetSource makes the project read its conversations from src (nil: from
// the workspace again), closing the previous source; call Reload then.
func (p *Project) SetSource(src ConversationSource) {
	p.mu.Lock()
	old := p.source
	p.source = src
	p.mu.Unlock()
	if old != nil {
		old.Close()
	}
}

// Source returns the project's conversation source, nil for the workspace.
func (p *Project) Source() ConversationSource {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.source
}

// conversations reads the conversations from the source, else from the
// workspace.
func (p *Project) conversations(ctx context.Context) (*analysis.Table, error) {
	src := p.Source()
	if src == nil {
		return p.ws.Table(ctx, workspace.Query{})
	}
	mon, err := p.ws.Monitored(ctx)
	if err != nil {
		return nil, err
	}
	convs, err := src.Conversations(ctx, mon)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	if err := p.ws.Label(ctx, convs); err != nil {
		return nil, err
	}
	return analysis.NewTable(convs), nil
}

// storeBox is the Sources view's store control: what the views read, and
// a button to open a store or return to the workspace.
type storeBox struct {
	u       *UI
	label   *widget.Label
	content fyne.CanvasObject
}

func newStoreBox(u *UI) *storeBox {
	b := &storeBox{u: u, label: widget.NewLabel("")}
	btn := widget.NewButtonWithIcon("ClickHouse store…", theme.StorageIcon(), u.chooseStore)
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

// chooseStore asks for a store's address and opens it; an empty address
// returns to the workspace's conversations.
func (u *UI) chooseStore() {
	entry := widget.NewEntry()
	entry.SetPlaceHolder("clickhouse://host:9000/flowsleuth (empty: the workspace's conversations)")
	if p := u.Project(); p != nil && p.Source() != nil {
		entry.SetText(p.Source().String())
	}
	d := dialog.NewForm("Read conversations from a ClickHouse store", "Open", "Cancel",
		[]*widget.FormItem{widget.NewFormItem("Store", entry)}, func(ok bool) {
			if ok {
				u.OpenStore(strings.TrimSpace(entry.Text))
			}
		}, u.win)
	d.Resize(fyne.NewSize(640, 200))
	d.Show()
}

// OpenStore makes the views read the conversations of the store at url,
// or of the workspace again when url is empty; from any goroutine. Loading
// runs in the background, as for a workspace.
func (u *UI) OpenStore(url string) {
	u.background(func() {
		p := u.Project()
		if p == nil {
			u.showError(errNoWorkspace)
			return
		}
		var src ConversationSource
		if url != "" {
			if u.opts.OpenStore == nil {
				u.showError(ErrNoStores)
				return
			}
			u.setStatus("Opening " + url + "…")
			var err error
			if src, err = u.opts.OpenStore(u.ctx, url); err != nil {
				u.showError(err)
				return
			}
		}
		p.SetSource(src)
		u.load(p)
		u.do(func() {
			u.sources.store.show(p)
			if src != nil {
				u.status.SetText(fmt.Sprintf("Conversations from %s, computed there; the workspace %s names them and keeps the edits.",
					src, p.Path()))
			}
		})
	})
}
