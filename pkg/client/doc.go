// Package client is a Go client for the public HTTP API of edged: it sends
// authenticated requests, decodes the Cloudflare v4 envelope into the
// shapes of package wire, and turns failed envelopes into *APIError.
//
// A Client can be given several endpoints (nodes of one cluster). Before its
// first request it measures the round-trip time to each (Rank) and sticks to
// the nearest one that answers, so an operator can list every node and still
// talk to the closest. edgectl and the tests use this package; it does not
// depend on the server's packages.
package client
