package workspace

import (
	"database/sql/driver"
	"fmt"

	"github.com/flowsleuth/flowsleuth/analysis"
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
	for name, lines := range map[string]bool{splitStateFunc: false, splitLinesFunc: true} {
		sqlite.MustRegisterFunction(name, &sqlite.FunctionImpl{
			NArgs:         1,
			Deterministic: true,
			// The lines returned are a view of the record: the driver copies
			// a result before it lets go of the arguments.
			VolatileArgs: true,
			Scalar: func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
				rec, _ := args[0].([]byte)
				state, ls, err := splitRecord(rec)
				switch {
				case err != nil:
					return nil, fmt.Errorf("%s: %w", name, err)
				case !lines:
					return state, nil
				case len(ls) == 0:
					return nil, nil
				}
				return ls, nil
			},
		})
	}
}

// splitRecord returns the record to store of rec, a record of version 1
// or 2 (version codecSplit, in a new slice), and its sample lines (a view
// of rec). The parts of rec are moved, not decoded: decoding and encoding
// each record again was a quarter of the CPU of upgrading a million.
func splitRecord(rec []byte) (state, lines []byte, err error) {
	var c analysis.ConvState
	var lists recordLists
	if _, err := decodeRecord(rec, &c, nil, false, &lists); err != nil { // checks it
		return nil, nil, err
	}
	if rec[0] == codecSplit { // written with its lines: none stored so
		st, err := decodeState(rec)
		if err != nil {
			return nil, nil, err
		}
		b, split := encodeSplit(nil, &st)
		return b[:split:split], b[split:], nil
	}
	// Versions 1 and 2: the body, to the vendors, as codecSplit has it;
	// then the sample lines' count and the lines; version 2's Origins last.
	d := dec{b: lists.tail}
	d.u()    // actions
	d.byte() // vendors
	body := len(rec) - len(d.b)
	d.u() // the count
	count, end := rec[body:len(rec)-len(d.b)], len(rec)
	if rec[0] == codecOrigins {
		end--
	}
	lines = rec[len(rec)-len(d.b) : end]
	origins := c.Origins // as encodeSplit writes it
	if origins&analysis.OriginUnauthenticated == 0 {
		origins = analysis.OriginAuthenticated
	}
	state = make([]byte, 0, body+1+len(count))
	state = append(append(append(append(state, codecSplit), rec[1:body]...), origins), count...)
	return state, lines, nil
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
