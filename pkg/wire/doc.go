// Package wire holds the JSON shapes of Edgeplane's public HTTP API: the
// Cloudflare v4 response envelope and the result types of the cluster and
// identity endpoints. The server (pkg/api) produces them and the client
// (pkg/client, edgectl, tests) consumes them, so both sides agree by
// construction.
package wire
