package api

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
)

// maxRequestIDLen bounds a request id taken from the client.
const maxRequestIDLen = 128

// Header names the middleware reads and sets.
const (
	// HeaderRequestID carries the request id both ways.
	HeaderRequestID = "X-Request-Id"
	// HeaderCFRay is Cloudflare's request id, accepted when X-Request-Id is absent.
	HeaderCFRay = "Cf-Ray"
	// HeaderNode names the node that answered.
	HeaderNode = "X-Edge-Node"
)

// requestID returns the request id for r: the client's X-Request-Id or
// cf-ray when sane, else a fresh random one.
func requestID(r *http.Request) string {
	for _, h := range [...]string{HeaderRequestID, HeaderCFRay} {
		if v := r.Header.Get(h); validHeaderToken(v) {
			return v
		}
	}
	return newRequestID()
}

// validHeaderToken reports whether s is 1-128 printable ASCII characters
// without spaces: safe to echo in a header and to put in a log line.
func validHeaderToken(s string) bool {
	if len(s) == 0 || len(s) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// newRequestID returns 16 random bytes in hex.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+).
	return hex.EncodeToString(b[:])
}
