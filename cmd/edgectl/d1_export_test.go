package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/api/apitest"
)

// TestD1ExportImportCommands: export to stdout and to a file (with its
// options), import the file into another database, and the rows match;
// a failing import changes nothing.
func TestD1ExportImportCommands(t *testing.T) {
	g := append(d1Server(t), "d1", "--account", apitest.Account)
	mustKV(t, "", append(g, "create", "src")...)
	mustKV(t, "", append(g, "create", "dst")...)
	mustKV(t, "", append(g, "execute", "src", "--command", `CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, b BLOB);
		CREATE TABLE u(x); INSERT INTO t(name, b) VALUES ('ann', x'00ff'), ('it''s', NULL); INSERT INTO u VALUES (1)`)...)

	dump := mustKV(t, "", append(g, "export", "src")...)
	if !strings.HasPrefix(dump, "PRAGMA defer_foreign_keys=TRUE;\n") || !strings.Contains(dump, `VALUES(2,'it''s',NULL);`) || !strings.Contains(dump, "X'00FF'") {
		t.Fatalf("export to stdout:\n%s", dump)
	}
	only := mustKV(t, "", append(g, "export", "src", "--table", "u", "--no-schema")...)
	if strings.Contains(only, "CREATE") || strings.Contains(only, `"t"`) || !strings.Contains(only, `INSERT INTO "u"`) {
		t.Fatalf("export --table u --no-schema:\n%s", only)
	}
	file := filepath.Join(t.TempDir(), "dump.sql")
	out := mustKV(t, "", append(g, "export", "src", "--out", file, "-o", "json")...)
	var res struct {
		AtBookmark string `json:"at_bookmark"`
		Bytes      int64  `json:"bytes"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.AtBookmark == "" || res.Bytes != int64(len(dump)) {
		t.Fatalf("export -o json: %v %q", err, out)
	}
	if b, _ := os.ReadFile(file); string(b) != dump {
		t.Fatalf("file differs from stdout:\n%s", b)
	}
	if _, errOut, code := runKV(t, "", append(g, "export", "src", "-o", "json")...); code == 0 || !strings.Contains(errOut, "--out") {
		t.Fatalf("export -o json without --out: %d %q", code, errOut)
	}

	out = mustKV(t, "", append(g, "import", "dst", file)...)
	if !strings.Contains(out, "Imported 6 statements") {
		t.Fatalf("import: %q", out)
	}
	if got := mustKV(t, "", append(g, "export", "dst")...); got != dump {
		t.Fatalf("dump of the imported database differs:\n%s\nvs\n%s", got, dump)
	}
	// Importing the same file again fails on CREATE TABLE: nothing changes.
	if _, errOut, code := runKV(t, "", append(g, "import", "dst", file, "-o", "json")...); code == 0 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("second import: %d %q", code, errOut)
	}
	if got := mustKV(t, "", append(g, "export", "dst")...); got != dump {
		t.Fatal("a failed import changed the database")
	}
}
