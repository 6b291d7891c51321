package analysis

import "syscall"

// adviseHuge asks Linux to back b with huge pages where it can (with
// transparent huge pages in "madvise" mode, the default of many
// distributions): a table's look-ups land anywhere in it, and with 4 KiB
// pages each was also a miss of the processor's page-table cache (TLB), and
// its first write to each page a page fault — expensive in a virtual
// machine, where the host backs the page too (17 µs a 4 KiB page measured on
// the 2-core development VM, against 9.5 µs per 4 KiB with huge pages).
func adviseHuge(b []byte) { _ = syscall.Madvise(b, syscall.MADV_HUGEPAGE) }

// adviseNoHuge asks Linux to make no more huge pages of b.
func adviseNoHuge(b []byte) { _ = syscall.Madvise(b, syscall.MADV_NOHUGEPAGE) }

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14), which the
// syscall package does not name.
const madvPopulateWrite = 23

// populate makes b's pages present and writable at once, in one call:
// see allocSlots. A kernel without MADV_POPULATE_WRITE refuses it, and the
// pages are then made as the table touches them, as before.
func populate(b []byte) { _ = syscall.Madvise(b, madvPopulateWrite) }
