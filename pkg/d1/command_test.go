package d1

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
)

// Commands round-trip through the binary form; entries of the JSON form
// still decode; a truncated or padded payload is an error, never a panic.
func TestCommandEncoding(t *testing.T) {
	c := command{Account: "acc", DB: "db-1", Now: 1_700_000_000_123, Seed: 1<<63 + 5, Stmts: []cmdStmt{
		{SQL: "INSERT INTO t VALUES (?, ?, ?)", Params: []json.RawMessage{json.RawMessage(`1`), json.RawMessage(`"x\"y"`), json.RawMessage(`null`)}},
		{SQL: "DELETE FROM t"},
	}}
	b := c.encode()
	got, err := decodeCommand(b)
	if err != nil || fmt.Sprint(got) != fmt.Sprint(c) {
		t.Fatalf("binary round trip: %+v, %v; want %+v", got, err, c)
	}
	old, _ := json.Marshal(c)
	got, err = decodeCommand(old)
	if err != nil || fmt.Sprint(got) != fmt.Sprint(c) {
		t.Fatalf("json form: %+v, %v", got, err)
	}
	barrier := command{Account: "acc", DB: "db-1", Now: -1}
	if got, err := decodeCommand(barrier.encode()); err != nil || got.Stmts != nil || got.Now != -1 {
		t.Fatalf("barrier: %+v, %v", got, err)
	}
	for n := range len(b) {
		if _, err := decodeCommand(b[:n]); err == nil {
			t.Fatalf("truncated to %d bytes: decoded", n)
		}
	}
	if _, err := decodeCommand(append(b, 0)); !errors.Is(err, errCommand) {
		t.Fatalf("trailing byte: %v", err)
	}
	if _, err := decodeCommand([]byte{7, 1, 2}); !errors.Is(err, errCommand) {
		t.Fatalf("unknown encoding: %v", err)
	}
	// Bounds are checked before allocating.
	huge := []byte{commandBinary, 1, 'a', 1, 'b', 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}
	if _, err := decodeCommand(huge); !errors.Is(err, errCommand) {
		t.Fatalf("statement count over the limit: %v", err)
	}
}
