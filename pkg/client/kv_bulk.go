package client

import (
	"context"
	"fmt"
	"net/http"
)

// BulkPut writes pairs to namespace ns in one request (Cloudflare allows
// up to 10,000). Keys the server could not apply are in
// UnsuccessfulKeys.
func (k *KV) BulkPut(ctx context.Context, ns string, pairs []KVBulkPair) (KVBulkResult, error) {
	if pairs == nil {
		pairs = []KVBulkPair{}
	}
	var res KVBulkResult
	if _, err := k.c.Do(ctx, http.MethodPut, k.nsPath(ns, "/bulk"), pairs, &res); err != nil {
		return KVBulkResult{}, fmt.Errorf("bulk put kv: %w", err)
	}
	return normalizeBulk(res), nil
}

// BulkDelete deletes keys from namespace ns in one request (POST
// bulk/delete; up to 10,000 keys).
func (k *KV) BulkDelete(ctx context.Context, ns string, keys []string) (KVBulkResult, error) {
	if keys == nil {
		keys = []string{}
	}
	var res KVBulkResult
	if _, err := k.c.Do(ctx, http.MethodPost, k.nsPath(ns, "/bulk/delete"), keys, &res); err != nil {
		return KVBulkResult{}, fmt.Errorf("bulk delete kv: %w", err)
	}
	return normalizeBulk(res), nil
}

// BulkGet reads up to 100 keys of namespace ns in one request.
func (k *KV) BulkGet(ctx context.Context, ns string, keys []string, opts KVBulkGetOptions) (KVBulkGetResult, error) {
	if keys == nil {
		keys = []string{}
	}
	typ := opts.Type
	if typ == "" {
		typ = "text"
	}
	body := struct {
		Keys         []string `json:"keys"`
		Type         string   `json:"type"`
		WithMetadata bool     `json:"withMetadata"`
	}{keys, typ, opts.WithMetadata}
	var res KVBulkGetResult
	if _, err := k.c.Do(ctx, http.MethodPost, k.nsPath(ns, "/bulk/get"), body, &res); err != nil {
		return KVBulkGetResult{}, fmt.Errorf("bulk get kv: %w", err)
	}
	return res, nil
}

// normalizeBulk gives a bulk result a non-nil UnsuccessfulKeys, so that
// JSON output shows [] rather than null.
func normalizeBulk(r KVBulkResult) KVBulkResult {
	if r.UnsuccessfulKeys == nil {
		r.UnsuccessfulKeys = []string{}
	}
	return r
}
