package api

// The one table of error codes in the errors array of an envelope, for every
// route of every service and for the forwarding layer: each code means one
// thing. Where Cloudflare has a well-known code for the situation it is
// reused (noted with "Cloudflare's"); the rest are Edgeplane's, in ranges
// that do not collide with Cloudflare's: 1000-1099 generic, 1100-1199 the
// cluster and forwarding between nodes. A new service adds its codes here.
const (
	// CodeInternal is an unexpected server-side failure (500).
	CodeInternal = 1000
	// CodeBadRequest is a request that is invalid as sent (bad parameter,
	// bad value).
	CodeBadRequest = 1001
	// CodeUnavailable means the cluster cannot serve the request right now
	// (no Raft leader, shutting down); the client may retry (503).
	CodeUnavailable = 1002
	// CodeConflict is a request that conflicts with existing state (409).
	CodeConflict = 1003
	// CodeNotFound is a generic "no such object" (404).
	CodeNotFound = 1004
	// CodeBodyTooLarge is a request body over the route's limit (413).
	CodeBodyTooLarge = 1005
	// CodeNameExists is a create or rename of a catalog resource to a name
	// the account already uses for that kind (except KV, see below).
	CodeNameExists = 1006
	// CodeOverloaded: the node serves as many requests as it admits at
	// once; retry after Retry-After (503).
	CodeOverloaded = 1007
	// CodeBodyTimeout: the request body sent nothing for too long, or did
	// not finish by the request's deadline (408).
	CodeBodyTimeout = 1008
	// CodeBodyIncomplete: the request body ended before its Content-Length
	// (400).
	CodeBodyIncomplete = 1009
	// CodeQuotaExceeded: the account already has the most objects of this
	// kind its quota allows (403).
	CodeQuotaExceeded = 1010

	// CodeNodeUnreachable: the node that should serve the request could not
	// be reached or gave no valid answer (502).
	CodeNodeUnreachable = 1100
	// CodeNodeTimeout: the serving node did not answer within the deadline (504).
	CodeNodeTimeout = 1101
	// CodeForwardLoop: the request was already forwarded once (508).
	CodeForwardLoop = 1102

	// CodeRateLimited: the token made more requests than its rate allows;
	// retry after Retry-After (429, Cloudflare's 971).
	CodeRateLimited = 971

	// CodeMalformedJSON is a request body that is not the JSON expected
	// (Cloudflare's 6007).
	CodeMalformedJSON = 6007
	// CodeNoRoute is an unknown route (Cloudflare's 7000).
	CodeNoRoute = 7000
	// CodeMethodNotAllowed is a known path with the wrong method
	// (Cloudflare's 7001).
	CodeMethodNotAllowed = 7001
	// CodeInvalidIdentifier is an object identifier in the path that names
	// nothing (Cloudflare's 7003, "Could not route to ...").
	CodeInvalidIdentifier = 7003
	// CodeAuthentication is a missing or invalid API token (Cloudflare's 10000).
	CodeAuthentication = 10000

	// Workers KV. 10009 and 10013 are Cloudflare's; the limit codes are
	// Edgeplane's choices inside the range wrangler treats as KV limit
	// errors, since Cloudflare's exact ones are not documented.

	// CodeKVKeyNotFound is a key that is missing, deleted or expired (404).
	CodeKVKeyNotFound = 10009
	// CodeKVNamespaceNotFound is a namespace id the account does not own (404).
	CodeKVNamespaceNotFound = 10013
	// CodeKVNamespaceTitleExists is a create or rename to a title the
	// account already uses (400, as on Cloudflare).
	CodeKVNamespaceTitleExists = 10014
	// CodeKVInvalidKey is a key outside 1..512 bytes, "." or "..".
	CodeKVInvalidKey = 10019
	// CodeKVInvalidMetadata is metadata that is not JSON or over 1024 bytes.
	CodeKVInvalidMetadata = 10022
	// CodeKVInvalidExpiration is an expiration under 60 s ahead, or not a number.
	CodeKVInvalidExpiration = 10023
	// CodeKVValueTooLarge is a value over 25 MiB (413).
	CodeKVValueTooLarge = 10024
	// CodeKVTooManyKeys is a bulk request over its size limit.
	CodeKVTooManyKeys = 10030
	// CodeKVInvalidListArgument is a bad list limit or cursor.
	CodeKVInvalidListArgument = 10031

	// D1. 7500 is Cloudflare's code for every SQL error (SQLite's message
	// with its result code name, HTTP 400); D1's limits answer it too, as
	// Cloudflare's do. 7404 is Cloudflare's unknown database; 7502 and
	// 7503 are Edgeplane's choices next to them.

	// CodeD1SQL is a statement SQLite refused or a D1 limit (400).
	CodeD1SQL = 7500
	// CodeD1DatabaseNotFound is a database id the account does not own (404).
	CodeD1DatabaseNotFound = 7404
	// CodeD1NameExists is a create with a name the account already uses (400).
	CodeD1NameExists = 7502
	// CodeD1Behind is a read whose bookmark this replica did not reach
	// within D1's wait (503; retry, or send it with consistency=strong).
	CodeD1Behind = 7503
	// CodeD1ImportTooLarge is an import upload over the node's limit, or an
	// ingest whose statements do not fit one Raft command (413).
	CodeD1ImportTooLarge = 7504
	// CodeD1ImportChecksum is an upload whose MD5 is not the etag given at
	// init, or an ingest naming another etag (400).
	CodeD1ImportChecksum = 7505
	// CodeD1SignedURL is a signed upload or download URL that is expired,
	// tampered with or names no file (403, or 404 for a missing file).
	CodeD1SignedURL = 7506
	// CodeD1ImportNotFound is an ingest or poll naming an upload this node
	// does not hold (never uploaded, already ingested, or expired) (404).
	CodeD1ImportNotFound = 7507
	// CodeKVStorageQuota is a write that would take a namespace past its
	// storage quota (413).
	CodeKVStorageQuota = 10042
	// CodeKVReplicas is a write with ?replicas=N that could not be held by
	// N nodes: 503 before writing when fewer are live, 504 when they did
	// not acknowledge in time (the write is then durable here and still
	// replicates).
	CodeKVReplicas = 10060

	// Durable Objects (pkg/do). Cloudflare has no REST codes for object
	// storage (it is reached from Workers), so these are Edgeplane's, in
	// 1200-1299.

	// CodeDONamespaceNotFound is a namespace id the account does not own (404).
	CodeDONamespaceNotFound = 1200
	// CodeDOInvalidID is an object id that is not 64 lowercase hex, or a
	// unique id not made by this namespace (400).
	CodeDOInvalidID = 1201
	// CodeDOInvalidKey is a storage key that is empty, over 2048 bytes or
	// not UTF-8 (400).
	CodeDOInvalidKey = 1202
	// CodeDOValueTooLarge is an entry whose key and value exceed 2 MB (413).
	CodeDOValueTooLarge = 1203
	// CodeDOTooManyKeys is a call with no keys or more than 128 (400).
	CodeDOTooManyKeys = 1204
	// CodeDOInvalidValue is a value that is not JSON, or an incr of a value
	// that is not a number (400).
	CodeDOInvalidValue = 1205
	// CodeDOCheckFailed is a transaction whose check did not hold; nothing
	// was written (409).
	CodeDOCheckFailed = 1206
	// CodeDOStorageFull is a write that would take the object past its
	// storage cap (413).
	CodeDOStorageFull = 1207
	// CodeDONotOwner: the node does not hold the object's lease right now
	// (ownership is moving, or the owner is warming up); retry (503).
	CodeDONotOwner = 1208
	// CodeDOOverloaded: the object's input queue is full. Unlike 1208,
	// do not retry at once: back off (503, Cloudflare's "overloaded").
	CodeDOOverloaded = 1209
	// CodeDOInvalidList is a bad list argument (limit, start with
	// startAfter) (400).
	CodeDOInvalidList = 1210
	// CodeDOOutcomeUnknown: the owner lost its lease or was superseded
	// while the request ran; its write may or may not have been applied
	// (503; retry only what is safe to repeat).
	CodeDOOutcomeUnknown = 1211

	// Durable Object alarms and WebSockets (pkg/do/alarm, pkg/do/wsroom),
	// 1230-1239.

	// CodeDOInvalidAlarm is an alarm time that is missing, not a positive
	// integer of ms since the epoch, or past year 9999 (400).
	CodeDOInvalidAlarm = 1230
	// CodeDONoAlarmWebhook is an alarm set in a namespace without a valid
	// http(s) alarm_webhook to deliver it to (400).
	CodeDONoAlarmWebhook = 1231
	// CodeDOInvalidTags is a WebSocket with more than 10 tags, or a tag
	// that is empty, over 256 bytes or not UTF-8 (400).
	CodeDOInvalidTags = 1232
	// CodeDORoomFull is a WebSocket to an object that already holds the
	// most sockets a room allows (429).
	CodeDORoomFull = 1233
)
