package kv

import (
	"encoding/json"
	"fmt"
	"github.com/edgeplane/edgeplane/pkg/api"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestKVListKeysPagesOverCursor(t *testing.T) {
	e := newKVEnv(t)
	var items []Entry
	for i := range 2500 {
		items = append(items, Entry{Key: fmt.Sprintf("user/%05d", i), Value: []byte("v")})
	}
	items[3].Metadata = []byte(`{"n":3}`)
	items = append(items, Entry{Key: "other"})
	if err := e.svc.PutMany(t.Context(), e.ns, items); err != nil {
		t.Fatal(err)
	}
	var seen []kvKey
	cursor := ""
	for page := 0; page < 10; page++ {
		w := e.get(e.url("/keys?prefix=user%2F&cursor=" + url.QueryEscape(cursor)))
		var got []kvKey
		env := result(t, w, &got)
		info := env.ResultInfo
		if info == nil || info.Cursor == nil || info.Cursors == nil || *info.Cursor != info.Cursors.After || info.Count != len(got) {
			t.Fatalf("result_info = %+v", info)
		}
		if !strings.Contains(w.Body.String(), `"cursor":`) {
			t.Fatal("cursor must be present, even when empty")
		}
		seen = append(seen, got...)
		if *info.Cursor == "" {
			break
		}
		cursor = *info.Cursor
	}
	if len(seen) != 2500 || seen[0].Name != "user/00000" || seen[2499].Name != "user/02499" {
		t.Fatalf("listed %d keys", len(seen))
	}
	if string(seen[3].Metadata) != `{"n":3}` || seen[4].Metadata != nil {
		t.Fatalf("metadata = %s / %s", seen[3].Metadata, seen[4].Metadata)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i-1].Name >= seen[i].Name {
			t.Fatal("keys not sorted")
		}
	}
}

func TestKVListKeysLimits(t *testing.T) {
	e := newKVEnv(t)
	var items []Entry
	for i := range 1001 {
		items = append(items, Entry{Key: fmt.Sprintf("%04d", i)})
	}
	if err := e.svc.PutMany(t.Context(), e.ns, items); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		q    string
		want int
	}{{"", 1000}, {"limit=10", 10}, {"limit=1000", 1000}} {
		var got []kvKey
		result(t, e.get(e.url("/keys?"+c.q)), &got)
		if len(got) != c.want {
			t.Errorf("%s: %d keys", c.q, len(got))
		}
	}
	for _, q := range []string{"limit=9", "limit=1001", "limit=x", "cursor=%21%21", "cursor=" + strings.Repeat("A", 1000)} {
		wantError(t, e.get(e.url("/keys?"+q)), http.StatusBadRequest, api.CodeKVInvalidListArgument)
	}
	// An expiration comes back as an absolute time.
	if _, err := e.svc.Put(t.Context(), e.ns, "exp", nil, nil, 4_000_000_000); err != nil {
		t.Fatal(err)
	}
	var got []json.RawMessage
	result(t, e.get(e.url("/keys?prefix=exp")), &got)
	if len(got) != 1 || string(got[0]) != `{"name":"exp","expiration":4000000000}` {
		t.Fatalf("keys = %s", got)
	}
}

func TestAfterSegments(t *testing.T) {
	for _, p := range []string{"", "a", "a/b", "a/b/", "a/b/c/d", "//", "a//b/c"} {
		want, wantOK := "", false
		if parts := strings.SplitN(p, "/", 3); len(parts) > 2 {
			want, wantOK = parts[2], true
		}
		if got, ok := afterSegments(p, 2); got != want || ok != wantOK {
			t.Errorf("afterSegments(%q, 2) = %q, %v; want %q, %v", p, got, ok, want, wantOK)
		}
	}
}
