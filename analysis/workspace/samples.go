package workspace

import (
	"database/sql/driver"
	"fmt"

	"modernc.org/sqlite"
)

// A conversation's sample lines, about 880 of the 1,018 bytes of a stored
// state on a million conversations, are stored in a table of their own,
// conversation_samples, by the conversation's id: every reader of the
// conversations (Overview, rules, checks, exports) decodes the state
// without them and read 6x more pages than it decoded. The state keeps
// their count (codecSplit); the row holds the lines as the record would
// (each a length and its bytes), so that state and lines one after the
// other are the whole record. A conversation without sample lines has no
// row. Conversations are never deleted: no foreign key (its check would
// cost a look-up of every inserted row).

// Schema 5's migration splits the records stored before with two
// functions of a record of version 1 or 2: splitStateFunc returns the
// record to store (version codecSplit, without the lines), splitLinesFunc
// its lines (NULL when it has none).
const (
	splitStateFunc = "flowsleuth_split_state"
	splitLinesFunc = "flowsleuth_split_lines"
)

func init() {
	for name, part := range map[string]int{splitStateFunc: 0, splitLinesFunc: 1} {
		sqlite.MustRegisterFunction(name, &sqlite.FunctionImpl{
			NArgs:         1,
			Deterministic: true,
			VolatileArgs:  true, // splitRecord keeps nothing of the record
			Scalar: func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
				rec, _ := args[0].([]byte)
				state, lines, err := splitRecord(rec)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", name, err)
				}
				if part == 0 {
					return state, nil
				}
				if len(lines) == 0 {
					return nil, nil
				}
				return lines, nil
			},
		})
	}
}

// splitRecord returns the record to store of rec (version codecSplit) and
// its sample lines, in one new slice.
func splitRecord(rec []byte) (state, lines []byte, err error) {
	st, err := decodeState(rec)
	if err != nil {
		return nil, nil, err
	}
	b, split := encodeSplit(nil, &st)
	return b[:split:split], b[split:], nil
}

// decodeLines reads the sample lines of a conversation_samples row.
func decodeLines(b []byte) ([]string, error) {
	var out []string
	d := dec{b: b}
	for len(d.b) > 0 && d.err == nil {
		out = append(out, d.s())
	}
	return out, d.err
}
