package client

import (
	"context"
	"fmt"
	"github.com/edgeplane/edgeplane/pkg/wire"
	"net/http"
	"net/url"
)

// D1 is the D1 API of one account.
type D1 struct {
	c       *Client
	account string
}

// D1 returns the D1 API of account accountID (see AccountID).
func (c *Client) D1(accountID string) *D1 { return &D1{c: c, account: accountID} }

// D1Database is a D1 database as the API shows it.
type D1Database = wire.D1Database

// D1Meta is the meta object of one statement's result.
type D1Meta = wire.D1Meta

// D1RawResult is one statement's result from /raw: columns and rows.
type D1RawResult struct {
	Results wire.D1RawResults `json:"results"`
	Success bool              `json:"success"`
	Meta    D1Meta            `json:"meta"`
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
	return listAll[D1Database](ctx, d.c, "d1 databases", d.path(""), url.Values{"order": {"name"}}, 100)
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
