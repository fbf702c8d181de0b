package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/client/kvfake"
)

// runKV runs edgectl with the kv and bench commands added to the root (the
// integrator registers them in newRootCmd), with stdin.
func runKV(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a := &app{env: env{stdout: &out, stderr: &errOut, getenv: func(string) string { return "" },
		environ: func() []string { return nil }, version: "test"}}
	root := newRootCmd(a)
	if c, _, err := root.Find([]string{"kv"}); err != nil || c == root {
		root.AddCommand(newKVCmd(a), newBenchCmd(a))
	}
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(strings.NewReader(stdin))
	if err := root.ExecuteContext(ctx); err != nil {
		errOut.WriteString("edgectl: " + oneLine(err.Error()) + "\n")
		return out.String(), errOut.String(), 1
	}
	return out.String(), errOut.String(), 0
}

// kvEnv starts the fake and returns it with the global flags for it.
func kvEnv(t *testing.T) (*kvfake.Server, []string) {
	t.Helper()
	f := kvfake.Start("acc1", "tok")
	t.Cleanup(f.Close)
	return f, []string{"--endpoint", f.URL, "--token", "tok"}
}

// mustKV runs a command that must succeed and returns its stdout.
func mustKV(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, errOut, code := runKV(t, stdin, args...)
	if code != 0 {
		t.Fatalf("edgectl %v: exit %d, stderr %q", args, code, errOut)
	}
	return out
}

func TestKVNamespaceCommands(t *testing.T) {
	_, g := kvEnv(t)
	out := mustKV(t, "", append(g, "kv", "namespace", "create", "sessions", "-o", "json")...)
	var ns struct{ ID, Title string }
	if err := json.Unmarshal([]byte(out), &ns); err != nil || ns.Title != "sessions" || ns.ID == "" {
		t.Fatalf("create -o json = %q (%v)", out, err)
	}
	if _, errOut, code := runKV(t, "", append(g, "kv", "namespace", "create", "sessions")...); code == 0 || !strings.Contains(errOut, "HTTP 400") {
		t.Fatalf("duplicate title: exit %d, stderr %q", code, errOut)
	}
	mustKV(t, "", append(g, "kv", "namespace", "rename", "sessions", "users")...)
	out = mustKV(t, "", append(g, "kv", "namespace", "list")...)
	if !strings.Contains(out, ns.ID) || !strings.Contains(out, "users") || strings.Contains(out, "sessions") {
		t.Fatalf("list after rename:\n%s", out)
	}
	mustKV(t, "", append(g, "kv", "namespace", "delete", ns.ID)...)
	out = mustKV(t, "", append(g, "kv", "namespace", "list", "-o", "json")...)
	if strings.TrimSpace(out) != "[]" {
		t.Fatalf("list after delete = %q, want []", out)
	}
	if _, errOut, code := runKV(t, "", append(g, "kv", "get", "users", "k")...); code == 0 || !strings.Contains(errOut, "no namespace") {
		t.Fatalf("get in deleted namespace: exit %d, stderr %q", code, errOut)
	}
}

