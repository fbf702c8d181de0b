package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

// MaxResponseBytes bounds how much of a response body Do reads.
const MaxResponseBytes = 64 << 20

// Do sends a request with the client's token to path (relative to the
// endpoint, may carry a query) and decodes the v4 envelope. On success the
// envelope's result is decoded into result (unless result is nil) and its
// result_info returned. Otherwise the error is an *APIError holding the
// HTTP status and the envelope's errors.
//
// body may be nil, an io.Reader or []byte (sent as is), or any other value
// (sent as JSON with Content-Type application/json).
func (c *Client) Do(ctx context.Context, method, path string, body any, result any) (*wire.ResultInfo, error) {
	hdr := http.Header{}
	hdr.Set("Accept", "application/json")
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case io.Reader:
		rd = b
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encode body: %w", method, path, err)
		}
		rd = bytes.NewReader(raw)
		hdr.Set("Content-Type", "application/json")
	}
	resp, err := c.DoRaw(ctx, method, path, hdr, rd)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return decodeEnvelope(resp, result)
}

// DoRaw sends a request with the client's token to path (relative to the
// endpoint) with the extra headers hdr and returns the response untouched;
// the caller closes its body. Only transport failures are errors: an HTTP
// error status is the caller's to judge.
func (c *Client) DoRaw(ctx context.Context, method, path string, hdr http.Header, body io.Reader) (*http.Response, error) {
	ep, err := c.Select(ctx)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	req, err := http.NewRequestWithContext(ctx, method, ep+path, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	for k, vs := range hdr {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("send request: %w", err)
	}
	return resp, nil
}

// decodeEnvelope reads a v4 envelope from resp.
func decodeEnvelope(resp *http.Response, result any) (*wire.ResultInfo, error) {
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if len(raw) > MaxResponseBytes {
		return nil, fmt.Errorf("read response: %w: body over %d bytes", ErrBadResponse, MaxResponseBytes)
	}
	var env wire.Envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		if resp.StatusCode >= 400 {
			// Not an envelope (a proxy's error page, say): the status
			// is all there is to report.
			return nil, &APIError{Status: resp.StatusCode}
		}
		return nil, fmt.Errorf("decode response: %w: HTTP %d body is not a v4 envelope: %w",
			ErrBadResponse, resp.StatusCode, err)
	}
	if resp.StatusCode >= 400 || !env.Success {
		return nil, &APIError{Status: resp.StatusCode, Errors: env.Errors}
	}
	if result != nil && len(env.Result) > 0 && !bytes.Equal(bytes.TrimSpace(env.Result), []byte("null")) {
		if err := json.Unmarshal(env.Result, result); err != nil {
			return nil, fmt.Errorf("decode result: %w", err)
		}
	}
	return env.ResultInfo, nil
}
