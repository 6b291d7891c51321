package inventory

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
)

// Read reads a CSV or XLSX file (detected by content: XLSX is a zip, "PK\x03\x04"), finds the
// columns by their header names, and returns the VMs. Errors are wrapped
// with the path; the Report describes what was read up to an error.
func Read(path string) ([]VM, Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Report{}, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	magic, _ := br.Peek(len(oleMagic))
	var (
		vms []VM
		rep Report
	)
	switch {
	case bytes.HasPrefix(magic, zipMagic):
		vms, rep, err = ReadXLSX(br)
	case bytes.Equal(magic, oleMagic):
		err = fmt.Errorf("legacy .xls or password-protected workbook, save it as .xlsx: %w", ErrUnsupported)
	default:
		vms, rep, err = ReadCSV(br)
	}
	if err != nil {
		return nil, rep, fmt.Errorf("read %s: %w", path, err)
	}
	return vms, rep, nil
}
