package analysis

import "syscall"

// adviseNoHuge asks Linux to make no more huge pages of b.
func adviseNoHuge(b []byte) { _ = syscall.Madvise(b, syscall.MADV_NOHUGEPAGE) }
