package api

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/edgeplane/edgeplane/pkg/authz"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/wire"
)

// registerTokens adds token management. Tokens belong to an account: a
// token manager (API Tokens Read/Write) sees and changes the tokens of its
// own account; a cluster admin those of every account.
func (s *Server) registerTokens() {
	s.handle("GET /client/v4/user/tokens", serviceIdentity, true, s.listTokens)
	s.handleWrite("POST /client/v4/user/tokens", serviceIdentity, s.createToken)
	s.handle("GET /client/v4/user/tokens/{token_id}", serviceIdentity, true, s.getToken)
	s.handleWrite("DELETE /client/v4/user/tokens/{token_id}", serviceIdentity, s.revokeToken)
	s.handleWrite("PUT /client/v4/user/tokens/{token_id}/value", serviceIdentity, s.rollToken)
}

// tokenStatus is Cloudflare's status of t at now.
func tokenStatus(t catalog.Token, now time.Time) string {
	if t.ExpiresOn != nil && !now.Before(*t.ExpiresOn) {
		return string(authz.StatusExpired)
	}
	return string(authz.StatusActive)
}

// tokenView is t as the API shows it, without value or hash.
func tokenView(t catalog.Token, now time.Time) wire.Token {
	v := wire.Token{
		ID: t.ID, Name: t.Name, Status: tokenStatus(t, now), IssuedOn: t.CreatedAt.UTC().Format(time.RFC3339),
		NotBefore: formatTime(t.NotBefore), ExpiresOn: formatTime(t.ExpiresOn),
		Policies: t.Policies, Condition: t.Condition, AccountID: t.AccountID,
	}
	if v.Policies == nil {
		v.Policies = []authz.Policy{}
	}
	if !t.ModifiedAt.IsZero() {
		v.ModifiedOn = t.ModifiedAt.UTC().Format(time.RFC3339)
	} else {
		v.ModifiedOn = v.IssuedOn
	}
	return v
}

// visibleTokens returns the tokens r's caller may manage, by id: every
// token for a cluster admin, else those of the caller's account.
func (s *Server) visibleTokens(r *http.Request) []catalog.Token {
	admin := s.clusterAdmin(r)
	c := callerFrom(r)
	var out []catalog.Token
	for _, t := range s.identity.Tokens() {
		if admin || (c != nil && c.tok.AccountID != "" && t.AccountID == c.tok.AccountID) {
			out = append(out, t)
		}
	}
	slices.SortStableFunc(out, func(a, b catalog.Token) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// visibleToken returns token id if r's caller may manage it.
func (s *Server) visibleToken(r *http.Request, id string) (catalog.Token, bool) {
	for _, t := range s.visibleTokens(r) {
		if t.ID == id {
			return t, true
		}
	}
	return catalog.Token{}, false
}

// listTokens answers one page of the tokens the caller manages.
func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	page, perPage, err := ParsePage(r)
	if err != nil {
		WriteFailure(w, r, err)
		return
	}
	now := time.Now()
	var views []wire.Token
	for _, t := range s.visibleTokens(r) {
		views = append(views, tokenView(t, now))
	}
	items, info := Paginate(views, page, perPage)
	WriteResult(w, http.StatusOK, items, info)
}

// getToken answers one token, without its value.
func (s *Server) getToken(w http.ResponseWriter, r *http.Request) {
	t, ok := s.visibleToken(r, r.PathValue("token_id"))
	if !ok {
		writeNoObject(w, r)
		return
	}
	WriteResult(w, http.StatusOK, tokenView(t, time.Now()), nil)
}

// createToken creates a scoped token from Cloudflare's body and answers it
// with its value, shown once. The body is validated strictly (400 names
// the field); the token belongs to the one account its policies name (or
// the caller's when they name none); a caller that is not a cluster admin
// may only create tokens of its own account granting no more than it holds.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		WriteFailure(w, r, err)
		return
	}
	tok, err := authz.DecodeToken(body)
	if err != nil {
		var ve *authz.ValidationError
		if errors.As(err, &ve) {
			code := CodeBadRequest
			if ve.Field == "" && (strings.HasPrefix(ve.Message, "malformed") || strings.HasPrefix(ve.Message, "unexpected data")) {
				code = CodeMalformedJSON
			}
			WriteFailure(w, r, BadRequest(code, "%s", ve.Error()))
			return
		}
		WriteFailure(w, r, BadRequest(CodeBadRequest, "%v", err))
		return
	}
	c := callerFrom(r)
	account, err := s.tokenAccount(tok, c)
	if err != nil {
		WriteFailure(w, r, err)
		return
	}
	now := time.Now()
	if !s.clusterAdmin(r) {
		if c == nil || c.ev == nil || account != c.tok.AccountID {
			WriteFailure(w, r, forbidden("a token may only create tokens of its own account"))
			return
		}
		if err := c.ev.CanGrant(tok, clientIP(r), now); err != nil {
			WriteFailure(w, r, forbidden("the new token would grant more than the creating token holds: "+err.Error()))
			return
		}
	}
	stored, secret, err := s.identity.CreateToken(r.Context(), catalog.Token{
		Name: strings.TrimSpace(tok.Name), AccountID: account, Policies: tok.Policies,
		NotBefore: tok.NotBefore, ExpiresOn: tok.ExpiresOn, Condition: tok.Condition,
	})
	if err != nil {
		WriteFailure(w, r, fmt.Errorf("create token: %w", err))
		return
	}
	v := tokenView(stored, now)
	v.Value = secret
	WriteResult(w, http.StatusOK, v, nil)
}

