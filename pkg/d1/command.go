package d1

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/edgeplane/edgeplane/pkg/replication"
)

// CommandType is D1's command type in the Raft log (service.StateMachine).
// Released: never change it.
const CommandType uint8 = 2

// command is one D1 write: every statement of one request, applied as one
// SQLite transaction on every replica, with the proposer's clock and a
// random seed so that the non-deterministic functions agree. A command with
// no statements is a barrier: it changes nothing but the database's applied
// index, and a read that follows it locally sees every write acknowledged
// before it was proposed.
type command struct {
	Account string    `json:"account"`
	DB      string    `json:"db"`
	Now     int64     `json:"now"` // Unix milliseconds
	Seed    uint64    `json:"seed"`
	Stmts   []cmdStmt `json:"stmts,omitempty"`
}

type cmdStmt struct {
	SQL    string            `json:"sql"`
	Params []json.RawMessage `json:"params,omitempty"`
}

// Command encodings. Entries of the first release are JSON (they begin
// with '{'); entries are now written in a binary form, which costs a
// fraction of JSON's CPU on the proposer, the leader's validation and every
// replica's apply. Both are read, forever: the log and snapshots hold old
// entries.
//
// Binary form: commandBinary, then account and database (uvarint length,
// bytes), now (varint), seed (uvarint), the statement count (uvarint), and
// for each statement its SQL (length, bytes), its parameter count (uvarint)
// and each parameter's JSON text (length, bytes).
const commandBinary byte = 1

// encode writes c in the binary form.
func (c command) encode() []byte {
	n := 32 + len(c.Account) + len(c.DB)
	for _, s := range c.Stmts {
		n += 8 + len(s.SQL)
		for _, p := range s.Params {
			n += 4 + len(p)
		}
	}
	b := make([]byte, 0, n)
	b = append(b, commandBinary)
	b = appendBytes(b, c.Account)
	b = appendBytes(b, c.DB)
	b = binary.AppendVarint(b, c.Now)
	b = binary.AppendUvarint(b, c.Seed)
	b = binary.AppendUvarint(b, uint64(len(c.Stmts)))
	for _, s := range c.Stmts {
		b = appendBytes(b, s.SQL)
		b = binary.AppendUvarint(b, uint64(len(s.Params)))
		for _, p := range s.Params {
			b = appendBytes(b, string(p))
		}
	}
	return b
}

func appendBytes(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// errCommand is a payload that is not a well-formed command.
var errCommand = errors.New("d1 command: malformed")

// cmdReader reads the binary form, bounded by the payload.
type cmdReader struct {
	b   []byte
	err error
}

func (r *cmdReader) uvarint(limit uint64) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > limit {
		r.err = errCommand
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *cmdReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errCommand
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *cmdReader) bytes(limit int) []byte {
	n := r.uvarint(uint64(limit))
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errCommand
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func decodeCommand(b []byte) (command, error) {
	if len(b) > 0 && b[0] == '{' {
		var c command
		if err := json.Unmarshal(b, &c); err != nil {
			return command{}, fmt.Errorf("d1 command: %w", err)
		}
		return c, c.validate()
	}
	if len(b) == 0 || b[0] != commandBinary {
		return command{}, fmt.Errorf("%w: unknown encoding", errCommand)
	}
	r := cmdReader{b: b[1:]}
	c := command{Account: string(r.bytes(MaxNameBytes * 4)), DB: string(r.bytes(MaxNameBytes * 4))}
	c.Now = r.varint()
	c.Seed = r.uvarint(^uint64(0))
	n := r.uvarint(MaxStatements)
	if r.err == nil && n > 0 {
		c.Stmts = make([]cmdStmt, n)
	}
	for i := range c.Stmts {
		c.Stmts[i].SQL = string(r.bytes(MaxStatementBytes))
		np := r.uvarint(MaxParams)
		if r.err != nil {
			break
		}
		if np > 0 {
			c.Stmts[i].Params = make([]json.RawMessage, np)
		}
		for j := range c.Stmts[i].Params {
			c.Stmts[i].Params[j] = json.RawMessage(r.bytes(replication.MaxCommandBytes))
		}
	}
	switch {
	case r.err != nil:
		return command{}, r.err
	case len(r.b) != 0:
		return command{}, fmt.Errorf("%w: %d trailing bytes", errCommand, len(r.b))
	}
	return c, c.validate()
}

func (c command) validate() error {
	switch {
	case c.Account == "" || c.DB == "":
		return errors.New("d1 command: account and database are required")
	case len(c.Stmts) > MaxStatements:
		return fmt.Errorf("d1 command: %d statements, the limit is %d", len(c.Stmts), MaxStatements)
	}
	for i, s := range c.Stmts {
		if len(s.SQL) > MaxStatementBytes {
			return fmt.Errorf("d1 command: statement %d is over %d bytes", i+1, MaxStatementBytes)
		}
		if len(s.Params) > MaxParams {
			return fmt.Errorf("d1 command: statement %d has %d parameters", i+1, len(s.Params))
		}
	}
	return nil
}

// applyResult is what applying a command gives back to its proposer.
type applyResult struct {
	// Index is the entry's index: the write's bookmark.
	Index   uint64       `json:"index"`
	Results []stmtResult `json:"results,omitempty"`
	// Error is SQLite's message when a statement failed (then nothing of
	// the command was applied); Failed is that statement's position.
	Error  string `json:"error,omitempty"`
	Failed int    `json:"failed,omitempty"`
	// NotFound: the database was deleted before the command applied.
	NotFound  bool  `json:"not_found,omitempty"`
	SizeAfter int64 `json:"size_after"`
	ChangedDB bool  `json:"changed_db"`
	// Skipped: the entry was already in the database (a replay).
	Skipped bool `json:"skipped,omitempty"`
}
