package api

// Error codes in the errors array of an envelope. Where Cloudflare has a
// well-known code for the situation it is reused; the rest are Edgeplane's
// choices in the same style. Services may define their own.
const (
	// CodeInternal is an unexpected server-side failure.
	CodeInternal = 1000
	// CodeBadRequest is a request that is invalid as sent (bad parameter,
	// bad value).
	CodeBadRequest = 1001
	// CodeUnavailable means the cluster cannot serve the request right now
	// (no Raft leader, shutting down); the client may retry.
	CodeUnavailable = 1002
	// CodeConflict is a request that conflicts with existing state.
	CodeConflict = 1003
	// CodeNotFound is a generic "no such object".
	CodeNotFound = 1004
	// CodeMalformedJSON is a request body that is not the JSON expected
	// (Cloudflare's 6007).
	CodeMalformedJSON = 6007
	// CodeNoRoute is an unknown route (Cloudflare's 7000).
	CodeNoRoute = 7000
	// CodeMethodNotAllowed is a known path with the wrong method (7001).
	CodeMethodNotAllowed = 7001
	// CodeInvalidIdentifier is an object identifier in the path that names
	// nothing (Cloudflare's 7003, "Could not route to ...").
	CodeInvalidIdentifier = 7003
	// CodeAuthentication is a missing or invalid API token (10000).
	CodeAuthentication = 10000
	// CodeBodyTooLarge is a request body over the route's limit.
	CodeBodyTooLarge = 10014
)
