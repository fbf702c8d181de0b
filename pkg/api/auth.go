package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// maxTokenLen bounds a bearer token; longer ones are refused unseen.
const maxTokenLen = 512

// authenticate returns who r's bearer token belongs to: AdminPrincipal for
// the node's admin token, else the catalog token id. ok is false when the
// header is missing, malformed or names no token.
func (s *Server) authenticate(r *http.Request) (principal string, ok bool) {
	token, ok := bearerToken(r)
	if !ok {
		return "", false
	}
	if s.adminHash != nil {
		sum := sha256.Sum256([]byte(token))
		// Comparing fixed-size hashes keeps the time independent of both
		// the content and the length of the admin token.
		if subtle.ConstantTimeCompare(sum[:], s.adminHash) == 1 {
			return AdminPrincipal, true
		}
	}
	id, ok := s.identity.VerifyToken(token)
	if !ok || id == "" {
		return "", false
	}
	return id, true
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

// writeUnauthorized answers 401 with the Cloudflare authentication error.
func writeUnauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="edgeplane"`)
	WriteError(w, http.StatusUnauthorized, CodeAuthentication, "Authentication error")
}
