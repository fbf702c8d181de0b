package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/edgeplane/edgeplane/pkg/client"
)

// edgeTarget is an edged node's KV API, through one keep-alive transport
// shared by every worker (MaxIdleConnsPerHost = concurrency).
type edgeTarget struct {
	label string
	kv    *client.KV
	ns    string
	hc    *http.Client
}

// newBenchHTTPClient is a keep-alive HTTP/1.1 client for concurrency
// workers.
func newBenchHTTPClient(concurrency int, timeout time.Duration) *http.Client {
	tr := &http.Transport{
		MaxIdleConns:        concurrency,
		MaxIdleConnsPerHost: concurrency,
		MaxConnsPerHost:     concurrency,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// newEdgeKV makes a KV API on one endpoint through hc.
func newEdgeKV(endpoint, token, account string, hc *http.Client) (*client.KV, error) {
	c, err := client.New([]string{endpoint}, token, client.WithHTTPClient(hc))
	if err != nil {
		return nil, fmt.Errorf("bench client: %w", err)
	}
	return c.KV(account), nil
}

func (t *edgeTarget) name() string { return t.label }

// open shares the target's transport: each worker is one keep-alive
// connection of it.
func (t *edgeTarget) open(context.Context) (benchConn, error) { return t, nil }

func (t *edgeTarget) put(ctx context.Context, key string, value []byte) error {
	return t.kv.PutValue(ctx, t.ns, key, value, client.KVPutOptions{})
}

func (t *edgeTarget) get(ctx context.Context, key string) error {
	_, err := t.kv.GetValue(ctx, t.ns, key)
	return err
}

func (t *edgeTarget) close() error { return nil }
