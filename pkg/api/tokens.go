package api

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

// maxTokenNameLen bounds a token name, in characters.
const maxTokenNameLen = 120

// createTokenRequest is the body of POST /client/v4/user/tokens. Cloudflare
// clients also send policies and validity fields; they are accepted and
// ignored, since Edgeplane's tokens are not scoped yet.
type createTokenRequest struct {
	Name      string          `json:"name"`
	Policies  json.RawMessage `json:"policies,omitempty"`
	NotBefore json.RawMessage `json:"not_before,omitempty"`
	ExpiresOn json.RawMessage `json:"expires_on,omitempty"`
	Condition json.RawMessage `json:"condition,omitempty"`
}

// deletedToken is the result of DELETE /client/v4/user/tokens/{token_id}.
type deletedToken struct {
	ID string `json:"id"`
}

// registerTokens adds token management.
func (s *Server) registerTokens() {
	s.handle("GET /client/v4/user/tokens", serviceIdentity, true, s.listTokens)
	s.handleWrite("POST /client/v4/user/tokens", serviceIdentity, s.createToken)
	s.handle("GET /client/v4/user/tokens/{token_id}", serviceIdentity, true, s.getToken)
	s.handleWrite("DELETE /client/v4/user/tokens/{token_id}", serviceIdentity, s.revokeToken)
}

// tokens returns the catalog's tokens in a stable order, values stripped.
func (s *Server) tokens() []wire.Token {
	tokens := slices.Clone(s.identity.Tokens())
	for i := range tokens {
		tokens[i].Value = ""
	}
	slices.SortStableFunc(tokens, func(a, b wire.Token) int { return cmp.Compare(a.ID, b.ID) })
	return tokens
}

// listTokens answers one page of tokens.
func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	page, perPage, err := ParsePage(r)
	if err != nil {
		WriteFailure(w, r, err)
		return
	}
	items, info := Paginate(s.tokens(), page, perPage)
	WriteResult(w, http.StatusOK, items, info)
}

// getToken answers one token, without its value.
func (s *Server) getToken(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("token_id")
	for _, t := range s.tokens() {
		if t.ID == id {
			WriteResult(w, http.StatusOK, t, nil)
			return
		}
	}
	writeNoToken(w, r)
}

// createToken creates a token and answers it with its value, shown once.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	var req createTokenRequest
	if err := DecodeJSON(r, &req); err != nil {
		WriteFailure(w, r, err)
		return
	}
	name := strings.TrimSpace(req.Name)
	if name == "" || utf8.RuneCountInString(name) > maxTokenNameLen || !utf8.ValidString(name) {
		WriteFailure(w, r, BadRequest(CodeBadRequest, "name is required, at most %d characters", maxTokenNameLen))
		return
	}
	tok, err := s.identity.CreateToken(r.Context(), name)
	if err != nil {
		WriteFailure(w, r, fmt.Errorf("create token: %w", err))
		return
	}
	WriteResult(w, http.StatusOK, tok, nil)
}

// revokeToken deletes a token; 404 when there is no such token.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("token_id")
	if err := s.identity.RevokeToken(r.Context(), id); err != nil {
		if status, _, _ := classify(err); status == http.StatusNotFound {
			writeNoToken(w, r)
			return
		}
		WriteFailure(w, r, fmt.Errorf("revoke token: %w", err))
		return
	}
	WriteResult(w, http.StatusOK, deletedToken{ID: id}, nil)
}

// writeNoToken answers 404 for a token id that names no token.
func writeNoToken(w http.ResponseWriter, r *http.Request) {
	WriteError(w, http.StatusNotFound, CodeInvalidIdentifier,
		fmt.Sprintf("Could not route to %s, perhaps your object identifier is invalid?", r.URL.Path))
}
