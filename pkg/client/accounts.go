package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

// CreateAccount creates an account (cluster admins only).
func (c *Client) CreateAccount(ctx context.Context, name string) (wire.Account, error) {
	var out wire.Account
	if _, err := c.Do(ctx, http.MethodPost, "/client/v4/accounts", map[string]string{"name": name}, &out); err != nil {
		return wire.Account{}, fmt.Errorf("create account: %w", err)
	}
	return out, nil
}

// ListAccounts lists every account the token reaches.
func (c *Client) ListAccounts(ctx context.Context) ([]wire.Account, error) {
	return listAll[wire.Account](ctx, c, "accounts", "/client/v4/accounts", nil, 50)
}

// GetAccount returns one account.
func (c *Client) GetAccount(ctx context.Context, id string) (wire.Account, error) {
	var out wire.Account
	if _, err := c.Do(ctx, http.MethodGet, "/client/v4/accounts/"+url.PathEscape(id), nil, &out); err != nil {
		return wire.Account{}, fmt.Errorf("get account %s: %w", id, err)
	}
	return out, nil
}

// RenameAccount renames an account.
func (c *Client) RenameAccount(ctx context.Context, id, name string) (wire.Account, error) {
	var out wire.Account
	if _, err := c.Do(ctx, http.MethodPatch, "/client/v4/accounts/"+url.PathEscape(id), map[string]string{"name": name}, &out); err != nil {
		return wire.Account{}, fmt.Errorf("rename account %s: %w", id, err)
	}
	return out, nil
}

// DeleteAccount deletes an account that holds no resources and no tokens.
func (c *Client) DeleteAccount(ctx context.Context, id string) error {
	if _, err := c.Do(ctx, http.MethodDelete, "/client/v4/accounts/"+url.PathEscape(id), nil, nil); err != nil {
		return fmt.Errorf("delete account %s: %w", id, err)
	}
	return nil
}
