//go:build unix && !linux

package analysis

// adviseNoHuge does nothing: huge pages are asked for on Linux only.
func adviseNoHuge([]byte) {}
