package client

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DefaultTimeout bounds each request (and the endpoint selection) when no
// WithTimeout or WithHTTPClient option says otherwise.
const DefaultTimeout = 15 * time.Second

// DefaultProbes is how many GET /healthz the endpoint selection sends to
// each endpoint; the median round trip counts.
const DefaultProbes = 3

// Client talks to the public API of an Edgeplane cluster. It is safe for
// concurrent use.
type Client struct {
	endpoints []string
	token     string
	hc        *http.Client
	timeout   time.Duration

	mu     sync.Mutex
	chosen string // the endpoint in use; empty until selected
	// choiceDir is where the selection is remembered (choice.go).
	choiceDir string
}

// Option adjusts a Client made by New.
type Option func(*settings)

// settings collects the options before New applies them.
type settings struct {
	hc      *http.Client
	timeout time.Duration
	caFile  string // WithCACert (tls.go)
	// choiceDir remembers the selected endpoint (WithChoiceFile).
	choiceDir string
}

// WithHTTPClient makes the Client send its requests through hc (for custom
// transports or TLS). Its Timeout is kept unless WithTimeout is also given.
func WithHTTPClient(hc *http.Client) Option {
	return func(s *settings) { s.hc = hc }
}

// WithTimeout bounds every request, body included, and the endpoint
// selection. Zero or negative means DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return func(s *settings) { s.timeout = d }
}

// New makes a client for one or more endpoints: base URLs such as
// "http://127.0.0.1:8787"; a bare host:port gets "http://". With several
// endpoints, the first call picks the nearest reachable one (see Rank) and
// sticks to it. token is sent as "Authorization: Bearer <token>" when not
// empty.
func New(endpoints []string, token string, opts ...Option) (*Client, error) {
	var s settings
	for _, o := range opts {
		o(&s)
	}
	eps := make([]string, 0, len(endpoints))
	seen := make(map[string]bool, len(endpoints))
	for _, raw := range endpoints {
		if strings.TrimSpace(raw) == "" {
			continue
		}
		ep, err := NormalizeEndpoint(raw)
		if err != nil {
			return nil, err
		}
		if !seen[ep] {
			seen[ep] = true
			eps = append(eps, ep)
		}
	}
	if len(eps) == 0 {
		return nil, fmt.Errorf("new client: %w: no endpoint given", ErrNoEndpoint)
	}
	hc := s.hc
	if s.caFile != "" {
		var err error
		given := hc != nil
		if hc, err = withCA(hc, s.caFile); err != nil {
			return nil, fmt.Errorf("new client: %w", err)
		}
		if !given {
			hc.Timeout = DefaultTimeout
		}
	}
	timeout := s.timeout
	switch {
	case hc == nil:
		if timeout <= 0 {
			timeout = DefaultTimeout
		}
		hc = &http.Client{Timeout: timeout}
	case timeout > 0:
		// Copy so the caller's client keeps its own timeout.
		cp := *hc
		cp.Timeout = timeout
		hc = &cp
	default:
		timeout = hc.Timeout
		if timeout <= 0 {
			timeout = DefaultTimeout
		}
	}
	c := &Client{endpoints: eps, token: token, hc: hc, timeout: timeout, choiceDir: s.choiceDir}
	if len(eps) == 1 {
		c.chosen = eps[0]
	}
	return c, nil
}

// Endpoints returns the normalized endpoints the client was made with, in
// the order given.
func (c *Client) Endpoints() []string {
	return append([]string(nil), c.endpoints...)
}

// Endpoint returns the endpoint the client uses: the selected one once a
// call (or Select) has picked it, else the first endpoint given.
func (c *Client) Endpoint() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.chosen != "" {
		return c.chosen
	}
	return c.endpoints[0]
}

// Select returns the endpoint the client uses, ranking the endpoints first
// if none has been picked yet. It fails with ErrNoEndpoint when none of
// several endpoints answers. A failed selection is retried by the next call.
func (c *Client) Select(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.chosen != "" {
		return c.chosen, nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if ep := c.rememberedChoice(ctx); ep != "" {
		c.chosen = ep
		c.rememberChoice(ep) // fresh again
		return ep, nil
	}
	ranked := Rank(ctx, c.hc, c.endpoints, DefaultProbes)
	if len(ranked) == 0 || ranked[0].Err != nil {
		return "", noneReachable(ranked)
	}
	c.chosen = ranked[0].Endpoint
	c.rememberChoice(c.chosen)
	return c.chosen, nil
}

// noneReachable describes a failed selection on one line.
func noneReachable(ranked []EndpointRTT) error {
	parts := make([]string, 0, len(ranked))
	for _, r := range ranked {
		parts = append(parts, fmt.Sprintf("%s (%v)", r.Endpoint, r.Err))
	}
	return fmt.Errorf("%w: tried %s", ErrNoEndpoint, strings.Join(parts, ", "))
}
