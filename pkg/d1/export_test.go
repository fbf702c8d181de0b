package d1

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/api/apitest"
	"github.com/edgeplane/edgeplane/pkg/wire"
)

// richSchema exercises what a dump must carry: quoting of names and text,
// blobs with zero bytes, reals at the edges, 64-bit integers, NULLs,
// AUTOINCREMENT counters past deleted rows, a WITHOUT ROWID table,
// generated columns, foreign keys declared before their parent, an index,
// a view over a view, a trigger (which must not fire during the import)
// and an FTS5 table.
const richSchema = `
CREATE TABLE child(id INTEGER PRIMARY KEY, parent INTEGER REFERENCES "odd ""name"""(k), note TEXT);
CREATE TABLE "odd ""name"""(k INTEGER PRIMARY KEY AUTOINCREMENT, "col 2" TEXT, r REAL, b BLOB, big INTEGER, g INTEGER GENERATED ALWAYS AS (k * 2) VIRTUAL);
CREATE TABLE kv(k TEXT PRIMARY KEY, v TEXT, ts TEXT DEFAULT CURRENT_TIMESTAMP) WITHOUT ROWID;
CREATE TABLE log(id INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT);
CREATE INDEX child_parent ON child(parent);
CREATE VIEW v1 AS SELECT k, "col 2" FROM "odd ""name""";
CREATE VIEW v2 AS SELECT count(*) AS n FROM v1;
CREATE TRIGGER kv_log AFTER INSERT ON kv BEGIN INSERT INTO log(what) VALUES ('kv ' || new.k); END;
CREATE VIRTUAL TABLE docs USING fts5(title, body);
`

func fillRich(t *testing.T, te *testEnv, id string) {
	t.Helper()
	te.sql(id, richSchema)
	te.sql(id, `INSERT INTO "odd ""name"""("col 2", r, b, big) VALUES
		('it''s; -- not a comment', 0.1, x'00ff0010', 9223372036854775807),
		('line1
line2 ✓ 日本', -1.5e300, x'', -9223372036854775808),
		(NULL, NULL, NULL, NULL),
		('gone', 1, 2, 3)`)
	te.sql(id, `DELETE FROM "odd ""name""" WHERE "col 2" = 'gone'`)
	te.sql(id, `INSERT INTO child(parent, note) VALUES (1, 'a'), (2, NULL), (NULL, 'orphan')`)
	te.sql(id, `INSERT INTO kv(k, v) VALUES ('a', '1'), ('b', '2')`)
	te.sql(id, `INSERT INTO docs(title, body) VALUES ('hello', 'hello world'), ('bye', 'see you; later')`)
	te.sql(id, `INSERT INTO log(what) VALUES ('x'); DELETE FROM log WHERE what = 'x'`)
}

