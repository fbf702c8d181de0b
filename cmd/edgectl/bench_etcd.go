package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// etcdTarget is etcd through its v3 HTTP/JSON gateway, over one
// keep-alive transport shared by the workers.
type etcdTarget struct {
	base string
	hc   *http.Client
}

func (t *etcdTarget) name() string { return "etcd" }

func (t *etcdTarget) open(context.Context) (benchConn, error) { return t, nil }

// call POSTs a JSON body to a gateway path and drains the answer.
func (t *etcdTarget) call(ctx context.Context, path string, body map[string]string) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("etcd encode: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.base+path, bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("etcd request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := t.hc.Do(req)
	if err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxRESPBulk))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("etcd %s: HTTP %d", path, resp.StatusCode)
	}
	return nil
}

func (t *etcdTarget) put(ctx context.Context, key string, value []byte) error {
	return t.call(ctx, "/v3/kv/put", map[string]string{
		"key": base64.StdEncoding.EncodeToString([]byte(key)), "value": base64.StdEncoding.EncodeToString(value),
	})
}

func (t *etcdTarget) get(ctx context.Context, key string) error {
	return t.call(ctx, "/v3/kv/range", map[string]string{"key": base64.StdEncoding.EncodeToString([]byte(key))})
}

func (t *etcdTarget) close() error { return nil }

// etcdBase normalizes --etcd (host:port or URL) to a base URL.
func etcdBase(raw string) string {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	return strings.TrimRight(raw, "/")
}
