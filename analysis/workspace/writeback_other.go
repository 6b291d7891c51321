//go:build !linux

package workspace

// startWriteback does nothing where the kernel offers no way to start
// writing a file's pages without waiting for them (see writeback_linux.go).
func (ws *Workspace) startWriteback() (stop func()) { return func() {} }
