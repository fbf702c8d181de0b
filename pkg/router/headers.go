package router

import (
	"net/http"

	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

// HTTP headers the forwarding layer reads and writes.
const (
	// HeaderForwardedFrom marks a request that was forwarded; its value is the
	// id of the node that forwarded it. A request carrying it is served where
	// it lands and never forwarded again.
	HeaderForwardedFrom = "X-Edge-Forwarded-From"
	// HeaderServedBy names the node that served a forwarded request.
	HeaderServedBy = "X-Edge-Served-By"
	// HeaderRequestID carries the request id end to end.
	HeaderRequestID = "X-Request-Id"
)

// IsForwarded reports whether r already crossed a hop and must be served
// locally. The public HTTP layer should strip HeaderForwardedFrom from
// requests of outside clients before routing, so only peers can set it.
func IsForwarded(r *http.Request) bool {
	return r.Header.Get(HeaderForwardedFrom) != ""
}

// hopHeaders are connection-level headers that must not cross a hop
// (RFC 9110 section 7.6.1), plus Content-Length, which is recomputed.
var hopHeaders = map[string]bool{
	"Connection":          true,
	"Keep-Alive":          true,
	"Proxy-Connection":    true,
	"Proxy-Authenticate":  true,
	"Proxy-Authorization": true,
	"Te":                  true,
	"Trailer":             true,
	"Transfer-Encoding":   true,
	"Upgrade":             true,
	"Content-Length":      true,
}

// headersToProto converts h, without hop-by-hop headers, in canonical form.
func headersToProto(h http.Header) []*edgev1.Header {
	out := make([]*edgev1.Header, 0, len(h))
	for name, values := range h {
		if hopHeaders[http.CanonicalHeaderKey(name)] {
			continue
		}
		out = append(out, &edgev1.Header{Name: name, Values: append([]string(nil), values...)})
	}
	return out
}

// headersFromProto adds hs to dst, skipping hop-by-hop headers.
func headersFromProto(dst http.Header, hs []*edgev1.Header) {
	for _, h := range hs {
		name := http.CanonicalHeaderKey(h.GetName())
		if name == "" || hopHeaders[name] {
			continue
		}
		for _, v := range h.GetValues() {
			dst.Add(name, v)
		}
	}
}
