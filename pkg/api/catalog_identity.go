package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/edgeplane/edgeplane/pkg/authz"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/wire"
)

// BootstrapTokenID is the id of the cluster's first admin token, registered
// when the catalog is initialized.
const BootstrapTokenID = "bootstrap-admin"

// CatalogIdentity implements Identity over a replicated catalog: reads
// from Catalog, changes through Apply (a Raft proposal on a node, a direct
// apply in tests).
type CatalogIdentity struct {
	Catalog *catalog.Catalog
	// Apply commits one operation and returns its result, a refused
	// operation as an error wrapping catalog's sentinels.
	Apply func(ctx context.Context, op catalog.Op) (catalog.Result, error)
}

var _ Identity = (*CatalogIdentity)(nil)

// randomHex returns n random bytes as hex.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)
}

// Initialized reports whether the catalog has its default account.
func (c *CatalogIdentity) Initialized() bool {
	_, ok := c.Catalog.DefaultAccount()
	return ok
}

// CatalogVersion is the catalog's version.
func (c *CatalogIdentity) CatalogVersion() uint64 { return c.Catalog.Version() }

// LookupToken finds the token whose value is token. A bootstrap admin
// token stored before tokens were scoped (no policies) is read as what it
// is now: the cluster admin token of the default account.
func (c *CatalogIdentity) LookupToken(token string) (catalog.Token, bool) {
	t, ok := c.Catalog.TokenByHash(catalog.HashToken(token))
	if !ok {
		return t, false
	}
	return c.upgrade(t), true
}

func (c *CatalogIdentity) upgrade(t catalog.Token) catalog.Token {
	if t.ID == BootstrapTokenID && len(t.Policies) == 0 {
		t.Policies = authz.AdminPolicies()
		if a, ok := c.Catalog.DefaultAccount(); ok && t.AccountID == "" {
			t.AccountID = a.ID
		}
	}
	return t
}

// Tokens lists every token.
func (c *CatalogIdentity) Tokens() []catalog.Token {
	tokens := c.Catalog.Tokens()
	for i := range tokens {
		tokens[i] = c.upgrade(tokens[i])
	}
	return tokens
}

// CreateToken stores t with a new id and secret.
func (c *CatalogIdentity) CreateToken(ctx context.Context, t catalog.Token) (catalog.Token, string, error) {
	secret := randomHex(20)
	t.ID, t.Hash = randomHex(16), catalog.HashToken(secret)
	if _, err := c.Apply(ctx, catalog.Op{Type: catalog.OpCreateToken, Token: &t}); err != nil {
		return catalog.Token{}, "", fmt.Errorf("create token %q: %w", t.Name, err)
	}
	// Apply returns once this node applied the op, so the catalog has it
	// with the timestamp every replica agreed on.
	if stored, ok := c.Catalog.Token(t.ID); ok {
		t = stored
	}
	return t, secret, nil
}

// RevokeToken deletes token id.
func (c *CatalogIdentity) RevokeToken(ctx context.Context, id string) error {
	if _, err := c.Apply(ctx, catalog.Op{Type: catalog.OpRevokeToken, Token: &catalog.Token{ID: id}}); err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	return nil
}

// RollToken gives token id a new secret.
func (c *CatalogIdentity) RollToken(ctx context.Context, id string) (string, error) {
	secret := randomHex(20)
	op := catalog.Op{Type: catalog.OpRollToken, Token: &catalog.Token{ID: id, Hash: catalog.HashToken(secret)}}
	if _, err := c.Apply(ctx, op); err != nil {
		return "", fmt.Errorf("roll token %s: %w", id, err)
	}
	return secret, nil
}

func accountToWire(a catalog.Account) wire.Account {
	return wire.Account{ID: a.ID, Name: a.Name, Type: "standard", Settings: map[string]any{},
		CreatedOn: a.CreatedAt.UTC().Format(time.RFC3339)}
}

// Accounts lists every account.
func (c *CatalogIdentity) Accounts() []wire.Account {
	var out []wire.Account
	for _, a := range c.Catalog.Accounts() {
		out = append(out, accountToWire(a))
	}
	return out
}

// HasAccount reports whether the catalog holds account id.
func (c *CatalogIdentity) HasAccount(id string) bool {
	_, ok := c.Catalog.Account(id)
	return ok
}

// CreateAccount creates an account with a new 32-hex id.
func (c *CatalogIdentity) CreateAccount(ctx context.Context, name string) (wire.Account, error) {
	a := catalog.Account{ID: randomHex(16), Name: name}
	if _, err := c.Apply(ctx, catalog.Op{Type: catalog.OpCreateAccount, Account: &a}); err != nil {
		return wire.Account{}, fmt.Errorf("create account %q: %w", name, err)
	}
	if stored, ok := c.Catalog.Account(a.ID); ok {
		a = stored
	}
	return accountToWire(a), nil
}

// RenameAccount renames account id.
func (c *CatalogIdentity) RenameAccount(ctx context.Context, id, name string) (wire.Account, error) {
	res, err := c.Apply(ctx, catalog.Op{Type: catalog.OpUpdateAccount, Account: &catalog.Account{ID: id, Name: name}})
	if err != nil {
		return wire.Account{}, fmt.Errorf("rename account %s: %w", id, err)
	}
	if res.Account == nil {
		return wire.Account{}, fmt.Errorf("rename account %s: no account in the result", id)
	}
	return accountToWire(*res.Account), nil
}

// DeleteAccount deletes an empty account.
func (c *CatalogIdentity) DeleteAccount(ctx context.Context, id string) error {
	if _, err := c.Apply(ctx, catalog.Op{Type: catalog.OpDeleteAccount, Account: &catalog.Account{ID: id}}); err != nil {
		return fmt.Errorf("delete account %s: %w", id, err)
	}
	return nil
}
