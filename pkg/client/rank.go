package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// maxProbes bounds the probes per endpoint whatever the caller asks.
const maxProbes = 20

// maxHealthBody bounds how much of a /healthz body is read.
const maxHealthBody = 64 << 10

// EndpointRTT is one endpoint as measured by Rank.
type EndpointRTT struct {
	// Endpoint is the normalized base URL.
	Endpoint string
	// RTT is the median round trip of the probes; zero when Err is set.
	RTT time.Duration
	// Err says why the endpoint is unreachable; nil when it answered.
	Err error
	// NodeID is the node that answered, from the /healthz body.
	NodeID string
}

// TieMargin is how much slower than the fastest endpoint another one may be
// and still count as equally near (also at least a tenth of the fastest
// round trip): measurements that close are noise, and ranking by noise
// would send consecutive calls with the same endpoint list to different
// nodes (a put on one, a get on another that has not replicated yet).
const TieMargin = 5 * time.Millisecond

// Rank measures the round trip to each endpoint (probes GET /healthz one
// after another, taking the median) and returns the endpoints nearest
// first, unreachable ones last with Err set. Endpoints are probed in
// parallel; an endpoint whose probe fails is not probed again. Endpoints
// that cannot be parsed are reported unreachable. Endpoints within
// TieMargin of each other count as equal and keep the input order (see
// orderByRTT), so the same list picks the same endpoint call after call.
func Rank(ctx context.Context, hc *http.Client, endpoints []string, probes int) []EndpointRTT {
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	probes = max(1, min(probes, maxProbes))
	out := make([]EndpointRTT, len(endpoints))
	var wg sync.WaitGroup
	for i, raw := range endpoints {
		ep, err := NormalizeEndpoint(raw)
		if err != nil {
			out[i] = EndpointRTT{Endpoint: raw, Err: err}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = measure(ctx, hc, ep, probes)
		}()
	}
	wg.Wait()
	return orderByRTT(out)
}

// orderByRTT orders measured endpoints (given in the caller's order):
// the fastest reachable endpoint and every one within its tie margin come
// first, in the caller's order; then the same again among the rest; the
// unreachable ones last, in the caller's order.
func orderByRTT(in []EndpointRTT) []EndpointRTT {
	out := make([]EndpointRTT, 0, len(in))
	left := slices.Clone(in)
	for {
		fastest := -1
		for i, e := range left {
			if e.Err == nil && (fastest < 0 || e.RTT < left[fastest].RTT) {
				fastest = i
			}
		}
		if fastest < 0 {
			break
		}
		limit := left[fastest].RTT + max(TieMargin, left[fastest].RTT/10)
		rest := left[:0:0]
		for _, e := range left {
			if e.Err == nil && e.RTT <= limit {
				out = append(out, e)
			} else {
				rest = append(rest, e)
			}
		}
		left = rest
	}
	return append(out, left...)
}

// measure probes one endpoint.
func measure(ctx context.Context, hc *http.Client, ep string, probes int) EndpointRTT {
	res := EndpointRTT{Endpoint: ep}
	rtts := make([]time.Duration, 0, probes)
	for range probes {
		rtt, node, err := probe(ctx, hc, ep)
		if err != nil {
			res.Err = err
			return res
		}
		rtts = append(rtts, rtt)
		if node != "" {
			res.NodeID = node
		}
	}
	res.RTT = median(rtts)
	return res
}

// probe sends one GET /healthz and times it until the body is read.
func probe(ctx context.Context, hc *http.Client, ep string) (time.Duration, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep+"/healthz", nil)
	if err != nil {
		return 0, "", fmt.Errorf("probe: %w", err)
	}
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("probe: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxHealthBody))
	rtt := time.Since(start)
	if err != nil {
		return 0, "", fmt.Errorf("probe: read body: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, "", fmt.Errorf("probe: %w: /healthz answered HTTP %d", ErrBadResponse, resp.StatusCode)
	}
	var h Health
	// A body that is not the expected JSON still proves the endpoint
	// answers; only the node id stays unknown.
	_ = json.Unmarshal(body, &h)
	return rtt, h.NodeID, nil
}

// median returns the middle value of ds (the mean of the two middle ones
// for an even count). ds must not be empty; it is sorted in place.
func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	n := len(ds)
	if n%2 == 1 {
		return ds[n/2]
	}
	return (ds[n/2-1] + ds[n/2]) / 2
}
