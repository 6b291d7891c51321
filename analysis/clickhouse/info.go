package clickhouse

import (
	"context"
	"fmt"
	"time"
)

// Info summarises a store.
type Info struct {
	Address    string          `json:"address"`
	Server     string          `json:"server_version"`
	Schema     uint32          `json:"schema"`
	Rows       uint64          `json:"rows"`     // session rows, every version of each
	Sessions   uint64          `json:"sessions"` // sessions, each counted once
	First      time.Time       `json:"first,omitzero"`
	Last       time.Time       `json:"last,omitzero"` // by session start
	Collectors []CollectorInfo `json:"collectors"`
}

// CollectorInfo is what a collector wrote.
type CollectorInfo struct {
	ID        uint64    `json:"id"`
	Name      string    `json:"name"`
	Workspace string    `json:"workspace"`
	Records   uint64    `json:"records"` // sent, retries included
	Writes    uint64    `json:"writes"`
	Seen      time.Time `json:"last_write"`
}

// Info returns the store's summary. Counting sessions merges every
// session's rows (FINAL): it reads the whole table.
func (s *Store) Info(ctx context.Context) (Info, error) {
	in := Info{Address: s.addr.String(), Server: s.server}
	var err error
	if in.Schema, err = s.schemaVersion(ctx); err != nil {
		return in, fmt.Errorf("read %s: %w", s.addr, err)
	}
	var first, last uint32
	err = s.conn.QueryRow(ctx, `SELECT count(), minIf(toUInt32(start), toUInt32(start) != 0), max(toUInt32(start)) FROM `+
		s.table("sessions")).Scan(&in.Rows, &first, &last)
	if err == nil {
		err = s.conn.QueryRow(ctx, `SELECT count() FROM `+s.table("sessions")+` FINAL`).Scan(&in.Sessions)
	}
	if err != nil {
		return in, fmt.Errorf("read %s: %w", s.addr, err)
	}
	if last != 0 {
		in.First, in.Last = time.Unix(int64(first), 0).UTC(), time.Unix(int64(last), 0).UTC()
	}
	rows, err := s.conn.Query(ctx, `SELECT collector, argMax(name, seen), argMax(workspace, seen), sum(records), count(), max(seen)
		FROM `+s.table("collectors")+` GROUP BY collector ORDER BY collector`)
	if err != nil {
		return in, fmt.Errorf("read %s: %w", s.addr, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c CollectorInfo
		if err := rows.Scan(&c.ID, &c.Name, &c.Workspace, &c.Records, &c.Writes, &c.Seen); err != nil {
			return in, fmt.Errorf("read %s: %w", s.addr, err)
		}
		c.Seen = c.Seen.UTC()
		in.Collectors = append(in.Collectors, c)
	}
	return in, rows.Err()
}
