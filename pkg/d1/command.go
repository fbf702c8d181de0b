package d1

import (
	"encoding/json"
	"errors"
	"fmt"
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

func decodeCommand(b []byte) (command, error) {
	var c command
	if err := json.Unmarshal(b, &c); err != nil {
		return command{}, fmt.Errorf("d1 command: %w", err)
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
