package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
)

// shortcut is Ctrl (Cmd on macOS) and key.
func shortcut(key fyne.KeyName) *desktop.CustomShortcut {
	return &desktop.CustomShortcut{KeyName: key, Modifier: fyne.KeyModifierShortcutDefault}
}

// menu builds the main menu; items with a shortcut show it.
func (u *UI) menu() *fyne.MainMenu {
	item := func(label string, key fyne.KeyName, fn func()) *fyne.MenuItem {
		it := fyne.NewMenuItem(label, fn)
		if key != "" {
			it.Shortcut = shortcut(key)
		}
		return it
	}
	file := fyne.NewMenu("File",
		item("Import logs…", fyne.KeyO, u.sources.chooseFiles),
		item("Open workspace…", "", u.chooseWorkspace),
		item("New workspace…", "", u.newWorkspace),
		fyne.NewMenuItemSeparator(),
		item("Import VM inventory…", "", u.chooseInventory),
		item("Monitored addresses…", "", u.editMonitored),
		fyne.NewMenuItemSeparator(),
		item("Export…", fyne.KeyE, u.showExport),
	)
	u.themeItems = map[string]*fyne.MenuItem{
		"system": item("Theme: follow the system", "", func() { u.setTheme("system") }),
		"light":  item("Theme: light", "", func() { u.setTheme("light") }),
		"dark":   item("Theme: dark", "", func() { u.setTheme("dark") }),
	}
	view := fyne.NewMenu("View",
		item("Filter the flows", fyne.KeyF, u.focusFilter),
		fyne.NewMenuItemSeparator(),
		u.themeItems["system"], u.themeItems["light"], u.themeItems["dark"],
	)
	u.markTheme()
	help := fyne.NewMenu("Help",
		item("Keyboard shortcuts", "", u.showShortcuts),
		item("About FlowSleuth", "", u.showAbout),
	)
	return fyne.NewMainMenu(file, view, help)
}

// markTheme ticks the theme in use in the View menu.
func (u *UI) markTheme() {
	cur := u.opts.Theme
	if cur == "" {
		cur = u.app.Preferences().StringWithFallback(prefTheme, "system")
	}
	if _, ok := u.themeItems[cur]; !ok {
		cur = "system"
	}
	for name, it := range u.themeItems {
		it.Checked = name == cur
	}
	if m := u.win.MainMenu(); m != nil {
		m.Refresh()
	}
}

func (u *UI) showExport() { u.selectTab("Export") }

func (u *UI) focusFilter() {
	u.selectTab("Flows")
	u.win.Canvas().Focus(u.flows.search)
}

// shortcuts registers Ctrl+O (import), Ctrl+E (export), Ctrl+F (filter):
// the menu shows them, the window's canvas runs them.
func (u *UI) shortcuts() {
	c := u.win.Canvas()
	for key, fn := range map[fyne.KeyName]func(){fyne.KeyO: u.sources.chooseFiles, fyne.KeyE: u.showExport, fyne.KeyF: u.focusFilter} {
		c.AddShortcut(shortcut(key), func(fyne.Shortcut) { fn() })
	}
}
