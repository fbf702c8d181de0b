package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"
)

// A remembered choice is reused while fresh and answering; a stale one,
// or one that no longer answers, is ranked again.
func TestRememberedEndpointChoice(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"node":"n"}`)) })
	a, b := httptest.NewServer(ok), httptest.NewServer(ok)
	defer a.Close()
	defer b.Close()
	dir := t.TempDir()
	eps := []string{a.URL, b.URL}
	pick := func() string {
		c, err := New(eps, "", WithChoiceFile(dir))
		if err != nil {
			t.Fatal(err)
		}
		ep, err := c.Select(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return ep
	}
	first := pick()
	other := b.URL
	if first == b.URL {
		other = a.URL
	}
	// Another process remembered the other endpoint: it is reused.
	path := choicePath(dir, eps)
	if err := os.WriteFile(path, []byte(other+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if got := pick(); got != other {
			t.Fatalf("picked %s, want the remembered %s", got, other)
		}
	}
	// Stale: ranked again (either may win; the file then names the winner).
	old := time.Now().Add(-2 * ChoiceTTL)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	got := pick()
	if b, _ := os.ReadFile(path); string(b) != got+"\n" {
		t.Fatalf("after a new ranking the file names %q, picked %s", b, got)
	}
	// Remembered but gone: ranked again among those that answer.
	gone := httptest.NewServer(ok)
	eps = []string{gone.URL, a.URL}
	path = choicePath(dir, eps)
	_ = os.WriteFile(path, []byte(gone.URL+"\n"), 0o600)
	gone.Close()
	if got := pick(); got != a.URL {
		t.Fatalf("picked %s, want %s (the remembered endpoint is down)", got, a.URL)
	}
}
