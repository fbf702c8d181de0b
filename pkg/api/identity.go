package api

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"

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

// registerIdentity adds the identity calls that Cloudflare tools make
// (wrangler whoami, SDK account discovery) and token management.
func (s *Server) registerIdentity() {
	s.handle("GET /client/v4/user", serviceIdentity, true, s.user)
	s.handle("GET /client/v4/user/tokens/verify", serviceIdentity, true, s.verifyToken)
	s.handle("GET /client/v4/accounts", serviceIdentity, true, s.listAccounts)
	s.handle("GET /client/v4/accounts/{account_id}", serviceIdentity, true, s.getAccount)
	s.handle("GET /client/v4/memberships", serviceIdentity, true, s.listMemberships)
	s.registerTokens()
}

// user answers the synthesized operator user.
func (s *Server) user(w http.ResponseWriter, _ *http.Request) {
	WriteResult(w, http.StatusOK, wire.User{
		ID: UserID, Email: UserEmail, FirstName: "Edgeplane", LastName: "Admin", Username: "admin",
	}, nil)
}

// verifyToken answers which token authenticated the request.
func (s *Server) verifyToken(w http.ResponseWriter, r *http.Request) {
	WriteResult(w, http.StatusOK, wire.TokenVerify{ID: PrincipalFrom(r.Context()), Status: "active"}, nil)
}

// accounts returns the catalog's accounts in a stable order, so pages do not
// shift between calls.
func (s *Server) accounts() []wire.Account {
	accounts := slices.Clone(s.identity.Accounts())
	slices.SortStableFunc(accounts, func(a, b wire.Account) int { return cmp.Compare(a.ID, b.ID) })
	return accounts
}

// listAccounts answers one page of accounts.
func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request) {
	page, perPage, err := ParsePage(r)
	if err != nil {
		WriteFailure(w, r, err)
		return
	}
	items, info := Paginate(s.accounts(), page, perPage)
	WriteResult(w, http.StatusOK, items, info)
}

// getAccount answers one account, 404 if the id names none.
func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("account_id")
	for _, a := range s.identity.Accounts() {
		if a.ID == id {
			WriteResult(w, http.StatusOK, a, nil)
			return
		}
	}
	WriteError(w, http.StatusNotFound, CodeInvalidIdentifier,
		fmt.Sprintf("Could not route to %s, perhaps your object identifier is invalid?", r.URL.Path))
}

// listMemberships answers one page of memberships, one per account, each
// accepted with the Administrator role (Edgeplane has no per-account roles).
func (s *Server) listMemberships(w http.ResponseWriter, r *http.Request) {
	page, perPage, err := ParsePage(r)
	if err != nil {
		WriteFailure(w, r, err)
		return
	}
	accounts := s.accounts()
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
