package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/edgeplane/edgeplane/pkg/client"
)

// edgeTarget is an edged node's KV API: each worker gets its own
// keep-alive connection (httpConn) that sends the Workers KV value
// requests a Cloudflare client would.
type edgeTarget struct {
	label    string
	endpoint string // base URL
	token    string
	account  string
	ns       string
	timeout  time.Duration
	scrape   *http.Client // for /metrics
	tls      *tls.Config  // --ca-cert: roots for https:// (nil: system roots)
}

// newBenchHTTPClient is a keep-alive HTTP/1.1 client for the bench's
// control calls (namespace create and delete, replication readers).
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

// open makes one worker's connection.
func (t *edgeTarget) open(context.Context) (benchConn, error) {
	hdr := http.Header{}
	hdr.Set("Authorization", "Bearer "+t.token)
	hc, err := newHTTPConn(t.endpoint, hdr, t.timeout)
	if err != nil {
		return nil, err
	}
	if hc.tls != nil && t.tls != nil {
		hc.tls.RootCAs = t.tls.RootCAs
	}
	prefix := strings.TrimRight(t.endpoint, "/")
	if u, err := url.Parse(prefix); err == nil {
		prefix = u.EscapedPath()
	}
	prefix += "/client/v4/accounts/" + url.PathEscape(t.account) + "/storage/kv/namespaces/" +
		url.PathEscape(t.ns) + "/values/"
	return &edgeConn{hc: hc, prefix: prefix}, nil
}

// edgeConn is one worker's connection to an edged node.
type edgeConn struct {
	hc     *httpConn
	prefix string // escaped path up to and including values/
}

func (c *edgeConn) put(ctx context.Context, key string, value []byte) error {
	p := c.prefix + url.PathEscape(key)
	status, err := c.hc.do(ctx, http.MethodPut, p, "application/octet-stream", value)
	return expect2xx("PUT", p, status, err)
}

func (c *edgeConn) get(ctx context.Context, key string) error {
	p := c.prefix + url.PathEscape(key)
	status, err := c.hc.do(ctx, http.MethodGet, p, "", nil)
	return expect2xx("GET", p, status, err)
}

func (c *edgeConn) close() error { return c.hc.close() }

// cost reads the node's CPU and allocation counters.
func (t *edgeTarget) cost(ctx context.Context) (serverCost, error) {
	return scrapeCost(ctx, t.scrape, t.endpoint)
}
