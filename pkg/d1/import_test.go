package d1

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/api/apitest"
	"github.com/edgeplane/edgeplane/pkg/service"
	"github.com/edgeplane/edgeplane/pkg/wire"
	"github.com/prometheus/client_golang/prometheus"
)

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestImportManyStatements imports 25,000 statements (more than one
// command's statement cap, so they are packed), with CURRENT_TIMESTAMP
// rewritten, and polls.
func TestImportManyStatements(t *testing.T) {
	e := newIOEnv(t, Options{})
	id := e.create("many")
	var b strings.Builder
	b.WriteString("PRAGMA defer_foreign_keys=TRUE;\nCREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, at TEXT DEFAULT CURRENT_TIMESTAMP);\n")
	for i := range 25_000 {
		fmt.Fprintf(&b, "INSERT INTO t(v) VALUES ('row %d; -- with a semicolon');\n", i)
	}
	var ing wire.D1ImportResponse
	apitest.Result(t, e.importFile(id, b.String()), &ing)
	if ing.Result.NumQueries != 25_002 || ing.Result.Meta.RowsWritten != 25_000 || ing.Result.Meta.SizeAfter == 0 {
		t.Fatalf("ingest %+v", ing.Result)
	}
	r := e.sql(id, "SELECT count(*) AS n, count(DISTINCT at) AS ats, (SELECT v FROM t WHERE id = 25000) AS last FROM t")
	if r[0].Results[0]["n"] != float64(25_000) || r[0].Results[0]["ats"] != float64(1) || r[0].Results[0]["last"] != "row 24999; -- with a semicolon" {
		t.Fatalf("imported %v", r[0].Results)
	}
	if r[0].Meta.Bookmark != ing.Result.FinalBookmark {
		t.Fatalf("bookmark after import %s, read at %s", ing.Result.FinalBookmark, r[0].Meta.Bookmark)
	}
	var poll wire.D1ImportResponse
	apitest.Result(t, e.do(http.MethodPost, dbsPath+"/"+id+"/import", `{"action":"poll","current_bookmark":"`+ing.AtBookmark+`"}`), &poll)
	if poll.Status != "complete" || poll.AtBookmark < ing.AtBookmark {
		t.Fatalf("poll %+v", poll)
	}
	// The upload is gone once ingested: a second ingest finds nothing.
	if files, _ := os.ReadDir(e.m.files.path("upload", "")); len(files) != 0 {
		t.Fatalf("upload files left: %v", files)
	}
}

// TestImportFailingStatementChangesNothing: one bad statement anywhere in
// the file, and nothing of the file is applied.
func TestImportFailingStatementChangesNothing(t *testing.T) {
	e := newIOEnv(t, Options{})
	id := e.create("atomic")
	e.sql(id, "CREATE TABLE t(x INTEGER CHECK (x > 0)); INSERT INTO t VALUES (1)")
	before := e.userSums(id)
	var b strings.Builder
	b.WriteString("CREATE TABLE extra(y);\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "INSERT INTO t VALUES (%d);\n", i+2)
	}
	b.WriteString("INSERT INTO t VALUES (0);\nINSERT INTO t VALUES (99999);\n")
	w := e.importFile(id, b.String())
	apitest.WantError(t, w, http.StatusBadRequest, api.CodeD1SQL)
	if !strings.Contains(w.Body.String(), "CHECK constraint failed") || !strings.Contains(w.Body.String(), "nothing was applied") {
		t.Fatalf("message: %s", w.Body.String())
	}
	if after := e.userSums(id); fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatalf("a failed import changed the database:\n%v\n%v", before, after)
	}
	// Statements D1 refuses are refused before anything is proposed.
	for _, bad := range []string{"BEGIN TRANSACTION;\nINSERT INTO t VALUES (5);\nCOMMIT;", "INSERT INTO _cf_edge_meta VALUES ('applied', 0);",
		"PRAGMA journal_mode=DELETE;", "ATTACH 'x' AS y;", "   \n-- only a comment\n", "SELECT 'unterminated"} {
		apitest.WantError(t, e.importFile(id, bad), http.StatusBadRequest, api.CodeD1SQL)
	}
	if after := e.userSums(id); fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatal("a refused import changed the database")
	}
}

