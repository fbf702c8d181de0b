package d1

import "time"

// D1's limits, as Cloudflare documents them for paid plans.
const (
	// MaxStatementBytes bounds one SQL statement (100 KB).
	MaxStatementBytes = 100_000
	// MaxParams bounds the bound parameters of one statement.
	MaxParams = 100
	// MaxValueBytes bounds one string, blob or row (2 MB).
	MaxValueBytes = 2_000_000
	// MaxColumns bounds the columns of a table.
	MaxColumns = 100
	// MaxQueryDuration bounds a query (the whole request or batch).
	MaxQueryDuration = 30 * time.Second
	// DefaultMaxDatabaseBytes is the default size cap of one database (10 GB).
	DefaultMaxDatabaseBytes = 10_000_000_000
	// MaxNameBytes bounds a database name (Edgeplane's bound).
	MaxNameBytes = 64
	// MaxResultBytes bounds the rows of one answer, so that it fits the
	// Raft result and a forwarded answer (Edgeplane's bound).
	MaxResultBytes = 16 << 20
	// MaxBodyBytes bounds a query request body (Edgeplane's bound).
	MaxBodyBytes = 32 << 20
	// MaxStatements bounds the statements of one request (Edgeplane's bound).
	MaxStatements = 10_000
	// BookmarkWait bounds how long a read waits for this replica to reach
	// the bookmark it was sent.
	BookmarkWait = 2 * time.Second
	// WriteWait bounds how long a write waits for its result: a write may
	// take its whole budget (DefaultWriteSteps, about 30 s) after the writes
	// queued before it, so the proposer's 10 s default would answer 503 for
	// a write that then fails (or commits) deterministically.
	WriteWait = 2 * MaxQueryDuration
)
