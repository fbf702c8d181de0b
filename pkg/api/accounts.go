package api

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/wire"
)

// maxAccountNameLen bounds an account name, in bytes (the catalog's bound).
const maxAccountNameLen = 512

// accountBody is the body of POST and PATCH /client/v4/accounts[/{id}].
type accountBody struct {
	Name string `json:"name"`
}

// registerAccounts adds the account routes: accounts are the tenants.
// Creating and deleting one is for cluster admins; listing shows the
// accounts the token reaches.
func (s *Server) registerAccounts() {
	s.handle("GET /client/v4/accounts", serviceIdentity, true, s.listAccounts)
	s.handleWrite("POST /client/v4/accounts", serviceIdentity, s.createAccount)
	s.handle("GET /client/v4/accounts/{account_id}", serviceIdentity, true, s.getAccount)
	s.handleWrite("PATCH /client/v4/accounts/{account_id}", serviceIdentity, s.renameAccount)
	s.handleWrite("DELETE /client/v4/accounts/{account_id}", serviceIdentity, s.deleteAccount)
}

// accounts returns the catalog's accounts in a stable order, so pages do not
// shift between calls.
func (s *Server) accounts() []wire.Account {
	accounts := slices.Clone(s.identity.Accounts())
	slices.SortStableFunc(accounts, func(a, b wire.Account) int { return cmp.Compare(a.ID, b.ID) })
	return accounts
}

// visibleAccounts is accounts() filtered to those r's token sees.
func (s *Server) visibleAccounts(r *http.Request) []wire.Account {
	var out []wire.Account
	for _, a := range s.accounts() {
		if s.seesAccount(r, a.ID) {
			out = append(out, a)
		}
	}
	return out
}

// listAccounts answers one page of the accounts the token sees.
func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request) {
	page, perPage, err := ParsePage(r)
	if err != nil {
		WriteFailure(w, r, err)
		return
	}
	items, info := Paginate(s.visibleAccounts(r), page, perPage)
	WriteResult(w, http.StatusOK, items, info)
}

// findAccount returns account id, false when there is none.
func (s *Server) findAccount(id string) (wire.Account, bool) {
	for _, a := range s.identity.Accounts() {
		if a.ID == id {
			return a, true
		}
	}
	return wire.Account{}, false
}

// getAccount answers one account: 403 when the token does not reach it
// (whether or not it exists), 404 if the id names none.
func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("account_id")
	if !s.seesAccount(r, id) {
		writeForbidden(w, r, "token reaches nothing in account "+id)
		return
	}
	a, ok := s.findAccount(id)
	if !ok {
		writeNoObject(w, r)
		return
	}
	WriteResult(w, http.StatusOK, a, nil)
}

// accountName reads and checks the name of an account body.
func accountName(r *http.Request) (string, error) {
	var body accountBody
	if err := DecodeJSON(r, &body); err != nil {
		return "", err
	}
	name := strings.TrimSpace(body.Name)
	if name == "" || len(name) > maxAccountNameLen || !utf8.ValidString(name) {
		return "", BadRequest(CodeBadRequest, "name: required, at most %d bytes of UTF-8", maxAccountNameLen)
	}
	return name, nil
}

// createAccount creates an account (cluster admins only, by route rule).
func (s *Server) createAccount(w http.ResponseWriter, r *http.Request) {
	name, err := accountName(r)
	if err != nil {
		WriteFailure(w, r, err)
		return
	}
	a, err := s.identity.CreateAccount(r.Context(), name)
	if err != nil {
		WriteFailure(w, r, fmt.Errorf("create account: %w", err))
		return
	}
	WriteResult(w, http.StatusOK, a, nil)
}

// renameAccount renames an account (Account Settings Write on it).
func (s *Server) renameAccount(w http.ResponseWriter, r *http.Request) {
	name, err := accountName(r)
	if err != nil {
		WriteFailure(w, r, err)
		return
	}
	a, err := s.identity.RenameAccount(r.Context(), r.PathValue("account_id"), name)
	if err != nil {
		if errors.Is(err, catalog.ErrNotFound) {
			writeNoObject(w, r)
			return
		}
		WriteFailure(w, r, fmt.Errorf("rename account: %w", err))
		return
	}
	WriteResult(w, http.StatusOK, a, nil)
}

// deleteAccount deletes an empty account (cluster admins only): 409 while
// it holds resources or tokens.
func (s *Server) deleteAccount(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("account_id")
	err := s.identity.DeleteAccount(r.Context(), id)
	switch {
	case err == nil:
		WriteResult(w, http.StatusOK, deletedObject{ID: id}, nil)
	case errors.Is(err, catalog.ErrNotFound):
		writeNoObject(w, r)
	case errors.Is(err, catalog.ErrInUse):
		WriteFailure(w, r, &HTTPError{Status: http.StatusConflict, Code: CodeConflict,
			Message: "account cannot be deleted: " + strings.TrimSuffix(err.Error(), ": "+catalog.ErrInUse.Error()), Err: ErrConflict})
	default:
		WriteFailure(w, r, fmt.Errorf("delete account: %w", err))
	}
}

// deletedObject is the result of a DELETE: the id of what is gone.
type deletedObject struct {
	ID string `json:"id"`
}

// writeNoObject answers 404 for a path id that names nothing.
func writeNoObject(w http.ResponseWriter, r *http.Request) {
	WriteError(w, http.StatusNotFound, CodeInvalidIdentifier,
		fmt.Sprintf("Could not route to %s, perhaps your object identifier is invalid?", r.URL.Path))
}
