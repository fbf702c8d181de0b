package d1

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzDecodeCommand: a Raft entry is input like any other (a member can
// propose any bytes). Decoding never panics, and whatever decodes is a
// valid command that survives its own encoding unchanged.
func FuzzDecodeCommand(f *testing.F) {
	c := command{Account: "acc", DB: "db", Now: 1_700_000_000_000, Seed: 42, Stmts: []cmdStmt{
		{SQL: "INSERT INTO t VALUES (?)", Params: []json.RawMessage{json.RawMessage(`"x"`)}},
		{SQL: "DELETE FROM t"},
	}}
	f.Add(c.encode())
	old, _ := json.Marshal(c)
	f.Add(old)
	f.Add(command{Account: "a", DB: "b"}.encode())
	f.Add([]byte{commandBinary, 1, 'a', 1, 'b', 0, 0, 0xff, 0xff, 0x03})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeCommand(b)
		if err != nil {
			return
		}
		if err := got.validate(); err != nil {
			t.Fatalf("decoded a command that does not validate: %v", err)
		}
		again, err := decodeCommand(got.encode())
		if err != nil || fmt.Sprint(again) != fmt.Sprint(got) {
			t.Fatalf("re-encoded command decodes to %+v, %v; want %+v", again, err, got)
		}
	})
}

// FuzzParseQuery: whatever the /query body, parsing never panics; what it
// accepts keeps every limit, and the write command made of it encodes and
// decodes back to the same statements.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		`{"sql":"SELECT 1"}`,
		`{"sql":"INSERT INTO t VALUES (?, ?)","params":[1,"a"]}`,
		`{"batch":[{"sql":"SELECT ?","params":[null]},{"sql":"UPDATE t SET x = CURRENT_TIMESTAMP"}]}`,
		`{"sql":"CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END; SELECT 2"}`,
		`{"sql":"ATTACH 'x' AS y"}`,
		`{"sql":"SELECT 1; SELECT 2","params":[1]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		p, err := parseQuery(r)
		if err != nil {
			return
		}
		if len(p.stmts) == 0 || len(p.stmts) > MaxStatements || len(p.args) != len(p.stmts) || len(p.split) != len(p.stmts) {
			t.Fatalf("accepted %d statements (%d args, %d split)", len(p.stmts), len(p.args), len(p.split))
		}
		c := command{Account: "acc", DB: "db", Now: 1, Seed: 1, Stmts: make([]cmdStmt, len(p.stmts))}
		for i, s := range p.stmts {
			if len(s.SQL) > MaxStatementBytes || len(s.Params) > MaxParams {
				t.Fatalf("statement %d over a limit: %d bytes, %d params", i, len(s.SQL), len(s.Params))
			}
			c.Stmts[i] = cmdStmt{SQL: rewriteCurrent(p.split[i]), Params: s.Params}
		}
		got, err := decodeCommand(c.encode())
		if err != nil || fmt.Sprint(got.Stmts) != fmt.Sprint(c.Stmts) {
			t.Fatalf("the write command does not survive the log: %v", err)
		}
	})
}
