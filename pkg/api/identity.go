package api

import (
	"context"
	"net/http"
	"time"

	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/wire"
)

// The synthesized user every token belongs to: Edgeplane has one operator
// identity per cluster, the same on every node.
const (
	// UserID is the id of GET /client/v4/user.
	UserID = "edgeplane-admin"
	// UserEmail is the email of GET /client/v4/user.
	UserEmail = "admin@edgeplane.local"
)

// Identity is the token/account side, backed by the replicated catalog.
type Identity interface {
	// Initialized reports whether the catalog has been initialized (its
	// default account and bootstrap admin token exist). Until then the
	// node's local admin token may read cluster status.
	Initialized() bool
	// CatalogVersion is the catalog's version: cached token evaluators
	// are dropped when it changes.
	CatalogVersion() uint64
	// LookupToken returns the catalog token whose value is token.
	LookupToken(token string) (catalog.Token, bool)
	// Tokens lists the tokens.
	Tokens() []catalog.Token
	// CreateToken stores t (its ID and Hash are chosen here) and returns
	// it as stored with its secret value, shown only once.
	CreateToken(ctx context.Context, t catalog.Token) (catalog.Token, string, error)
	// RevokeToken deletes a token. An error matching ErrNotFound or
	// catalog.ErrNotFound answers 404.
	RevokeToken(ctx context.Context, id string) error
	// RollToken gives token id a new secret value, returned once; the old
	// value stops working.
	RollToken(ctx context.Context, id string) (string, error)
	// Accounts lists the accounts.
	Accounts() []wire.Account
	// HasAccount reports whether id names an account: the per-request
	// check of service routes, cheaper than listing them.
	HasAccount(id string) bool
	// CreateAccount creates an account named name with a new id.
	CreateAccount(ctx context.Context, name string) (wire.Account, error)
	// RenameAccount renames an account.
	RenameAccount(ctx context.Context, id, name string) (wire.Account, error)
	// DeleteAccount deletes an account that holds no resources and no
	// tokens (else an error matching catalog.ErrInUse).
	DeleteAccount(ctx context.Context, id string) error
}

// registerIdentity adds the identity calls that Cloudflare tools make
// (wrangler whoami, SDK account discovery), accounts and token management.
func (s *Server) registerIdentity() {
	s.handle("GET /client/v4/user", serviceIdentity, true, s.user)
	s.handle("GET /client/v4/user/tokens/verify", serviceIdentity, true, s.verifyToken)
	s.handle("GET /client/v4/memberships", serviceIdentity, true, s.listMemberships)
	s.registerAccounts()
	s.registerTokens()
	s.registerPermissionGroups()
}

// user answers the synthesized operator user.
func (s *Server) user(w http.ResponseWriter, _ *http.Request) {
	WriteResult(w, http.StatusOK, wire.User{
		ID: UserID, Email: UserEmail, FirstName: "Edgeplane", LastName: "Admin", Username: "admin",
	}, nil)
}

// verifyToken answers for the token presented: its id, status and
// validity window.
func (s *Server) verifyToken(w http.ResponseWriter, r *http.Request) {
	c := callerFrom(r)
	v := wire.TokenVerify{ID: PrincipalFrom(r.Context()), Status: "active"}
	if c != nil && !c.local {
		v.Status = tokenStatus(c.tok, time.Now())
		v.NotBefore = formatTime(c.tok.NotBefore)
		v.ExpiresOn = formatTime(c.tok.ExpiresOn)
	}
	WriteResult(w, http.StatusOK, v, nil)
}

// listMemberships answers one page of memberships, one per account the
// token sees, each accepted with the Administrator role (Edgeplane has no
// per-account roles).
func (s *Server) listMemberships(w http.ResponseWriter, r *http.Request) {
	page, perPage, err := ParsePage(r)
	if err != nil {
		WriteFailure(w, r, err)
		return
	}
	accounts := s.visibleAccounts(r)
	memberships := make([]wire.Membership, 0, len(accounts))
	for _, a := range accounts {
		memberships = append(memberships, wire.Membership{
			ID:      a.ID,
			Status:  "accepted",
			Account: wire.AccountRef{ID: a.ID, Name: a.Name},
			Roles:   []string{"Administrator"},
		})
	}
	items, info := Paginate(memberships, page, perPage)
	WriteResult(w, http.StatusOK, items, info)
}

// formatTime renders an optional time as RFC 3339, "" when nil.
func formatTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
