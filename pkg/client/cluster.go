package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

// Health is the plain JSON body of /healthz and /readyz (these two are not
// wrapped in the v4 envelope).
type Health struct {
	// Status is "ok" (healthz), "ready" or "unavailable" (readyz).
	Status string `json:"status"`
	// NodeID names the answering node.
	NodeID string `json:"node_id"`
	// Version is the node's software version.
	Version string `json:"version"`
	// Reason says why the node is not ready; empty when it is.
	Reason string `json:"reason,omitempty"`
}

// Members returns the cluster's members as the answering node sees them
// (GET /client/v4/cluster/members).
func (c *Client) Members(ctx context.Context) ([]wire.Member, error) {
	var ms []wire.Member
	if _, err := c.Do(ctx, http.MethodGet, "/client/v4/cluster/members", nil, &ms); err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	if ms == nil {
		ms = []wire.Member{}
	}
	return ms, nil
}

// Status returns the answering node's status (GET /client/v4/cluster/status).
func (c *Client) Status(ctx context.Context) (wire.Status, error) {
	var st wire.Status
	if _, err := c.Do(ctx, http.MethodGet, "/client/v4/cluster/status", nil, &st); err != nil {
		return wire.Status{}, fmt.Errorf("status: %w", err)
	}
	return st, nil
}

// Health returns the /healthz body of the endpoint in use.
func (c *Client) Health(ctx context.Context) (Health, error) {
	h, err := c.probeJSON(ctx, "/healthz")
	if err != nil {
		return Health{}, fmt.Errorf("healthz: %w", err)
	}
	return h, nil
}

// Healthz returns nil when the endpoint in use answers GET /healthz with 200.
func (c *Client) Healthz(ctx context.Context) error {
	if _, err := c.probeJSON(ctx, "/healthz"); err != nil {
		return fmt.Errorf("healthz: %w", err)
	}
	return nil
}

// Ready returns nil when the endpoint in use answers GET /readyz with 200,
// that is when the node has joined and knows a Raft leader. Otherwise the
// error is an *APIError whose message carries the node's reason.
func (c *Client) Ready(ctx context.Context) error {
	if _, err := c.probeJSON(ctx, "/readyz"); err != nil {
		return fmt.Errorf("readyz: %w", err)
	}
	return nil
}

// probeJSON GETs a health endpoint and decodes its plain JSON body; a
// status other than 200 becomes an *APIError carrying the body's reason.
func (c *Client) probeJSON(ctx context.Context, path string) (Health, error) {
	resp, err := c.DoRaw(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return Health{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxHealthBody))
	if err != nil {
		return Health{}, fmt.Errorf("read response: %w", err)
	}
	var h Health
	decodeErr := json.Unmarshal(raw, &h)
	if resp.StatusCode != http.StatusOK {
		ae := &APIError{Status: resp.StatusCode}
		if decodeErr == nil && h.Reason != "" {
			ae.Errors = []wire.Error{{Message: h.Reason}}
		}
		return h, ae
	}
	if decodeErr != nil {
		return Health{}, fmt.Errorf("decode response: %w: %w", ErrBadResponse, decodeErr)
	}
	return h, nil
}
