package inventory

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Formats reported in [Report.Format].
const (
	FormatRVTools      = "rvtools"
	FormatPrismCentral = "prism-central"
	FormatSimple       = "simple"
	FormatGeneric      = "generic"
)

// Limits on untrusted input.
const (
	MaxRows        = 1_000_000 // data rows per file
	MaxCellBytes   = 64 << 10  // bytes in one name, IP or group cell
	MaxRecordBytes = 1 << 20   // bytes in one CSV record
	MaxUnzipBytes  = 256 << 20 // bytes unzipped from an XLSX file
	MaxProblems    = 100       // problems kept in Report.Skipped
	headerRows     = 10        // rows searched for the header
)

// Errors returned by Read, ReadCSV and ReadXLSX. Compare with errors.Is.
var (
	// ErrNoColumn: no VM name or no IP address column was recognised; the
	// error is a *ColumnError listing the headers found.
	ErrNoColumn = errors.New("no recognisable column")
	// ErrNoRows: the file or sheet has no non-blank row.
	ErrNoRows = errors.New("no rows")
	// ErrTooManyRows: more than MaxRows data rows.
	ErrTooManyRows = errors.New("too many rows")
	// ErrTooLarge: a CSV record over MaxRecordBytes, an XLSX file over
	// MaxXLSXBytes or MaxUnzipBytes unzipped, or a workbook built to
	// exhaust memory.
	ErrTooLarge = errors.New("too large")
	// ErrUnsupported: a legacy .xls or encrypted workbook, or UTF-16 text.
	ErrUnsupported = errors.New("unsupported file format")
)

// VM is one virtual machine: its name, its IP addresses and the groups it belongs to.
type VM struct {
	Name   string
	IPs    []netip.Addr // unmapped; IPv4 and IPv6; sorted, unique
	Groups []string     // tags / categories ("Key:Value" for Nutanix categories) / security groups; sorted, unique
}

// Report says what Read understood, for the user.
type Report struct {
	Format       string            // FormatRVTools, FormatPrismCentral, FormatSimple or FormatGeneric
	Sheet        string            // XLSX sheet(s) used, comma-separated ("" for CSV)
	Columns      map[string]string // role ("name", "ip", "groups") -> header text found ("Sheet!Header" when several sheets are read)
	Rows         int               // non-blank data rows read
	VMs          int               // VMs produced (rows merged by name)
	Skipped      []RowProblem      // the first MaxProblems problems, by sheet and row
	SkippedCount int               // all problems: skipped rows, ignored addresses, conflicts
	Notes        []string          // remarks for the user, such as "no group column"
}

// RowProblem is a row skipped, or a value in it ignored, and why.
type RowProblem struct {
	Row    int    // 1-based: the line for CSV, the row for XLSX
	Reason string // prefixed with the sheet ("vNetwork: ") when several sheets are read
}

// ColumnError reports a table without a recognisable VM name or IP address
// column. It matches ErrNoColumn.
type ColumnError struct {
	Missing string   // "VM name", "IP address", "VM name or IP address", …
	Headers []string // the cells of the row most like a header
}

// Error returns, for example, `no IP address column among: "Foo", "Bar"`.
func (e *ColumnError) Error() string {
	const most = 40
	quoted := make([]string, 0, min(len(e.Headers), most))
	for i, h := range e.Headers {
		if i == most {
			quoted = append(quoted, fmt.Sprintf("and %d more", len(e.Headers)-most))
			break
		}
		quoted = append(quoted, fmt.Sprintf("%q", clip(h)))
	}
	return fmt.Sprintf("no %s column among: %s", e.Missing, strings.Join(quoted, ", "))
}

// Unwrap returns ErrNoColumn.
func (e *ColumnError) Unwrap() error { return ErrNoColumn }

var (
	zipMagic = []byte("PK\x03\x04")
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
)

// clip shortens s for messages.
func clip(s string) string {
	const most = 60
	n := 0
	for i := range s {
		if n == most {
			return s[:i] + "…"
		}
		n++
	}
	return s
}