// TestImportChecksumAndFlow: an upload whose MD5 is not init's etag is
// refused and dropped; ingest needs the right etag, file and database.
func TestImportChecksumAndFlow(t *testing.T) {
	e := newIOEnv(t, Options{})
	id := e.create("md5")
	other := e.create("other")
	text := "CREATE TABLE t(x);"
	init := e.importInit(id, md5hex("something else"))
	resp, body := e.httpDo(http.MethodPut, init.UploadURL, "", []byte(text))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), fmt.Sprintf(`"code":%d`, api.CodeD1ImportChecksum)) {
		t.Fatalf("wrong md5: %d %s", resp.StatusCode, body)
	}
	ingest := func(db, etag, file string) string {
		b, _ := json.Marshal(wire.D1ImportRequest{Action: "ingest", Etag: etag, Filename: file})
		return string(b)
	}
	path := dbsPath + "/" + id + "/import"
	apitest.WantError(t, e.do(http.MethodPost, path, ingest(id, md5hex("something else"), init.Filename)), http.StatusNotFound, api.CodeD1ImportNotFound)

	init = e.importInit(id, md5hex(text))
	if resp, body := e.httpDo(http.MethodPut, init.UploadURL, "", []byte(text)); resp.StatusCode != http.StatusOK {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	apitest.WantError(t, e.do(http.MethodPost, path, ingest(id, md5hex("x"), init.Filename)), http.StatusBadRequest, api.CodeD1ImportChecksum)
	apitest.WantError(t, e.do(http.MethodPost, dbsPath+"/"+other+"/import", ingest(other, md5hex(text), init.Filename)), http.StatusNotFound, api.CodeD1ImportNotFound)
	apitest.WantError(t, e.do(http.MethodPost, path, ingest(id, md5hex(text), "../../x.sql")), http.StatusNotFound, api.CodeD1ImportNotFound)
	apitest.Result(t, e.do(http.MethodPost, path, ingest(id, md5hex(text), init.Filename)), nil)
	apitest.WantError(t, e.do(http.MethodPost, path, ingest(id, md5hex(text), init.Filename)), http.StatusNotFound, api.CodeD1ImportNotFound)

	for body, code := range map[string]int{
		`{"action":"init","etag":"xyz"}`:              api.CodeBadRequest,
		`{"action":"drop"}`:                           api.CodeBadRequest,
		`{"action":"init","etag":1}`:                  api.CodeMalformedJSON,
		`{"action":"poll","current_bookmark":"nope"}`: api.CodeBadRequest,
	} {
		apitest.WantError(t, e.do(http.MethodPost, path, body), http.StatusBadRequest, code)
	}
}

