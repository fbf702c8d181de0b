package kv

import (
	"errors"
	"github.com/edgeplane/edgeplane/pkg/api"
	"net/http"
)

// kvFailure answers err from the KV service or the catalog: KV's sentinel
// errors become 4xx envelopes with KV codes, everything else goes through
// api.WriteFailure.
func kvFailure(w http.ResponseWriter, r *http.Request, err error) {
	api.WriteFailure(w, r, kvHTTPError(err))
}

// kvHTTPError maps KV sentinels to *api.HTTPError; other errors pass through.
func kvHTTPError(err error) error {
	var he *api.HTTPError
	if errors.As(err, &he) {
		return err
	}
	status, code := http.StatusBadRequest, 0
	switch {
	case errors.Is(err, ErrKeyNotFound):
		status, code = http.StatusNotFound, api.CodeKVKeyNotFound
	case errors.Is(err, ErrNamespaceNotFound):
		status, code = http.StatusNotFound, api.CodeKVNamespaceNotFound
	case errors.Is(err, ErrInvalidCursor), errors.Is(err, ErrInvalidLimit):
		code = api.CodeKVInvalidListArgument
	case errors.Is(err, ErrInvalidKey):
		code = api.CodeKVInvalidKey
	case errors.Is(err, ErrInvalidMetadata):
		code = api.CodeKVInvalidMetadata
	case errors.Is(err, ErrInvalidExpiration):
		code = api.CodeKVInvalidExpiration
	case errors.Is(err, ErrValueTooLarge):
		status, code = http.StatusRequestEntityTooLarge, api.CodeKVValueTooLarge
	case errors.Is(err, ErrStorageQuota):
		status, code = http.StatusRequestEntityTooLarge, api.CodeKVStorageQuota
	case errors.Is(err, ErrTooFewReplicas):
		status, code = http.StatusServiceUnavailable, api.CodeKVReplicas
	case errors.Is(err, ErrReplicasNotReached):
		status, code = http.StatusGatewayTimeout, api.CodeKVReplicas
	case errors.Is(err, ErrTooManyKeys):
		code = api.CodeKVTooManyKeys
	default:
		return err
	}
	sentinel := api.ErrBadRequest
	switch status {
	case http.StatusNotFound:
		sentinel = api.ErrNotFound
	case http.StatusRequestEntityTooLarge:
		sentinel = api.ErrBodyTooLarge
	case http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		sentinel = api.ErrUnavailable
	}
	return &api.HTTPError{Status: status, Code: code, Message: err.Error(), Err: errors.Join(sentinel, err)}
}

// kvKeyNotFound is the envelope of a missing key, worded as Cloudflare does.
func kvKeyNotFound() *api.HTTPError {
	return &api.HTTPError{Status: http.StatusNotFound, Code: api.CodeKVKeyNotFound, Message: "get: 'key not found'",
		Err: errors.Join(api.ErrNotFound, ErrKeyNotFound)}
}

// kvNamespaceNotFound is the envelope of an unknown namespace id.
func kvNamespaceNotFound() *api.HTTPError {
	return &api.HTTPError{Status: http.StatusNotFound, Code: api.CodeKVNamespaceNotFound, Message: "namespace not found",
		Err: errors.Join(api.ErrNotFound, ErrNamespaceNotFound)}
}
