package api

import (
	"errors"
	"net/http"

	"github.com/edgeplane/edgeplane/pkg/kv"
)

// KV envelope codes. 10009 and 10013 are Cloudflare's; the limit codes are
// Edgeplane's choices inside the range wrangler treats as KV limit errors,
// since Cloudflare's exact ones are not documented.
const (
	// CodeKVKeyNotFound is a key that is missing, deleted or expired (404).
	CodeKVKeyNotFound = 10009
	// CodeKVNamespaceNotFound is a namespace id the account does not own (404).
	CodeKVNamespaceNotFound = 10013
	// CodeKVNamespaceTitleExists is a create or rename to a title the
	// account already uses (400, as on Cloudflare).
	CodeKVNamespaceTitleExists = 10014
	// CodeKVInvalidKey is a key outside 1..512 bytes, "." or "..".
	CodeKVInvalidKey = 10019
	// CodeKVInvalidMetadata is metadata that is not JSON or over 1024 bytes.
	CodeKVInvalidMetadata = 10022
	// CodeKVInvalidExpiration is an expiration under 60 s ahead, or not a number.
	CodeKVInvalidExpiration = 10023
	// CodeKVValueTooLarge is a value over 25 MiB (413).
	CodeKVValueTooLarge = 10024
	// CodeKVTooManyKeys is a bulk request over its size limit.
	CodeKVTooManyKeys = 10030
	// CodeKVInvalidListArgument is a bad list limit or cursor.
	CodeKVInvalidListArgument = 10031
)

// kvFailure answers err from the KV service or the catalog: KV's sentinel
// errors become 4xx envelopes with KV codes, everything else goes through
// WriteFailure.
func kvFailure(w http.ResponseWriter, r *http.Request, err error) {
	WriteFailure(w, r, kvHTTPError(err))
}

// kvHTTPError maps KV sentinels to *HTTPError; other errors pass through.
func kvHTTPError(err error) error {
	var he *HTTPError
	if errors.As(err, &he) {
		return err
	}
	status, code := http.StatusBadRequest, 0
	switch {
	case errors.Is(err, kv.ErrKeyNotFound):
		status, code = http.StatusNotFound, CodeKVKeyNotFound
	case errors.Is(err, kv.ErrNamespaceNotFound):
		status, code = http.StatusNotFound, CodeKVNamespaceNotFound
	case errors.Is(err, kv.ErrInvalidKey):
		code = CodeKVInvalidKey
	case errors.Is(err, kv.ErrInvalidMetadata):
		code = CodeKVInvalidMetadata
	case errors.Is(err, kv.ErrInvalidExpiration):
		code = CodeKVInvalidExpiration
	case errors.Is(err, kv.ErrValueTooLarge):
		status, code = http.StatusRequestEntityTooLarge, CodeKVValueTooLarge
	case errors.Is(err, kv.ErrTooManyKeys):
		code = CodeKVTooManyKeys
	case errors.Is(err, kv.ErrInvalidCursor), errors.Is(err, kv.ErrInvalidLimit):
		code = CodeKVInvalidListArgument
	default:
		return err
	}
	sentinel := ErrBadRequest
	switch status {
	case http.StatusNotFound:
		sentinel = ErrNotFound
	case http.StatusRequestEntityTooLarge:
		sentinel = ErrBodyTooLarge
	}
	return &HTTPError{Status: status, Code: code, Message: err.Error(), Err: errors.Join(sentinel, err)}
}

// kvKeyNotFound is the envelope of a missing key, worded as Cloudflare does.
func kvKeyNotFound() *HTTPError {
	return &HTTPError{Status: http.StatusNotFound, Code: CodeKVKeyNotFound, Message: "get: 'key not found'",
		Err: errors.Join(ErrNotFound, kv.ErrKeyNotFound)}
}

// kvNamespaceNotFound is the envelope of an unknown namespace id.
func kvNamespaceNotFound() *HTTPError {
	return &HTTPError{Status: http.StatusNotFound, Code: CodeKVNamespaceNotFound, Message: "namespace not found",
		Err: errors.Join(ErrNotFound, kv.ErrNamespaceNotFound)}
}
