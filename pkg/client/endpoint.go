package client

import (
	"fmt"
	"net/url"
	"strings"
)

// NormalizeEndpoint turns an endpoint as an operator types it into a base
// URL: a bare host:port gets "http://", a trailing slash is dropped. Only
// http and https are accepted, and the URL may not carry a query.
func NormalizeEndpoint(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("endpoint %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("endpoint %q: scheme must be http or https", raw)
	}
	if u.Host == "" {
		return "", fmt.Errorf("endpoint %q: no host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("endpoint %q: must not have a query or fragment", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// SplitEndpoints splits a comma-separated endpoint list (the form of
// edgectl's --endpoint flag and EDGE_ENDPOINT), dropping empty entries.
func SplitEndpoints(list string) []string {
	var out []string
	for _, p := range strings.Split(list, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
