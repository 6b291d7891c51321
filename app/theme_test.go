package app

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// lightTheme is the default theme in its light variant whatever the user
// prefers, as the deprecated theme.LightTheme was: screenshots and golden
// images do not follow the desktop's setting.
func lightTheme() fyne.Theme { return lightVariant{theme.DefaultTheme()} }

type lightVariant struct{ fyne.Theme }

// Color is the default theme's colour n in the light variant.
func (t lightVariant) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(n, theme.VariantLight)
}
