package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Cloudflare's KV error codes, as the server puts them in the envelope.
const (
	// CodeKVKeyNotFound is a value or metadata read of a missing key.
	CodeKVKeyNotFound = 10009
	// CodeKVNamespaceNotFound is a request naming a missing namespace.
	CodeKVNamespaceNotFound = 10013
)

// IsKVKeyNotFound reports whether err is the server saying a key does not
// exist (code 10009, or a 404 without an envelope).
func IsKVKeyNotFound(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	return ae.HasCode(CodeKVKeyNotFound) || (ae.Status == http.StatusNotFound && len(ae.Errors) == 0)
}

// PutValue writes value under key in namespace ns. Without metadata the
// body is the raw value; with metadata it is multipart/form-data with the
// parts value and metadata.
func (k *KV) PutValue(ctx context.Context, ns, key string, value []byte, opts KVPutOptions) error {
	q := url.Values{}
	if opts.Expiration != 0 {
		q.Set("expiration", strconv.FormatInt(opts.Expiration, 10))
	}
	if opts.ExpirationTTL != 0 {
		q.Set("expiration_ttl", strconv.FormatInt(opts.ExpirationTTL, 10))
	}
	path := k.keyPath(ns, "values", key)
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	hdr := http.Header{}
	hdr.Set("Accept", "application/json")
	var body []byte
	if opts.Metadata == nil {
		hdr.Set("Content-Type", "application/octet-stream")
		body = value
	} else {
		var err error
		var ctype string
		body, ctype, err = multipartValue(value, opts.Metadata)
		if err != nil {
			return fmt.Errorf("put kv value %q: %w", key, err)
		}
		hdr.Set("Content-Type", ctype)
	}
	resp, err := k.c.DoRaw(ctx, http.MethodPut, path, hdr, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("put kv value %q: %w", key, err)
	}
	defer resp.Body.Close()
	if _, err := decodeEnvelope(resp, nil); err != nil {
		return fmt.Errorf("put kv value %q: %w", key, err)
	}
	return nil
}

// multipartValue encodes a value and its metadata as Cloudflare's
// multipart write: a form field "value" and a form field "metadata".
func multipartValue(value []byte, metadata json.RawMessage) ([]byte, string, error) {
	if !json.Valid(metadata) {
		return nil, "", errors.New("metadata is not valid JSON")
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	vw, err := mw.CreateFormField("value")
	if err != nil {
		return nil, "", fmt.Errorf("multipart value: %w", err)
	}
	if _, err := vw.Write(value); err != nil {
		return nil, "", fmt.Errorf("multipart value: %w", err)
	}
	if err := mw.WriteField("metadata", string(metadata)); err != nil {
		return nil, "", fmt.Errorf("multipart metadata: %w", err)
	}
	if err := mw.Close(); err != nil {
		return nil, "", fmt.Errorf("multipart close: %w", err)
	}
	return buf.Bytes(), mw.FormDataContentType(), nil
}

// GetValue reads key from namespace ns: the raw bytes and the expiration
// response header. A missing key is an *APIError for which
// IsKVKeyNotFound is true.
func (k *KV) GetValue(ctx context.Context, ns, key string) (KVValue, error) {
	hdr := http.Header{}
	hdr.Set("Accept", "application/octet-stream")
	resp, err := k.c.DoRaw(ctx, http.MethodGet, k.keyPath(ns, "values", key), hdr, nil)
	if err != nil {
		return KVValue{}, fmt.Errorf("get kv value %q: %w", key, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		if _, err := decodeEnvelope(resp, nil); err != nil {
			return KVValue{}, fmt.Errorf("get kv value %q: %w", key, err)
		}
		return KVValue{}, fmt.Errorf("get kv value %q: %w", key, &APIError{Status: resp.StatusCode})
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return KVValue{}, fmt.Errorf("get kv value %q: read: %w", key, err)
	}
	if len(raw) > MaxResponseBytes {
		return KVValue{}, fmt.Errorf("get kv value %q: %w: over %d bytes", key, ErrBadResponse, MaxResponseBytes)
	}
	v := KVValue{Value: raw}
	if h := strings.TrimSpace(resp.Header.Get("Expiration")); h != "" {
		exp, err := strconv.ParseInt(h, 10, 64)
		if err != nil {
			return KVValue{}, fmt.Errorf("get kv value %q: %w: expiration header %q", key, ErrBadResponse, h)
		}
		v.Expiration = exp
	}
	return v, nil
}

// DeleteValue deletes key from namespace ns. Deleting a missing key
// succeeds, as on Cloudflare.
func (k *KV) DeleteValue(ctx context.Context, ns, key string) error {
	if _, err := k.c.Do(ctx, http.MethodDelete, k.keyPath(ns, "values", key), nil, nil); err != nil {
		return fmt.Errorf("delete kv value %q: %w", key, err)
	}
	return nil
}

// Metadata returns the metadata JSON of key in namespace ns; JSON null
// when the key has none.
func (k *KV) Metadata(ctx context.Context, ns, key string) (json.RawMessage, error) {
	var md json.RawMessage
	if _, err := k.c.Do(ctx, http.MethodGet, k.keyPath(ns, "metadata", key), nil, &md); err != nil {
		return nil, fmt.Errorf("get kv metadata %q: %w", key, err)
	}
	if md == nil {
		md = json.RawMessage("null")
	}
	return md, nil
}
