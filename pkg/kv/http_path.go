package kv

import (
	"fmt"
	"net/url"
	"strings"
)

// kvKeySegments is the number of path segments before a key:
// client/v4/accounts/{a}/storage/kv/namespaces/{ns}/values.
const kvKeySegments = 9

// kvKeyFromPath returns the key in an escaped request path
// (r.URL.EscapedPath()) of a values/ or metadata/ route: everything after
// the ninth segment, percent-decoded once, so "a/b" and "a%2Fb" are the
// same key while "%252F" stays "%2F". The key must pass ValidateKey;
// errors wrap ErrInvalidKey.
func kvKeyFromPath(escaped string) (string, error) {
	raw, ok := afterSegments(strings.TrimPrefix(escaped, "/"), kvKeySegments)
	if !ok {
		return "", fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	if len(raw) > 3*MaxKeyBytes { // every byte escaped: still too long
		return "", fmt.Errorf("%w: longer than %d bytes", ErrInvalidKey, MaxKeyBytes)
	}
	key, err := url.PathUnescape(raw)
	if err != nil {
		return "", fmt.Errorf("%w: bad percent-encoding", ErrInvalidKey)
	}
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	return key, nil
}

// afterSegments returns what follows the first n "/"-separated segments of
// p (without the separating slash), and false when p has no more than n
// segments. It is strings.SplitN(p, "/", n+1)[n] without the slice.
func afterSegments(p string, n int) (string, bool) {
	for i := 0; i < n; i++ {
		j := strings.IndexByte(p, '/')
		if j < 0 {
			return "", false
		}
		p = p[j+1:]
	}
	return p, true
}
