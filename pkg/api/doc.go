// Package api is Edgeplane's public HTTP surface: the Cloudflare API v4
// shapes that wrangler, the Cloudflare SDKs, curl and edgectl speak.
//
// A Server owns one net/http ServeMux (Go 1.22 method patterns) and puts
// every route behind the same middleware, outermost first:
//
//   - panic recovery: a panic becomes a 500 envelope and an error log line
//     with the stack; the client never sees a stack trace;
//   - request ids: X-Request-Id (or cf-ray) is kept when sane, otherwise a
//     random one is made; it is echoed in X-Request-Id and available to
//     handlers through RequestIDFrom; X-Edge-Node names the answering node;
//   - an access log line per request and the edge_http_* metrics, labelled
//     with the route pattern (never the raw path) so cardinality is bounded;
//   - bearer-token auth (the node's admin token or a catalog token) for
//     everything under /client/v4 and every mounted service route;
//   - a body limit: a declared Content-Length over it is refused with 413
//     before the handler runs; otherwise the body is an http.MaxBytesReader
//     and DecodeJSON / WriteFailure turn an overrun into 413.
//
// Every answer except /healthz, /readyz and /metrics is a v4 envelope
// (wire.Envelope). Unknown routes get 404 (code 7000), a known path with the
// wrong method 405 (code 7001). Permanent client errors (4xx except 408,
// 409 and 429) carry "x-should-retry: false", which cloudflare-go honours
// instead of retrying ten times.
//
// The package serves the API's own endpoints (health, metrics, cluster
// members and status, and the identity calls Cloudflare tools make:
// token verify, user, accounts, memberships, token management); services
// such as KV and D1 add theirs with Server.Mount and answer with the helpers
// WriteResult, WriteError, WriteFailure, ParsePage, Paginate and DecodeJSON.
package api
