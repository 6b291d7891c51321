package inventory

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// rowSource yields the rows of one table: a CSV file or one worksheet.
type rowSource interface {
	// next returns the 1-based row number and the cells of the next row;
	// io.EOF after the last row; a *badRow for a row that cannot be read
	// (the table goes on); any other error ends the table.
	next() (int, []string, error)
}

// badRow is a row that cannot be read.
type badRow struct {
	row    int
	reason string
}

func (e *badRow) Error() string { return fmt.Sprintf("row %d: %s", e.row, e.reason) }

// readHead reads the rows that may hold the header.
func readHead(src rowSource) ([]headRow, error) {
	var head []headRow
	for len(head) < headerRows {
		num, cells, err := src.next()
		var br *badRow
		switch {
		case err == io.EOF:
			return head, nil
		case errors.As(err, &br):
			head = append(head, headRow{num: br.row, bad: br.reason})
		case err != nil:
			return head, err
		default:
			head = append(head, headRow{num: num, cells: cells})
		}
	}
	return head, nil
}

// readTable merges the rows after the header at head[hi] into b.
func (b *builder) readTable(src rowSource, head []headRow, hi int, l *layout) error {
	for _, r := range head[hi+1:] {
		if err := b.take(l, r.num, r.cells, r.bad); err != nil {
			return err
		}
	}
	for {
		num, cells, err := src.next()
		var br *badRow
		switch {
		case err == io.EOF:
			return nil
		case errors.As(err, &br):
			err = b.take(l, br.row, nil, br.reason)
		case err != nil:
			return err
		default:
			err = b.take(l, num, cells, "")
		}
		if err != nil {
			return err
		}
	}
}

// take merges one row, or reports it when it could not be read.
func (b *builder) take(l *layout, row int, cells []string, bad string) error {
	if bad == "" {
		return b.addRow(l, row, cells)
	}
	if b.rep.Rows++; b.rep.Rows > MaxRows {
		return fmt.Errorf("more than %d rows: %w", MaxRows, ErrTooManyRows)
	}
	b.problem(row, bad)
	return nil
}

// describe records the columns of l in the report; sheet qualifies the
// headers when several sheets are read.
func (b *builder) describe(l *layout, sheet string) {
	q := func(h string) string {
		if sheet != "" {
			return sheet + "!" + h
		}
		return h
	}
	add := func(role string, cols []column) {
		for _, c := range cols {
			if c.index < 0 {
				continue
			}
			if old := b.rep.Columns[role]; old != "" {
				b.rep.Columns[role] = old + ", " + q(c.header)
			} else {
				b.rep.Columns[role] = q(c.header)
			}
		}
	}
	add("name", []column{l.name})
	add("ip", l.ips)
	add("groups", l.groups)
}

// noteGroups tells the user when no table had a group column.
func (b *builder) noteGroups(ignored []string) {
	if b.rep.Columns["groups"] != "" {
		return
	}
	s := "no tag, category or security group column: VMs have no groups"
	if len(ignored) > 0 {
		quoted := make([]string, len(ignored))
		for i, h := range ignored {
			quoted[i] = strconv.Quote(clip(h))
		}
		s += "; not used as groups: " + strings.Join(quoted, ", ")
	}
	b.note(s)
}
