//go:build unix && !linux

package analysis

// adviseHuge does nothing: huge pages are asked for on Linux only.
func adviseHuge([]byte) {}

// populate makes b's pages present and writable at once: see touchPages.
func populate(b []byte) { touchPages(b) }
