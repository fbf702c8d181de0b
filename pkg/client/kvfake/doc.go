// Package kvfake is an in-memory stand-in for the Workers KV part of
// edged's public API (Cloudflare v4 shapes), small enough to read in one
// sitting. It exists for tests of pkg/client and edgectl, which must not
// depend on the server's packages; it checks only what those tests need
// (envelopes, 10009 and 10013, duplicate titles, cursors, multipart) and is
// not a reference for the server's limits.
package kvfake
