package router

import (
	"net/http"

	"github.com/edgeplane/edgeplane/pkg/api"
	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

// HTTP headers the forwarding layer reads and writes.
const (
	// HeaderForwardedFrom names the node that forwarded a request; it is
	// informational: what makes a request forwarded is the context mark the
	// gRPC server sets (api.WithForwardedFrom), and the API strips this
	// header from client requests.
	HeaderForwardedFrom = api.HeaderForwardedFrom
	// HeaderServedBy names the node that served a request.
	HeaderServedBy = "X-Edge-Served-By"
	// HeaderRequestID carries the request id end to end.
	HeaderRequestID = api.HeaderRequestID
	// headerRaftIndex carries, from the serving node back to the forwarding
	// one, the Raft index of the write it made, so the forwarding node can
	// wait until it applied that entry too. It never reaches a client.
	headerRaftIndex = "X-Edge-Raft-Index"
	// headerAppliedIndex carries, from the forwarding node to the serving
	// one, the Raft index the forwarding node had applied: the serving node
	// waits until it applied as much (briefly) before it serves, so what
	// the client saw through the first node (a namespace it just created)
	// is there on the second. The forwarder always sets it, so a value a
	// client sent never reaches a peer.
	headerAppliedIndex = "X-Edge-Applied-Index"
)

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
