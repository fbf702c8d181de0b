package api

import (
	"errors"
	"fmt"
	"net/http"
)

// DefaultMaxBodyBytes bounds request bodies of the API's own endpoints and of
// mounted services that do not give their own limit.
const DefaultMaxBodyBytes int64 = 1 << 20

// DefaultVersion is reported when Config.Version is empty.
const DefaultVersion = "dev"

// Config configures the HTTP API; zero values take defaults.
type Config struct {
	// NodeID names this node in the X-Edge-Node header and in /healthz. Required.
	NodeID string
	// Version is the software version reported by /healthz (default "dev").
	Version string
	// AdminToken is a node-local token that is always accepted. Empty means
	// none: only catalog tokens authenticate.
	AdminToken string
	// MaxBodyBytes bounds request bodies (default DefaultMaxBodyBytes, 1 MiB)
	// for the API's own endpoints; a mounted service may give its own limit.
	MaxBodyBytes int64
	// AccessLog logs every request at info level. Off, a request is logged
	// at debug level unless it failed with a 5xx, which is logged as an
	// error either way: at tens of thousands of requests a second a line
	// each costs more than the request, and the edge_http_* metrics already
	// count them.
	AccessLog bool
	// Leader wraps the handler of a route that writes the catalog, so that
	// it is served on the Raft leader (the node passes its router's
	// leader placement). Nil serves such routes where they arrive.
	Leader func(service string, h http.Handler) http.Handler
	// Limits bounds bodies, deadlines, in-flight requests and each token's
	// request rate (limits.go); zero fields take the defaults.
	Limits Limits
	// CatalogBehind says why this node's catalog is known to be older than
	// the cluster's (a restarted node replaying its log), nil when it is
	// not. While it is, a token the node cannot accept answers 503 with
	// Retry-After rather than 401 or 403: the token may be one it has not
	// loaded yet, and a client must not take a restart for a revoked
	// token. Nil means never behind.
	CatalogBehind func() error
}

// withDefaults returns c with zero values replaced by their defaults.
func (c Config) withDefaults() Config {
	if c.Version == "" {
		c.Version = DefaultVersion
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	c.Limits = c.Limits.withDefaults()
	if c.Leader == nil {
		c.Leader = func(_ string, h http.Handler) http.Handler { return h }
	}
	if c.CatalogBehind == nil {
		c.CatalogBehind = func() error { return nil }
	}
	return c
}

// Validate reports whether c is usable. Zero values are valid where a default
// exists; NodeID is required and must be a sane header value.
func (c *Config) Validate() error {
	if c.NodeID == "" {
		return errors.New("api config: node id is required")
	}
	if !validHeaderToken(c.NodeID) {
		return fmt.Errorf("api config: node id %q must be 1-128 printable ASCII characters without spaces", c.NodeID)
	}
	if c.MaxBodyBytes < 0 {
		return fmt.Errorf("api config: max body bytes must not be negative, got %d", c.MaxBodyBytes)
	}
	if c.AdminToken != "" && len(c.AdminToken) > maxTokenLen {
		return fmt.Errorf("api config: admin token longer than %d bytes", maxTokenLen)
	}
	return nil
}
