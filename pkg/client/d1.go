package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// D1 is the D1 API of one account.
type D1 struct {
	c       *Client
	account string
}

// D1 returns the D1 API of account accountID (see AccountID).
func (c *Client) D1(accountID string) *D1 { return &D1{c: c, account: accountID} }

// D1Database is a D1 database as the API shows it.
type D1Database struct {
	UUID                string `json:"uuid"`
	Name                string `json:"name"`
	CreatedAt           string `json:"created_at"`
	Version             string `json:"version"`
	NumTables           int    `json:"num_tables"`
	FileSize            int64  `json:"file_size"`
	PrimaryLocationHint string `json:"primary_location_hint,omitempty"`
}

// D1Meta is the meta object of one statement's result.
type D1Meta struct {
	ChangedDB       bool    `json:"changed_db"`
	Changes         int64   `json:"changes"`
	Duration        float64 `json:"duration"`
	LastRowID       int64   `json:"last_row_id"`
	RowsRead        int64   `json:"rows_read"`
	RowsWritten     int64   `json:"rows_written"`
	SizeAfter       int64   `json:"size_after"`
	ServedByPrimary bool    `json:"served_by_primary"`
	ServedByRegion  string  `json:"served_by_region"`
	ServedByNode    string  `json:"served_by_node"`
	Bookmark        string  `json:"bookmark"`
}

// D1RawResult is one statement's result from /raw: columns and rows.
type D1RawResult struct {
	Results struct {
		Columns []string `json:"columns"`
		Rows    [][]any  `json:"rows"`
	} `json:"results"`
	Success bool   `json:"success"`
	Meta    D1Meta `json:"meta"`
}

func (d *D1) path(rest string) string {
	return "/client/v4/accounts/" + url.PathEscape(d.account) + "/d1/database" + rest
}

// Create creates a database; hint (optional) is its primary_location_hint.
func (d *D1) Create(ctx context.Context, name, hint string) (D1Database, error) {
	body := map[string]string{"name": name}
	if hint != "" {
		body["primary_location_hint"] = hint
	}
	var out D1Database
	if _, err := d.c.Do(ctx, http.MethodPost, d.path(""), body, &out); err != nil {
		return D1Database{}, fmt.Errorf("create d1 database: %w", err)
	}
	return out, nil
}

// List returns every database of the account, by name.
func (d *D1) List(ctx context.Context) ([]D1Database, error) {
	all := []D1Database{}
	for page := 1; page <= maxNamespacePages; page++ {
		var got []D1Database
		q := url.Values{"page": {strconv.Itoa(page)}, "per_page": {"100"}, "order": {"name"}}
		if _, err := d.c.Do(ctx, http.MethodGet, d.path("?"+q.Encode()), nil, &got); err != nil {
			return nil, fmt.Errorf("list d1 databases: %w", err)
		}
		all = append(all, got...)
		if len(got) < 100 {
			return all, nil
		}
	}
	return nil, fmt.Errorf("list d1 databases: %w: too many pages", ErrBadResponse)
}

// Get returns one database.
func (d *D1) Get(ctx context.Context, id string) (D1Database, error) {
	var out D1Database
	if _, err := d.c.Do(ctx, http.MethodGet, d.path("/"+url.PathEscape(id)), nil, &out); err != nil {
		return D1Database{}, fmt.Errorf("get d1 database: %w", err)
	}
	return out, nil
}

// Delete deletes a database and its data on every node.
func (d *D1) Delete(ctx context.Context, id string) error {
	if _, err := d.c.Do(ctx, http.MethodDelete, d.path("/"+url.PathEscape(id)), nil, nil); err != nil {
		return fmt.Errorf("delete d1 database: %w", err)
	}
	return nil
}

// Raw runs sql (one or more statements; params bind to a single one) and
// returns one result per statement, as columns and rows.
func (d *D1) Raw(ctx context.Context, id, sql string, params ...any) ([]D1RawResult, error) {
	body := map[string]any{"sql": sql}
	if len(params) > 0 {
		body["params"] = params
	}
	var out []D1RawResult
	if _, err := d.c.Do(ctx, http.MethodPost, d.path("/"+url.PathEscape(id)+"/raw"), body, &out); err != nil {
		return nil, fmt.Errorf("d1 query: %w", err)
	}
	return out, nil
}

// Resolve turns a database id or name into its id (an id match wins).
func (d *D1) Resolve(ctx context.Context, db string) (string, error) {
	all, err := d.List(ctx)
	if err != nil {
		return "", err
	}
	for _, x := range all {
		if x.UUID == db {
			return x.UUID, nil
		}
	}
	for _, x := range all {
		if x.Name == db {
			return x.UUID, nil
		}
	}
	return "", fmt.Errorf("d1 database %q: no database has this id or name", db)
}
