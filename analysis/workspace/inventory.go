package workspace

import (
	"context"
	"database/sql"
	"net/netip"
	"strings"
	"time"
)

// InvEntry maps one IP address to its VM and groups.
type InvEntry struct {
	IP     netip.Addr `json:"ip"`
	VM     string     `json:"vm"`
	Groups []string   `json:"groups,omitempty"`
}

// ReplaceInventory replaces the inventory with entries, in one transaction,
// and records where it came from (path) and what the reader reported.
func (ws *Workspace) ReplaceInventory(ctx context.Context, entries []InvEntry, path, report string) error {
	return ws.writeAs(ctx, "inventory import", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM inventory`); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO inventory (ip, vm, groups) VALUES (?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, e := range entries {
			ip := e.IP.Unmap().As16()
			if _, err := stmt.ExecContext(ctx, ip[:], e.VM, strings.Join(e.Groups, "\n")); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO inventory_imports (path, imported, report) VALUES (?, ?, ?)`,
			path, time.Now().Unix(), report)
		return err
	})
}

// Inventory returns the inventory, by address.
func (ws *Workspace) Inventory(ctx context.Context) ([]InvEntry, error) {
	rows, err := ws.db.QueryContext(ctx, `SELECT ip, vm, groups FROM inventory ORDER BY ip`)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	out := []InvEntry{}
	for rows.Next() {
		var ip []byte
		var e InvEntry
		var groups string
		if err := rows.Scan(&ip, &e.VM, &groups); err != nil {
			return nil, classify(err)
		}
		if len(ip) != 16 {
			continue
		}
		e.IP = netip.AddrFrom16([16]byte(ip)).Unmap()
		if groups != "" {
			e.Groups = strings.Split(groups, "\n")
		}
		out = append(out, e)
	}
	return out, classify(rows.Err())
}
