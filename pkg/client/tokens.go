package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/edgeplane/edgeplane/pkg/authz"
	"github.com/edgeplane/edgeplane/pkg/wire"
)

// PermissionGroup is one element of GET /client/v4/user/tokens/permission_groups.
type PermissionGroup struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Scopes      []string `json:"scopes"`
	Permissions []string `json:"permissions"`
}

// TokenSpec is what NewTokenBody builds a Cloudflare token body from.
type TokenSpec struct {
	// Name of the token.
	Name string
	// Account is the account the account-scoped groups apply to; "*" means
	// every account (cluster admins only).
	Account string
	// Groups are permission group names (authz.PermissionGroups), e.g.
	// "Workers KV Storage Read". Account groups apply to Account, API
	// Tokens groups to the user, cluster groups to the cluster.
	Groups []string
	// NotBefore and ExpiresOn bound the token's validity; zero: unbounded.
	NotBefore, ExpiresOn time.Time
	// AllowIPs, DenyIPs are condition.request_ip in and not_in.
	AllowIPs, DenyIPs []string
}

// NewTokenBody builds the Cloudflare body of POST /client/v4/user/tokens
// from spec: one allow policy per resource scope.
func NewTokenBody(spec TokenSpec) (*authz.Token, error) {
	if len(spec.Groups) == 0 {
		return nil, fmt.Errorf("token: at least one permission group is required")
	}
	byScope := map[authz.Scope][]authz.GroupRef{}
	var order []authz.Scope
	for _, name := range spec.Groups {
		g, ok := authz.GroupByName(name)
		if !ok {
			g, ok = authz.GroupByID(name)
		}
		if !ok {
			return nil, fmt.Errorf("token: unknown permission group %q (see edgectl token permission-groups)", name)
		}
		if _, seen := byScope[g.Scope]; !seen {
			order = append(order, g.Scope)
		}
		byScope[g.Scope] = append(byScope[g.Scope], authz.GroupRef{ID: g.ID, Name: g.Name})
	}
	t := &authz.Token{Name: spec.Name}
	for _, scope := range order {
		var res string
		switch scope {
		case authz.ScopeAccount:
			if spec.Account == "" {
				return nil, fmt.Errorf("token: account permission groups need an account")
			}
			res = authz.AccountResource(spec.Account)
		case authz.ScopeUser:
			res = authz.UserResource("*")
		default:
			res = authz.ClusterResource
		}
		t.Policies = append(t.Policies, authz.Policy{Effect: authz.Allow, Resources: map[string]string{res: "*"},
			PermissionGroups: byScope[scope]})
	}
	if !spec.NotBefore.IsZero() {
		nb := spec.NotBefore.UTC().Truncate(time.Second)
		t.NotBefore = &nb
	}
	if !spec.ExpiresOn.IsZero() {
		exp := spec.ExpiresOn.UTC().Truncate(time.Second)
		t.ExpiresOn = &exp
	}
	if len(spec.AllowIPs) > 0 || len(spec.DenyIPs) > 0 {
		t.Condition = &authz.Condition{RequestIP: &authz.IPCondition{In: spec.AllowIPs, NotIn: spec.DenyIPs}}
	}
	if err := authz.Validate(t); err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	return t, nil
}

// CreateToken creates a token from a Cloudflare body; the result's Value
// is the secret, shown only this once.
func (c *Client) CreateToken(ctx context.Context, body *authz.Token) (wire.Token, error) {
	var out wire.Token
	if _, err := c.Do(ctx, http.MethodPost, "/client/v4/user/tokens", body, &out); err != nil {
		return wire.Token{}, fmt.Errorf("create token: %w", err)
	}
	return out, nil
}

// ListTokens lists every token the caller manages.
func (c *Client) ListTokens(ctx context.Context) ([]wire.Token, error) {
	return listAll[wire.Token](ctx, c, "tokens", "/client/v4/user/tokens", nil, 50)
}

// GetToken returns one token, without its value.
func (c *Client) GetToken(ctx context.Context, id string) (wire.Token, error) {
	var out wire.Token
	if _, err := c.Do(ctx, http.MethodGet, "/client/v4/user/tokens/"+url.PathEscape(id), nil, &out); err != nil {
		return wire.Token{}, fmt.Errorf("get token %s: %w", id, err)
	}
	return out, nil
}

// RevokeToken deletes a token; it is refused by every node once the
// catalog has replicated.
func (c *Client) RevokeToken(ctx context.Context, id string) error {
	if _, err := c.Do(ctx, http.MethodDelete, "/client/v4/user/tokens/"+url.PathEscape(id), nil, nil); err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	return nil
}

// RollToken gives a token a new value and returns it; the old value stops
// working.
func (c *Client) RollToken(ctx context.Context, id string) (string, error) {
	var out string
	if _, err := c.Do(ctx, http.MethodPut, "/client/v4/user/tokens/"+url.PathEscape(id)+"/value", struct{}{}, &out); err != nil {
		return "", fmt.Errorf("roll token %s: %w", id, err)
	}
	return out, nil
}

// VerifyToken answers for the client's own token.
func (c *Client) VerifyToken(ctx context.Context) (wire.TokenVerify, error) {
	var out wire.TokenVerify
	if _, err := c.Do(ctx, http.MethodGet, "/client/v4/user/tokens/verify", nil, &out); err != nil {
		return wire.TokenVerify{}, fmt.Errorf("verify token: %w", err)
	}
	return out, nil
}

// PermissionGroups lists the permission groups a token may name.
func (c *Client) PermissionGroups(ctx context.Context) ([]PermissionGroup, error) {
	var out []PermissionGroup
	if _, err := c.Do(ctx, http.MethodGet, "/client/v4/user/tokens/permission_groups", nil, &out); err != nil {
		return nil, fmt.Errorf("permission groups: %w", err)
	}
	return out, nil
}
