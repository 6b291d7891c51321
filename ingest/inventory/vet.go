package inventory

import (
	"archive/zip"
	"bytes"
	"fmt"
	"strings"
)

// vetWorkbook rejects workbooks that would make excelize use far more memory
// than MaxUnzipBytes suggests. UnzipSizeLimit bounds the unzipped bytes, but
// not what excelize builds from them:
//
//   - Rows().Columns() copies a shared string into every cell that refers to
//     it: a 3 KB file with a 1 MiB string and a row of 16,384 references
//     makes a 16 GiB row. The widest row times the longest shared string must
//     stay under maxRowExpand.
//   - encoding/xml's Token keeps a stack entry per open element (about 30
//     bytes of heap per 3 input bytes, unbounded): 256 MiB of "<a>" would
//     take gigabytes. Nesting is limited to maxXMLDepth.
//   - Each shared string costs excelize about 100 bytes of bookkeeping; their
//     number is limited to maxSharedStrings.
//   - A part declaring another encoding than UTF-8 is transcoded by excelize,
//     which this byte-level check could not follow: it is refused.
//
// Cells are read raw (RawCellValue), so number formats cannot expand them.
func vetWorkbook(data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("open xlsx: %w", err)
	}
	var total uint64
	for _, f := range zr.File {
		if total += f.UncompressedSize64; total > MaxUnzipBytes {
			return fmt.Errorf("xlsx unzips to more than %d MiB: %w", MaxUnzipBytes>>20, ErrTooLarge)
		}
	}
	var sst xmlStats
	widest := 0
	for _, f := range zr.File {
		st, err := scanPart(f)
		if err != nil {
			return fmt.Errorf("xlsx part %s: %w", clip(f.Name), err)
		}
		// Binary parts (images) have no root: excelize does not parse them.
		if f.UncompressedSize64 > maxPartBytes && st.root != "" && st.root != "worksheet" && st.root != "sst" {
			return fmt.Errorf("xlsx part %s larger than %d MiB: %w", clip(f.Name), maxPartBytes>>20, ErrTooLarge)
		}
		// excelize reads the shared strings from this path only.
		if strings.EqualFold(strings.ReplaceAll(f.Name, `\`, "/"), "xl/sharedStrings.xml") {
			sst = st
		}
		widest = max(widest, st.widestRow)
	}
	if sst.strings > maxSharedStrings {
		return fmt.Errorf("more than %d shared strings: %w", maxSharedStrings, ErrTooLarge)
	}
	if expand := int64(widest) * sst.longestSI; expand > maxRowExpand {
		return fmt.Errorf("a row of %d cells sharing strings of up to %d KiB could expand to %d MiB: %w",
			widest, sst.longestSI>>10, expand>>20, ErrTooLarge)
	}
	return nil
}

// scanPart scans one zip entry; directories have nothing to scan.
func scanPart(f *zip.File) (xmlStats, error) {
	if f.FileInfo().IsDir() {
		return xmlStats{}, nil
	}
	rc, err := f.Open()
	if err != nil {
		return xmlStats{}, err
	}
	defer rc.Close()
	// A read error (a corrupt entry) ends the scan like EOF: excelize
	// stops reading the entry at the same point.
	st, err := scanXML(rc)
	if _, ok := err.(*vetError); ok {
		return st, err
	}
	return st, nil
}
