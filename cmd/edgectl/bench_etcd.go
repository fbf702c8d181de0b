package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// etcdTarget is etcd through its v3 HTTP/JSON gateway, one keep-alive
// connection (httpConn) per worker, as for edgeplane.
type etcdTarget struct {
	base    string
	timeout time.Duration
}

func (t *etcdTarget) name() string { return "etcd" }

func (t *etcdTarget) open(context.Context) (benchConn, error) {
	hc, err := newHTTPConn(t.base, http.Header{}, t.timeout)
	if err != nil {
		return nil, err
	}
	return &etcdConn{hc: hc}, nil
}

// etcdConn is one worker's connection to etcd's gateway.
type etcdConn struct{ hc *httpConn }

// call POSTs a JSON body to a gateway path and drains the answer.
func (c *etcdConn) call(ctx context.Context, path string, body map[string]string) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("etcd encode: %w", err)
	}
	status, err := c.hc.do(ctx, http.MethodPost, path, "application/json", raw)
	if err := expect2xx("etcd POST", path, status, err); err != nil {
		return err
	}
	return nil
}

func (c *etcdConn) put(ctx context.Context, key string, value []byte) error {
	return c.call(ctx, "/v3/kv/put", map[string]string{
		"key": base64.StdEncoding.EncodeToString([]byte(key)), "value": base64.StdEncoding.EncodeToString(value),
	})
}

func (c *etcdConn) get(ctx context.Context, key string) error {
	return c.call(ctx, "/v3/kv/range", map[string]string{"key": base64.StdEncoding.EncodeToString([]byte(key))})
}

func (c *etcdConn) close() error { return c.hc.close() }

// etcdBase normalizes --etcd (host:port or URL) to a base URL.
func etcdBase(raw string) string {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	return strings.TrimRight(raw, "/")
}
