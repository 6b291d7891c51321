package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

type listenerView struct {
	u       *UI
	content fyne.CanvasObject
}

func newListenerView(u *UI) *listenerView {
	return &listenerView{u: u, content: widget.NewLabel("listener")}
}

func (v *listenerView) stop() {}
