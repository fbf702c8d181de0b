package kv

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func listKeys(t *testing.T, s *Store, prefix, after string, limit int, now time.Time) ([]string, bool) {
	t.Helper()
	es, more, err := s.List("ns", prefix, after, limit, now)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range es {
		if e.Value != nil {
			t.Fatalf("List returned a value for %q", e.Key)
		}
		keys = append(keys, e.Key)
	}
	return keys, more
}

func TestStoreListSortsByBytesAndPages(t *testing.T) {
	s := openTestStore(t, t.TempDir())
	now := time.Unix(1000, 0)
	keys := []string{"a", "a/b", "a/c", "a\xff", "a\xff\xff", "ab", "b", "é", "日本", "\xff", "\xff\xff"}
	for _, k := range keys {
		mustApply(t, s, put("ns", k, "v", ver(1, "n")))
	}
	mustApply(t, s, put("ns2", "a/z", "v", ver(1, "n")), put("n", "sa", "v", ver(1, "n")))
	want := slices.Clone(keys)
	slices.Sort(want) // Go compares strings by bytes
	got, more := listKeys(t, s, "", "", 1000, now)
	if !slices.Equal(got, want) || more {
		t.Fatalf("all: %q more=%v", got, more)
	}
	// Page through with every limit: the pages concatenate to the whole.
	for limit := 1; limit <= len(keys)+1; limit++ {
		var all []string
		after := ""
		for range len(keys) + 2 {
			page, more := listKeys(t, s, "", after, limit, now)
			all = append(all, page...)
			if !more {
				break
			}
			if len(page) != limit {
				t.Fatalf("limit %d: short page %q with more", limit, page)
			}
			after = page[len(page)-1]
		}
		if !slices.Equal(all, want) {
			t.Fatalf("limit %d: paged %q", limit, all)
		}
	}
	cases := []struct {
		prefix, after string
		limit         int
		want          []string
		more          bool
	}{
		{"a/", "", 10, []string{"a/b", "a/c"}, false},
		{"a/", "", 1, []string{"a/b"}, true},
		{"a/", "a/b", 1, []string{"a/c"}, false},
		{"a/", "a/c", 10, nil, false},
		{"a/", "0", 10, []string{"a/b", "a/c"}, false}, // startAfter before the prefix
		{"a/", "b", 10, nil, false},                    // startAfter past the prefix
		{"a", "a/", 2, []string{"a/b", "a/c"}, true},
		{"a\xff", "", 10, []string{"a\xff", "a\xff\xff"}, false},
		{"\xff", "", 10, []string{"\xff", "\xff\xff"}, false},
		{"\xff", "\xff", 10, []string{"\xff\xff"}, false},
		{"日", "", 10, []string{"日本"}, false},
		{"zz", "", 10, nil, false},
	}
	for _, c := range cases {
		got, more := listKeys(t, s, c.prefix, c.after, c.limit, now)
		if !slices.Equal(got, c.want) || more != c.more {
			t.Errorf("prefix %q after %q limit %d: %q more=%v, want %q more=%v", c.prefix, c.after, c.limit, got, more, c.want, c.more)
		}
	}
	if _, _, err := s.List("ns", "", "", 0, now); err == nil {
		t.Fatal("limit 0 accepted")
	}
}

func TestStoreExpiredAndDeletedAreInvisibleToListButRawToGet(t *testing.T) {
	s := openTestStore(t, t.TempDir())
	now := time.Unix(1000, 0)
	mustApply(t, s,
		Entry{Namespace: "ns", Key: "exp", Value: []byte("x"), Expiration: 1000, Version: ver(1, "n")},
		Entry{Namespace: "ns", Key: "live", Value: []byte("x"), Expiration: 1001, Version: ver(1, "n")},
		Entry{Namespace: "ns", Key: "tomb", Version: ver(1, "n"), Tombstone: true},
	)
	got, more := listKeys(t, s, "", "", 10, now)
	if !slices.Equal(got, []string{"live"}) || more {
		t.Fatalf("list %q", got)
	}
	// more must ignore invisible entries after the page.
	if got, more := listKeys(t, s, "", "", 1, now); !slices.Equal(got, []string{"live"}) || more {
		t.Fatalf("limit 1: %q more=%v", got, more)
	}
	e, ok, _ := s.Get("ns", "exp")
	if !ok || string(e.Value) != "x" || e.Live(now) {
		t.Fatalf("raw expired entry: %+v %v", e, ok)
	}
	if e, ok, _ := s.Get("ns", "tomb"); !ok || !e.Tombstone {
		t.Fatal("tombstone not returned raw")
	}
	many, err := s.GetMany("ns", []string{"tomb", "nope", "exp"})
	if err != nil || len(many) != 2 || many[0].Key != "tomb" || many[1].Key != "exp" {
		t.Fatalf("GetMany %+v %v", many, err)
	}
}

func TestStoreDropNamespace(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, dir)
	for i := range 50 {
		mustApply(t, s, put("a", fmt.Sprint(i), "v", ver(1, "n")), put("ab", fmt.Sprint(i), "v", ver(1, "n")))
	}
	if err := s.DropNamespace("a"); err != nil {
		t.Fatal(err)
	}
	if got := dump(t, s, "a"); len(got) != 0 || s.Count("a") != 0 {
		t.Fatalf("%d entries left", len(got))
	}
	if d, _ := s.Digest("a"); slices.ContainsFunc(d, func(x uint64) bool { return x != 0 }) {
		t.Fatal("digest not reset")
	}
	if len(dump(t, s, "ab")) != 50 || s.Count("ab") != 50 {
		t.Fatal("a neighbouring namespace lost entries")
	}
	if ns, _ := s.Namespaces(); !slices.Equal(ns, []string{"ab"}) {
		t.Fatalf("namespaces %q", ns)
	}
	_ = s.Close()
	s = openTestStore(t, dir)
	if len(dump(t, s, "a")) != 0 || s.Count("ab") != 50 {
		t.Fatal("drop not durable")
	}
}
