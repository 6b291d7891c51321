package workspace

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis/rules"
)

// AddEdit records a rule edit; it returns the edit with its sequence number.
// A rule merged into itself is refused.
//
// Like an export's history, an edit takes no writer lock: the admin
// reviews and edits the rules while a listener collects for days, and the
// edits are no part of the model or of the open connections the lock
// protects. It waits for another process's commit instead.
func (ws *Workspace) AddEdit(ctx context.Context, e rules.Edit) (rules.Edit, error) {
	if e.Op == rules.EditMerge && e.Arg == e.Rule {
		return e, fmt.Errorf("rule %s cannot be merged into itself: name another rule", e.Rule)
	}
	if ws.readOnly {
		return e, ErrReadOnly
	}
	err := ws.besideWriter(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `INSERT INTO rule_edits (op, rule, arg, created) VALUES (?, ?, ?, ?)`,
			string(e.Op), e.Rule, e.Arg, time.Now().Unix())
		if err != nil {
			return err
		}
		e.Seq, err = r.LastInsertId()
		return err
	})
	return e, err
}

// Edits returns the rule edits in the order they were made.
func (ws *Workspace) Edits(ctx context.Context) ([]rules.Edit, error) {
	rows, err := ws.db.QueryContext(ctx, `SELECT seq, op, rule, arg FROM rule_edits ORDER BY seq`)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []rules.Edit
	for rows.Next() {
		var e rules.Edit
		var op string
		if err := rows.Scan(&e.Seq, &op, &e.Rule, &e.Arg); err != nil {
			return nil, classify(err)
		}
		e.Op = rules.EditOp(op)
		out = append(out, e)
	}
	return out, classify(rows.Err())
}

// RemoveEdit undoes edit seq; like AddEdit, beside a writer.
func (ws *Workspace) RemoveEdit(ctx context.Context, seq int64) error {
	if ws.readOnly {
		return ErrReadOnly
	}
	return ws.besideWriter(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `DELETE FROM rule_edits WHERE seq = ?`, seq)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return fmt.Errorf("no edit %d", seq)
		}
		return nil
	})
}
