package api

import "context"

// AdminPrincipal is the principal of a request authenticated with the node's
// admin token; catalog tokens are named by their token id.
const AdminPrincipal = "admin"

// reqState is what the middleware learns about one request as it goes: set
// by the outer layer, filled in by the route wrapper and handlers, read by
// the access log and metrics once the handler returns. It belongs to one
// request and is only touched by the goroutine serving it.
type reqState struct {
	id        string  // request id
	service   string  // metrics label: which service answered
	operation string  // metrics label: the route pattern
	principal string  // token id, or AdminPrincipal
	caller    *caller // who authenticated, with the token's evaluator
	limited   bool    // the body is already wrapped in a MaxBytesReader
	limit     int64   // that reader's limit
	err       error   // the failure a handler reported through WriteFailure
}

// stateKey is the context key of *reqState.
type stateKey struct{}

// withState returns ctx carrying st.
func withState(ctx context.Context, st *reqState) context.Context {
	return context.WithValue(ctx, stateKey{}, st)
}

// stateFrom returns the request state in ctx, or nil outside the middleware.
func stateFrom(ctx context.Context) *reqState {
	st, _ := ctx.Value(stateKey{}).(*reqState)
	return st
}

// RequestIDFrom returns the request id the middleware assigned, or "" when
// ctx did not come through a Server.
func RequestIDFrom(ctx context.Context) string {
	if st := stateFrom(ctx); st != nil {
		return st.id
	}
	return ""
}

// PrincipalFrom returns who authenticated the request: the catalog token id,
// AdminPrincipal for the node's admin token, or "" when the route needs no
// auth or ctx did not come through a Server.
func PrincipalFrom(ctx context.Context) string {
	if st := stateFrom(ctx); st != nil {
		return st.principal
	}
	return ""
}

// HeaderForwardedFrom names the node that forwarded a request over the
// internal gRPC. Only that path may set it: the middleware strips it from
// every request that did not come through it, so a client cannot pose as a
// peer.
const HeaderForwardedFrom = "X-Edge-Forwarded-From"

// forwardedKey is the context key of the forwarding node's id.
type forwardedKey struct{}

// WithForwardedFrom marks ctx as the context of a request that node origin
// forwarded. Only the internal gRPC server (pkg/router) calls it: a request
// so marked is served where it lands and never forwarded again.
func WithForwardedFrom(ctx context.Context, origin string) context.Context {
	return context.WithValue(ctx, forwardedKey{}, origin)
}

// ForwardedFrom returns the node that forwarded the request of ctx, or ""
// for a request received from a client.
func ForwardedFrom(ctx context.Context) string {
	s, _ := ctx.Value(forwardedKey{}).(string)
	return s
}
