package d1

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// Checksums hashes every table of database id on this node (its rows in
// rowid or primary key order, every column), with the applied index they
// reflect: replicas that applied the same entries must agree. Tests and
// operators compare them.
func (m *Module) Checksums(ctx context.Context, id string) (uint64, map[string]string, error) {
	d, err := m.database(id)
	if err != nil {
		return 0, nil, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return 0, nil, errClosed
	}
	tx, err := d.r.BeginTx(ctx, nil)
	if err != nil {
		return 0, nil, err
	}
	defer tx.Rollback()
	at, err := d.readApplied(ctx, tx)
	if err != nil {
		return 0, nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return 0, nil, err
	}
	type table struct{ name, sql string }
	var tables []table
	for rows.Next() {
		var t table
		if err := rows.Scan(&t.name, &t.sql); err != nil {
			rows.Close()
			return 0, nil, err
		}
		tables = append(tables, t)
	}
	rows.Close()
	sums := make(map[string]string, len(tables))
	for _, t := range tables {
		order := "rowid"
		if strings.Contains(strings.ToUpper(t.sql), "WITHOUT ROWID") || strings.HasPrefix(strings.ToUpper(t.sql), "CREATE VIRTUAL") {
			order = "1"
		}
		rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT * FROM "%s" ORDER BY %s`, strings.ReplaceAll(t.name, `"`, `""`), order))
		if err != nil {
			return 0, nil, fmt.Errorf("checksum %s: %w", t.name, err)
		}
		r, err := collectRows(rows)
		if err != nil {
			return 0, nil, fmt.Errorf("checksum %s: %w", t.name, err)
		}
		h := sha256.New()
		_ = json.NewEncoder(h).Encode(r.Rows)
		_, _ = h.Write([]byte(t.sql))
		sums[t.name] = hex.EncodeToString(h.Sum(nil))
	}
	return uint64(at), sums, nil
}
