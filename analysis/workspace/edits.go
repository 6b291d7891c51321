package workspace

import (
	"context"
	"fmt"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// AddEdit records a rule edit; it returns the edit with its sequence number.
// A rule merged into itself is refused.
func (ws *Workspace) AddEdit(ctx context.Context, e analysis.Edit) (analysis.Edit, error) {
	if e.Op == analysis.EditMerge && e.Arg == e.Rule {
		return e, fmt.Errorf("rule %s cannot be merged into itself: name another rule", e.Rule)
	}
	release, err := ws.Hold("rule edit")
	if err != nil {
		return e, err
	}
	defer release()
	ws.wmu.Lock()
	defer ws.wmu.Unlock()
	r, err := ws.db.ExecContext(ctx, `INSERT INTO rule_edits (op, rule, arg, created) VALUES (?, ?, ?, ?)`,
		string(e.Op), e.Rule, e.Arg, time.Now().Unix())
	if err != nil {
		return e, classify(err)
	}
	e.Seq, err = r.LastInsertId()
	return e, err
}

// Edits returns the rule edits in the order they were made.
func (ws *Workspace) Edits(ctx context.Context) ([]analysis.Edit, error) {
	rows, err := ws.db.QueryContext(ctx, `SELECT seq, op, rule, arg FROM rule_edits ORDER BY seq`)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []analysis.Edit
	for rows.Next() {
		var e analysis.Edit
		var op string
		if err := rows.Scan(&e.Seq, &op, &e.Rule, &e.Arg); err != nil {
			return nil, classify(err)
		}
		e.Op = analysis.EditOp(op)
		out = append(out, e)
	}
	return out, classify(rows.Err())
}

// RemoveEdit undoes edit seq.
func (ws *Workspace) RemoveEdit(ctx context.Context, seq int64) error {
	release, err := ws.Hold("rule edit")
	if err != nil {
		return err
	}
	defer release()
	ws.wmu.Lock()
	defer ws.wmu.Unlock()
	r, err := ws.db.ExecContext(ctx, `DELETE FROM rule_edits WHERE seq = ?`, seq)
	if err != nil {
		return classify(err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return fmt.Errorf("no edit %d", seq)
	}
	return nil
}
