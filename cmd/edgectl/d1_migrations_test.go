package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/api/apitest"
)

// TestD1Migrations: create numbers files as wrangler does; apply applies
// the pending ones in order, each once; a second apply applies nothing; a
// failing migration applies nothing of itself and stops the run.
func TestD1Migrations(t *testing.T) {
	g := append(d1Server(t), "d1", "--account", apitest.Account)
	dir := filepath.Join(t.TempDir(), "migrations")
	m := append(g, "migrations", "--dir", dir)
	mustKV(t, "", append(g, "create", "app")...)

	out := mustKV(t, "", append(m, "create", "app", "create users", "-o", "json")...)
	var created struct {
		File string `json:"file"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil || filepath.Base(created.File) != "0001_create_users.sql" {
		t.Fatalf("create: %v %q", err, out)
	}
	write := func(name, sql string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(sql), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(created.File)
	write("0001_create_users.sql", string(b)+"CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);\n-- trailing comment")
	mustKV(t, "", append(m, "create", "app", "seed")...)
	write("0002_seed.sql", "INSERT INTO users(name) VALUES ('ann');\nINSERT INTO users(name) VALUES ('bob');\n")

	out = mustKV(t, "", append(m, "list", "app", "-o", "json")...)
	if !strings.Contains(out, `"0001_create_users.sql"`) || !strings.Contains(out, `"0002_seed.sql"`) || !strings.Contains(out, `"applied": []`) {
		t.Fatalf("list: %q", out)
	}
	out = mustKV(t, "", append(m, "apply", "app")...)
	if out != "Applied 0001_create_users.sql\nApplied 0002_seed.sql\n" {
		t.Fatalf("apply: %q", out)
	}
	if out := mustKV(t, "", append(m, "apply", "app", "-o", "json")...); !strings.Contains(out, `"applied": []`) {
		t.Fatalf("second apply: %q", out)
	}
	if out := mustKV(t, "", append(m, "list", "app")...); !strings.Contains(out, "No migrations to apply") {
		t.Fatalf("list after apply: %q", out)
	}
	// state is the users' names and the applied migrations' names.
	state := func() string {
		out := mustKV(t, "", append(g, "execute", "app", "--command",
			"SELECT group_concat(name, ',') FROM (SELECT name FROM users ORDER BY id); SELECT group_concat(name, ',') FROM (SELECT name FROM d1_migrations ORDER BY id)", "-o", "json")...)
		var res []struct {
			Results struct {
				Rows [][]any `json:"rows"`
			} `json:"results"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil || len(res) != 2 {
			t.Fatalf("state: %v %q", err, out)
		}
		return fmt.Sprint(res[0].Results.Rows[0][0], " | ", res[1].Results.Rows[0][0])
	}
	const applied = "ann,bob | 0001_create_users.sql,0002_seed.sql"
	if got := state(); got != applied {
		t.Fatalf("after apply: %s", got)
	}

	// 0003 fails at its last statement: none of it stays, 0004 does not run.
	write("0003_bad.sql", "INSERT INTO users(name) VALUES ('carl');\nINSERT INTO nope VALUES (1);\n")
	write("0004_later.sql", "INSERT INTO users(name) VALUES ('dora');\n")
	if _, errOut, code := runKV(t, "", append(m, "apply", "app")...); code == 0 || !strings.Contains(errOut, "0003_bad.sql") || !strings.Contains(errOut, "no such table") {
		t.Fatalf("failing migration: %d %q", code, errOut)
	}
	if got := state(); got != applied {
		t.Fatalf("after a failed migration: %s", got)
	}
	out = mustKV(t, "", append(m, "list", "app")...)
	if !strings.Contains(out, "0003_bad.sql") || !strings.Contains(out, "0004_later.sql") {
		t.Fatalf("pending after failure: %q", out)
	}
}