func TestKVPutGetDeleteCommands(t *testing.T) {
	f, g := kvEnv(t)
	out := mustKV(t, "", append(g, "kv", "namespace", "create", "cfg", "-o", "json")...)
	var ns struct{ ID string }
	_ = json.Unmarshal([]byte(out), &ns)

	mustKV(t, "", append(g, "kv", "put", "cfg", "dir/a b", "from-arg")...)
	mustKV(t, "from-stdin\x00", append(g, "kv", "put", "cfg", "stdin")...)
	file := filepath.Join(t.TempDir(), "v")
	if err := os.WriteFile(file, []byte("from-file"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustKV(t, "", append(g, "kv", "put", "cfg", "file", "--file", file, "--ttl", "3600", "--metadata", `{"a":1}`)...)
	if _, errOut, code := runKV(t, "", append(g, "kv", "put", "cfg", "k", "--metadata", "{")...); code == 0 || !strings.Contains(errOut, "metadata") {
		t.Fatalf("bad metadata: exit %d, stderr %q", code, errOut)
	}

	if got := mustKV(t, "", append(g, "kv", "get", "cfg", "dir/a b")...); got != "from-arg" {
		t.Fatalf("get = %q", got)
	}
	if got := mustKV(t, "", append(g, "kv", "get", ns.ID, "stdin")...); got != "from-stdin\x00" {
		t.Fatalf("get by id = %q", got)
	}
	var v map[string]any
	out = mustKV(t, "", append(g, "kv", "get", "cfg", "file", "-o", "json")...)
	if err := json.Unmarshal([]byte(out), &v); err != nil || v["value"] != "from-file" || v["expiration"] == nil {
		t.Fatalf("get -o json = %q", out)
	}
	if _, md, _, _ := f.Value(ns.ID, "file"); string(md) != `{"a":1}` {
		t.Fatalf("metadata stored = %s", md)
	}
	out = mustKV(t, "", append(g, "kv", "get", "cfg", "stdin", "-o", "json")...)
	if !strings.Contains(out, "value_base64") {
		t.Fatalf("binary value -o json = %q", out)
	}

	mustKV(t, "", append(g, "kv", "delete", "cfg", "dir/a b")...)
	if _, errOut, code := runKV(t, "", append(g, "kv", "get", "cfg", "dir/a b")...); code == 0 || !strings.Contains(errOut, "10009") {
		t.Fatalf("get deleted: exit %d, stderr %q", code, errOut)
	}
}

func TestKVListAndBulkCommands(t *testing.T) {
	f, g := kvEnv(t)
	out := mustKV(t, "", append(g, "kv", "namespace", "create", "big", "-o", "json")...)
	var ns struct{ ID string }
	_ = json.Unmarshal([]byte(out), &ns)

	var pairs []map[string]any
	for i := 0; i < 2500; i++ {
		pairs = append(pairs, map[string]any{"key": "p/" + strings.Repeat("0", 4-len(itoa(i))) + itoa(i), "value": "v"})
	}
	pairs = append(pairs, map[string]any{"key": "bin", "value": "AAE=", "base64": true, "metadata": map[string]int{"n": 1}})
	dir := t.TempDir()
	writeFileJSON(t, filepath.Join(dir, "put.json"), pairs)
	out = mustKV(t, "", append(g, "kv", "bulk", "put", "big", filepath.Join(dir, "put.json"), "-o", "json")...)
	if !strings.Contains(out, `"successful_key_count": 2501`) {
		t.Fatalf("bulk put = %s", out)
	}
	if v, _, _, ok := f.Value(ns.ID, "bin"); !ok || string(v) != "\x00\x01" {
		t.Fatalf("base64 pair stored as %q", v)
	}

	out = mustKV(t, "", append(g, "kv", "list", "big", "--prefix", "p/", "--limit", "100", "-o", "json")...)
	var keys []struct{ Name string }
	if err := json.Unmarshal([]byte(out), &keys); err != nil || len(keys) != 2500 || keys[2499].Name != "p/2499" {
		t.Fatalf("list: %d keys, %v", len(keys), err)
	}
	out = mustKV(t, "", append(g, "kv", "list", "big", "--prefix", "bin")...)
	if !strings.Contains(out, "KEY") || !strings.Contains(out, `{"n":1}`) {
		t.Fatalf("list table:\n%s", out)
	}

	writeFileJSON(t, filepath.Join(dir, "del.json"), []string{"p/0000", "bin"})
	mustKV(t, "", append(g, "kv", "bulk", "delete", "big", filepath.Join(dir, "del.json"))...)
	if n := len(f.Keys(ns.ID)); n != 2499 {
		t.Fatalf("%d keys after bulk delete, want 2499", n)
	}
	writeFileJSON(t, filepath.Join(dir, "bad.json"), []map[string]any{{"key": "", "value": "x"}})
	if _, errOut, code := runKV(t, "", append(g, "kv", "bulk", "put", "big", filepath.Join(dir, "bad.json"))...); code == 0 || !strings.Contains(errOut, "not applied") {
		t.Fatalf("bulk with unsuccessful keys: exit %d, stderr %q", code, errOut)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func writeFileJSON(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}