// TestExportImportRoundTrip exports a database with every kind of object,
// downloads the dump through its signed URL without a token, imports it
// into a new database through wrangler's flow, and finds the same rows,
// schema and AUTOINCREMENT counters there.
func TestExportImportRoundTrip(t *testing.T) {
	e := newIOEnv(t, Options{})
	src := e.create("src")
	fillRich(t, e.testEnv, src)

	res, dump := e.export(src, wire.D1DumpOptions{})
	if !strings.HasPrefix(dump, ExportPragma+"\n") || strings.Contains(dump, internalPrefix) || strings.Contains(dump, "docs_data") {
		t.Fatalf("dump:\n%s", dump)
	}
	// Triggers come after the rows they would otherwise fire on.
	if strings.Index(dump, "CREATE TRIGGER") < strings.Index(dump, `INSERT INTO "kv"`) {
		t.Fatalf("trigger before the rows:\n%s", dump)
	}
	if _, err := ParseBookmark(res.AtBookmark); err != nil {
		t.Fatal(err)
	}

	dst := e.create("dst")
	w := e.importFile(dst, dump)
	var ing wire.D1ImportResponse
	apitest.Result(t, w, &ing)
	if ing.Status != "complete" || ing.Result == nil || ing.Result.NumQueries != strings.Count(dump, ";\n") || ing.Result.Meta.RowsWritten == 0 {
		t.Fatalf("ingest answered %+v (%d statements in the dump)", ing, strings.Count(dump, ";\n"))
	}
	if b, _ := ParseBookmark(ing.Result.FinalBookmark); b == 0 || ing.AtBookmark != ing.Result.FinalBookmark {
		t.Fatalf("final bookmark %q", ing.Result.FinalBookmark)
	}
	shadow := []string{"docs_data", "docs_idx", "docs_content", "docs_docsize", "docs_config"}
	want, got := e.userSums(src, shadow...), e.userSums(dst, shadow...)
	if len(want) != 5 || fmt.Sprint(want) != fmt.Sprint(got) {
		t.Fatalf("tables differ:\nsrc %v\ndst %v", want, got)
	}
	for _, q := range []string{
		"SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY name",
		"SELECT name, seq FROM sqlite_sequence ORDER BY name",
		"SELECT rowid, title, body FROM docs WHERE docs MATCH 'hello OR later' ORDER BY rowid",
		"SELECT * FROM v2",
		"SELECT count(*) AS n FROM log",
	} {
		a, b := e.sql(src, q), e.sql(dst, q)
		if fmt.Sprint(a[0].Results) != fmt.Sprint(b[0].Results) || len(a[0].Results) == 0 {
			t.Fatalf("%s:\nsrc %v\ndst %v", q, a[0].Results, b[0].Results)
		}
	}
	// The counter survived: the next row does not reuse a deleted id.
	if r := e.sql(dst, `INSERT INTO "odd ""name"""("col 2") VALUES ('next') RETURNING k`); r[0].Results[0]["k"] != float64(5) {
		t.Fatalf("next AUTOINCREMENT id %v, want 5", r[0].Results)
	}
	// The exported file reimports into the same source (same dump twice
	// into one database) as a failure that changes nothing.
	before := e.userSums(src)
	apitest.WantError(t, e.importFile(src, dump), http.StatusBadRequest, api.CodeD1SQL)
	if after := e.userSums(src); fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatal("a failed import changed the database")
	}
}

// TestExportOptions covers no_data, no_schema, tables, a bookmark and the
// refusals.
func TestExportOptions(t *testing.T) {
	e := newIOEnv(t, Options{})
	id := e.create("opts")
	fillRich(t, e.testEnv, id)

	_, schema := e.export(id, wire.D1DumpOptions{NoData: true})
	if strings.Contains(schema, `INSERT INTO "`) || !strings.Contains(schema, "CREATE TABLE kv") || !strings.Contains(schema, "CREATE VIEW v2") {
		t.Fatalf("no_data dump:\n%s", schema)
	}
	_, data := e.export(id, wire.D1DumpOptions{NoSchema: true})
	if strings.Contains(data, "CREATE ") || !strings.Contains(data, `INSERT INTO "kv"`) {
		t.Fatalf("no_schema dump:\n%s", data)
	}
	_, one := e.export(id, wire.D1DumpOptions{Tables: []string{"child"}})
	if !strings.Contains(one, "CREATE TABLE child") || !strings.Contains(one, "CREATE INDEX child_parent") ||
		strings.Contains(one, "kv") || strings.Contains(one, "VIEW") {
		t.Fatalf("tables=[child] dump:\n%s", one)
	}
	post := func(body string) *httpResult {
		w := e.do(http.MethodPost, dbsPath+"/"+id+"/export", body)
		return &httpResult{w.Code, w.Body.String()}
	}
	for body, code := range map[string]int{
		`{"output_format":"polling","dump_options":{"tables":["nope"]}}`: api.CodeD1SQL,
		`{"output_format":"file"}`:                                       api.CodeBadRequest,
		`{"output_format":"polling","current_bookmark":"zz"}`:            api.CodeBadRequest,
		`{"output_format":"polling","bogus":1}`:                          api.CodeMalformedJSON,
	} {
		r := post(body)
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, fmt.Sprintf(`"code":%d`, code)) {
			t.Errorf("%s: %d %s", body, r.status, r.body)
		}
	}
	// dump_options.tables: MaxStatements names are read (here: unknown
	// tables), one more is refused before anything is read.
	names := make([]string, MaxStatements+1)
	for i := range names {
		names[i] = fmt.Sprintf("t%d", i)
	}
	for n, code := range map[int]int{MaxStatements: api.CodeD1SQL, MaxStatements + 1: api.CodeBadRequest} {
		b, _ := json.Marshal(wire.D1ExportRequest{OutputFormat: "polling", DumpOptions: wire.D1DumpOptions{Tables: names[:n]}})
		if r := post(string(b)); r.status != http.StatusBadRequest || !strings.Contains(r.body, fmt.Sprintf(`"code":%d`, code)) {
			t.Errorf("%d tables: %d %.200s", n, r.status, r.body)
		}
	}
	// A bookmark this replica never reaches: 503, as a read.
	r := post(`{"output_format":"polling","current_bookmark":"` + FormatBookmark(1<<40) + `"}`)
	if r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, fmt.Sprintf(`"code":%d`, api.CodeD1Behind)) {
		t.Fatalf("future bookmark: %d %s", r.status, r.body)
	}
	apitest.WantError(t, e.do(http.MethodPost, dbsPath+"/0123456789abcdef0123456789abcdef/export", `{"output_format":"polling"}`),
		http.StatusNotFound, api.CodeD1DatabaseNotFound)
}