// TestImportLimits: the upload limit, one statement's length and the size
// of the one command an ingest becomes, each at its edge.
func TestImportLimits(t *testing.T) {
	const limit = 4096
	e := newIOEnv(t, Options{MaxImportBytes: limit})
	id := e.create("limits")
	e.sql(id, "CREATE TABLE t(x)")

	fill := func(n int) string { // a file of n bytes: one statement of n-1 bytes and its ";"
		head, tail := "INSERT INTO t VALUES ('", "')"
		return head + strings.Repeat("a", n-1-len(head)-len(tail)) + tail + ";"
	}
	apitest.Result(t, e.importFile(id, fill(limit)), nil)
	over := fill(limit + 1)
	init := e.importInit(id, md5hex(over))
	resp, body := e.httpDo(http.MethodPut, init.UploadURL, "", []byte(over))
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("upload one byte over the limit: %d %s", resp.StatusCode, body)
	}

	big := newIOEnv(t, Options{})
	bid := big.create("stmt")
	big.sql(bid, "CREATE TABLE t(x)")
	apitest.Result(t, big.importFile(bid, fill(MaxStatementBytes+1)), nil)
	apitest.WantError(t, big.importFile(bid, fill(MaxStatementBytes+2)), http.StatusBadRequest, api.CodeD1SQL)

	// A file that cannot fit one command is refused before it is read.
	init = big.importInit(bid, md5hex(""))
	_, local, ok := parseUploadName(init.Filename)
	if !ok {
		t.Fatalf("init answered filename %q", init.Filename)
	}
	path := big.m.files.path("upload", local)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxImportCommandBytes + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	b, _ := json.Marshal(wire.D1ImportRequest{Action: "ingest", Etag: md5hex(""), Filename: init.Filename})
	apitest.WantError(t, big.do(http.MethodPost, dbsPath+"/"+bid+"/import", string(b)), http.StatusRequestEntityTooLarge, api.CodeD1ImportTooLarge)

	// The command's encoded size: exactly MaxImportCommandBytes passes,
	// one byte more is refused (413) before it is proposed.
	c, _, err := importCommand(apitest.Account, bid, "SELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	c.Stmts = nil
	for range MaxImportCommandBytes / MaxStatementBytes {
		c.Stmts = append(c.Stmts, cmdStmt{SQL: "SELECT '" + strings.Repeat("b", MaxStatementBytes-9) + "'"})
	}
	c.Stmts = append(c.Stmts, cmdStmt{SQL: "SELECT ''"})
	// Grow the last statement until the encoded command (as it travels in
	// the Raft log) is exactly at the limit; its length prefix may grow too.
	pad := 0
	for range 8 {
		c.Stmts[len(c.Stmts)-1].SQL = "SELECT '" + strings.Repeat("c", pad) + "'"
		pad += MaxImportCommandBytes - len(c.command.encode())
	}
	if n := len(c.command.encode()); n != MaxImportCommandBytes {
		t.Fatalf("crafted command is %d bytes", n)
	}
	// A module whose Propose only records what reaches it (applying 32 MiB
	// of statements would test SQLite, not the bound).
	var proposed int
	probe, err := New(service.Deps{NodeID: apitest.Node, DataDir: t.TempDir(), Catalog: big.cat, Raft: soloRaft(big.testEnv), Registerer: prometheus.NewRegistry(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Propose: func(_ context.Context, cmd []byte) ([]byte, error) {
			proposed = len(cmd)
			return []byte(`{"index":1}`), nil
		}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	if _, err := probe.proposeImport(t.Context(), c); err != nil || proposed < MaxImportCommandBytes {
		t.Fatalf("command at the limit: %v (%d bytes proposed)", err, proposed)
	}
	proposed = 0
	c.Stmts[len(c.Stmts)-1].SQL += "c"
	if _, err := probe.proposeImport(t.Context(), c); !strings.Contains(fmt.Sprint(err), "over the") || proposed != 0 {
		t.Fatalf("command one byte over the limit: %v (%d bytes proposed)", err, proposed)
	}
}

// FuzzImportCommand: whatever the file, packing never panics, never makes
// a text over the statement limit, gives the same texts whatever the
// window the file is lexed in, and each packed text splits back into
// exactly the statements it was made of.
func FuzzImportCommand(f *testing.F) {
	for _, s := range []string{
		"SELECT 1; SELECT 2;", "CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO l VALUES (1); END; SELECT 1",
		"INSERT INTO t VALUES ('a;b'); -- c;\nINSERT INTO t VALUES (CURRENT_TIMESTAMP)", "/* ; */ SELECT \"x;\" FROM [a;b]",
		ExportPragma + "\nCREATE TABLE t(x);\nINSERT INTO \"t\" (\"x\") VALUES(X'00ff');",
	} {
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, text string, window uint8) {
		// A small window puts its edges everywhere: the statements must be
		// those of splitting the whole text at once.
		c, n, err := importCommandWindow("acc", "db", text, int(window)+1)
		whole, _, wholeErr := importCommand("acc", "db", text)
		if (err == nil) != (wholeErr == nil) {
			t.Fatalf("window %d: %v; whole file: %v", int(window)+1, err, wholeErr)
		}
		if err != nil {
			return
		}
		if fmt.Sprint(c.Stmts) != fmt.Sprint(whole.Stmts) {
			t.Fatalf("window %d packs %q; the whole file %q", int(window)+1, c.Stmts, whole.Stmts)
		}
		stmts, _ := splitStatements(text)
		if n != len(stmts) {
			t.Fatalf("%d statements counted, %d split", n, len(stmts))
		}
		var again []string
		for _, s := range c.Stmts {
			if len(s.SQL) > MaxStatementBytes {
				t.Fatalf("packed text of %d bytes", len(s.SQL))
			}
			parts, err := splitStatements(s.SQL)
			if err != nil {
				t.Fatalf("packed text does not split: %v", err)
			}
			for _, p := range parts {
				again = append(again, p.sql)
			}
		}
		if len(again) != len(stmts) {
			t.Fatalf("packed texts hold %d statements, the file %d", len(again), len(stmts))
		}
		for i, s := range stmts {
			if again[i] != rewriteCurrent(s) {
				t.Fatalf("statement %d: %q became %q", i+1, rewriteCurrent(s), again[i])
			}
		}
	})
}
