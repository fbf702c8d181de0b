package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/edgeplane/edgeplane/pkg/catalog"
)

// maxTokenLen bounds a bearer token; longer ones are refused unseen.
const maxTokenLen = 512

// authenticate returns who r's bearer token belongs to: a catalog token
// with its compiled policies, or, only while the catalog is not yet
// initialized (a fresh node), the node's local admin token, which then may
// read cluster status and nothing else. ok is false when the header is
// missing, malformed or names no token.
func (s *Server) authenticate(r *http.Request) (*caller, bool) {
	token, ok := bearerToken(r)
	if !ok {
		return nil, false
	}
	// Read the version before the token: the evaluator cached under it is
	// then never older than the token it was compiled from.
	version := s.identity.CatalogVersion()
	if t, ok := s.identity.LookupToken(token); ok && t.ID != "" {
		return &caller{principal: t.ID, tok: t, ev: s.authz.evaluator(t, version)}, true
	}
	if s.adminHash != nil && !s.identity.Initialized() {
		sum := sha256.Sum256([]byte(token))
		// Comparing fixed-size hashes keeps the time independent of both
		// the content and the length of the admin token.
		if subtle.ConstantTimeCompare(sum[:], s.adminHash) == 1 {
			return &caller{principal: AdminPrincipal, local: true, tok: catalog.Token{ID: AdminPrincipal}}, true
		}
	}
	return nil, false
}

// bearerToken extracts the token of an "Authorization: Bearer <token>" header.
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	if token == "" || len(token) > maxTokenLen {
		return "", false
	}
	return token, true
}

// catalogBehind answers 503 with Retry-After and returns true when this
// node's catalog is known to be behind (Config.CatalogBehind): a token it
// cannot accept now may be one it has not loaded yet.
func (s *Server) catalogBehind(w http.ResponseWriter, r *http.Request) bool {
	err := s.cfg.CatalogBehind()
	if err == nil {
		return false
	}
	WriteFailure(w, r, &HTTPError{Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
		Message: "this node is still loading the cluster catalog after a restart; retry", Err: err})
	return true
}

// writeUnauthorized answers 401 with the Cloudflare authentication error.
func writeUnauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="edgeplane"`)
	WriteError(w, http.StatusUnauthorized, CodeAuthentication, "Authentication error")
}
