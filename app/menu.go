package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
)

// shortcut is Ctrl (Cmd on macOS) and key.
func shortcut(key fyne.KeyName) *desktop.CustomShortcut {
	return &desktop.CustomShortcut{KeyName: key, Modifier: fyne.KeyModifierShortcutDefault}
}

// menuActions are what the main menu's items do (New wires them).
type menuActions struct {
	importLogs, openWorkspace, newWorkspace, importInventory, editMonitored func()
	export, filter, shortcuts, about                                        func()
	chooseTheme                                                             func(name string)
}

// newMainMenu builds the main menu; items with a shortcut show it. It
// returns the View menu's theme choices too, by name (markTheme).
func newMainMenu(a menuActions) (*fyne.MainMenu, map[string]*fyne.MenuItem) {
	item := func(label string, key fyne.KeyName, fn func()) *fyne.MenuItem {
		it := fyne.NewMenuItem(label, fn)
		if key != "" {
			it.Shortcut = shortcut(key)
		}
		return it
	}
	file := fyne.NewMenu("File",
		item("Import logs…", fyne.KeyO, a.importLogs),
		item("Open workspace…", "", a.openWorkspace),
		item("New workspace…", "", a.newWorkspace),
		fyne.NewMenuItemSeparator(),
		item("Import VM inventory…", "", a.importInventory),
		item("Monitored addresses…", "", a.editMonitored),
		fyne.NewMenuItemSeparator(),
		item("Export…", fyne.KeyE, a.export),
	)
	themes := map[string]*fyne.MenuItem{
		"system": item("Theme: follow the system", "", func() { a.chooseTheme("system") }),
		"light":  item("Theme: light", "", func() { a.chooseTheme("light") }),
		"dark":   item("Theme: dark", "", func() { a.chooseTheme("dark") }),
	}
	view := fyne.NewMenu("View",
		item("Filter the flows", fyne.KeyF, a.filter),
		fyne.NewMenuItemSeparator(),
		themes["system"], themes["light"], themes["dark"],
	)
	help := fyne.NewMenu("Help",
		item("Keyboard shortcuts", "", a.shortcuts),
		item("About FlowSleuth", "", a.about),
	)
	return fyne.NewMainMenu(file, view, help), themes
}

// markTheme ticks the theme cur ("" or unknown: "system") among the View
// menu's items and refreshes win's menu.
func markTheme(items map[string]*fyne.MenuItem, cur string, win fyne.Window) {
	if _, ok := items[cur]; !ok {
		cur = "system"
	}
	for name, it := range items {
		it.Checked = name == cur
	}
	if m := win.MainMenu(); m != nil {
		m.Refresh()
	}
}

// addShortcuts registers Ctrl+key for each of keys (the menu shows them,
// the window's canvas runs them).
func addShortcuts(c fyne.Canvas, keys map[fyne.KeyName]func()) {
	for key, fn := range keys {
		c.AddShortcut(shortcut(key), func(fyne.Shortcut) { fn() })
	}
}