type httpResult struct {
	status int
	body   string
}

// TestSignedURLs: a download or upload URL works without a token, and is
// refused with a 403 envelope once expired or when any part of it was
// changed; a valid URL of a file that is gone is a 404 envelope.
func TestSignedURLs(t *testing.T) {
	e := newIOEnv(t, Options{})
	id := e.create("signed")
	e.sql(id, "CREATE TABLE t(x); INSERT INTO t VALUES (1)")
	res, _ := e.export(id, wire.D1DumpOptions{})
	u, err := url.Parse(res.Result.SignedURL)
	if err != nil {
		t.Fatal(err)
	}
	want := func(what, target string, status, code int) {
		t.Helper()
		resp, body := e.httpDo(http.MethodGet, target, "", nil)
		if resp.StatusCode != status || !strings.Contains(string(body), fmt.Sprintf(`"code":%d`, code)) {
			t.Fatalf("%s: %d %s", what, resp.StatusCode, body)
		}
	}
	q := u.Query()
	sig := q.Get(paramSignature)
	flip := map[byte]byte{'0': '1'}[sig[0]]
	if flip == 0 {
		flip = '0'
	}
	q.Set(paramSignature, string(flip)+sig[1:])
	want("tampered signature", e.srv.URL+u.Path+"?"+q.Encode(), http.StatusForbidden, api.CodeD1SignedURL)

	q = u.Query()
	exp := q.Get(paramExpires)
	q.Set(paramExpires, exp+"0")
	want("extended expiry", e.srv.URL+u.Path+"?"+q.Encode(), http.StatusForbidden, api.CodeD1SignedURL)

	other := strings.Replace(u.Path, "/export/", "/export/0", 1)[:len(u.Path)]
	want("another file", e.srv.URL+other+"?"+u.RawQuery, http.StatusForbidden, api.CodeD1SignedURL)
	want("no signature", e.srv.URL+u.Path, http.StatusForbidden, api.CodeD1SignedURL)

	// Expired: the node's clock moves past the hour.
	e.m.files.now = func() time.Time { return time.Now().Add(FileTTL + time.Minute) }
	want("expired", res.Result.SignedURL, http.StatusForbidden, api.CodeD1SignedURL)
	e.m.files.now = time.Now

	// The sweep removes files older than the hour; the URL then finds none.
	if err := os.Chtimes(e.m.files.path("export", res.Result.Filename), time.Now().Add(-2*FileTTL), time.Now().Add(-2*FileTTL)); err != nil {
		t.Fatal(err)
	}
	if n, err := e.m.files.sweep(); err != nil || n != 1 {
		t.Fatalf("sweep removed %d files: %v", n, err)
	}
	want("swept file", res.Result.SignedURL, http.StatusNotFound, api.CodeD1SignedURL)

	// An upload URL is checked the same way, for PUT.
	init := e.importInit(id, strings.Repeat("a", 32))
	up, _ := url.Parse(init.UploadURL)
	q = up.Query()
	q.Set(paramExpires, q.Get(paramExpires)+"1")
	resp, body := e.httpDo(http.MethodPut, e.srv.URL+up.Path+"?"+q.Encode(), "", []byte("SELECT 1;"))
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), fmt.Sprintf(`"code":%d`, api.CodeD1SignedURL)) {
		t.Fatalf("tampered upload URL: %d %s", resp.StatusCode, body)
	}
	// Export and import themselves need a token.
	resp, _ = e.httpDo(http.MethodPost, e.srv.URL+dbsPath+"/"+id+"/export", "", []byte(`{"output_format":"polling"}`))
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("export without a token: %d", resp.StatusCode)
	}
}
