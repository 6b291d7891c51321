// Package assets holds the files FlowSleuth ships inside its binary.
package assets

import _ "embed"

// Icon is the application icon, a 256×256 PNG (also declared in FyneApp.toml).
//
//go:embed icon.png
var Icon []byte