// tokenAccount is the account a new token belongs to: the one account its
// policies name, or the creator's when they name none (only wildcards).
func (s *Server) tokenAccount(tok *authz.Token, c *caller) (string, error) {
	prefix := authz.AccountResource("")
	named := map[string]string{} // account id -> field naming it
	for i, p := range tok.Policies {
		for key := range p.Resources {
			id, ok := strings.CutPrefix(key, prefix)
			if !ok || id == "*" {
				continue
			}
			named[id] = fmt.Sprintf("policies[%d].resources[%q]", i, key)
		}
	}
	switch len(named) {
	case 0:
		if c == nil || c.tok.AccountID == "" {
			return "", BadRequest(CodeBadRequest, "policies: name the account the token belongs to (%s<id>)", prefix)
		}
		return c.tok.AccountID, nil
	case 1:
		for id, field := range named {
			if !s.identity.HasAccount(id) {
				return "", BadRequest(CodeBadRequest, "%s: no account %s", field, id)
			}
			return id, nil
		}
	}
	ids := slices.Sorted(maps.Keys(named))
	return "", BadRequest(CodeBadRequest, "policies: a token belongs to one account, these name %d: %s",
		len(ids), strings.Join(ids, ", "))
}

// forbidden is a 403 with Cloudflare's authentication error code.
func forbidden(msg string) *HTTPError {
	return &HTTPError{Status: http.StatusForbidden, Code: CodeAuthentication, Message: "Authentication error: " + msg}
}

// revokeToken deletes a token; 404 when the caller manages no such token.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("token_id")
	if _, ok := s.visibleToken(r, id); !ok {
		writeNoObject(w, r)
		return
	}
	if err := s.identity.RevokeToken(r.Context(), id); err != nil {
		if status, _, _ := classify(err); status == http.StatusNotFound {
			writeNoObject(w, r)
			return
		}
		WriteFailure(w, r, fmt.Errorf("revoke token: %w", err))
		return
	}
	WriteResult(w, http.StatusOK, deletedObject{ID: id}, nil)
}

// rollToken gives a token a new value (Cloudflare's "Roll Token") and
// answers it as the result; the old value stops working on every node as
// the catalog replicates. Rolling one's own admin token is how the
// bootstrap admin token is rotated.
func (s *Server) rollToken(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("token_id")
	if _, ok := s.visibleToken(r, id); !ok {
		writeNoObject(w, r)
		return
	}
	secret, err := s.identity.RollToken(r.Context(), id)
	if err != nil {
		if status, _, _ := classify(err); status == http.StatusNotFound {
			writeNoObject(w, r)
			return
		}
		WriteFailure(w, r, fmt.Errorf("roll token: %w", err))
		return
	}
	WriteResult(w, http.StatusOK, secret, nil)
}
