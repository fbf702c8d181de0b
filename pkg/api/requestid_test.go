package api

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

var generatedID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestRequestIDEcho(t *testing.T) {
	env := newEnv(t, nil)
	r := request(http.MethodGet, "/healthz", "", nil)
	r.Header.Set(HeaderRequestID, "abc-123")
	w := env.serve(r)
	if got := w.Header().Get(HeaderRequestID); got != "abc-123" {
		t.Fatalf("X-Request-Id = %q", got)
	}
	if got := w.Header().Get(HeaderNode); got != testNode {
		t.Fatalf("X-Edge-Node = %q", got)
	}
	if !strings.Contains(env.log.String(), `"request_id":"abc-123"`) {
		t.Fatalf("access log lacks the request id: %s", env.log)
	}
}

func TestRequestIDFromCFRay(t *testing.T) {
	env := newEnv(t, nil)
	r := request(http.MethodGet, "/healthz", "", nil)
	r.Header.Set("cf-ray", "8f00aa-LHR")
	if got := env.serve(r).Header().Get(HeaderRequestID); got != "8f00aa-LHR" {
		t.Fatalf("X-Request-Id = %q", got)
	}
}

func TestRequestIDGenerated(t *testing.T) {
	env := newEnv(t, nil)
	bad := []string{"", "has space", strings.Repeat("a", 129), "tab\there", "ünï", "ctl\x01"}
	seen := map[string]bool{}
	for _, v := range bad {
		r := request(http.MethodGet, "/nope", "", nil)
		if v != "" {
			r.Header.Set(HeaderRequestID, v)
		}
		w := env.serve(r)
		got := w.Header().Get(HeaderRequestID)
		if !generatedID.MatchString(got) {
			t.Fatalf("for %q: X-Request-Id = %q, want 32 hex chars", v, got)
		}
		if seen[got] {
			t.Fatalf("request id %q repeated", got)
		}
		seen[got] = true
		if w.Header().Get(HeaderNode) != testNode {
			t.Fatal("404 lacks X-Edge-Node")
		}
	}
	// The longest sane id is kept.
	r := request(http.MethodGet, "/healthz", "", nil)
	r.Header.Set(HeaderRequestID, strings.Repeat("z", 128))
	if got := env.serve(r).Header().Get(HeaderRequestID); got != strings.Repeat("z", 128) {
		t.Fatalf("128-char id replaced by %q", got)
	}
}

func TestRequestIDOutsideServer(t *testing.T) {
	if got := RequestIDFrom(t.Context()); got != "" {
		t.Fatalf("RequestIDFrom(empty ctx) = %q", got)
	}
}

func FuzzRequestIDSanitizer(f *testing.F) {
	for _, s := range []string{"", "abc", "a b", strings.Repeat("x", 200), "\x00", "é", "~!@#"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r, err := http.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Header[HeaderRequestID] = []string{in}
		id := requestID(r)
		if !validHeaderToken(id) {
			t.Fatalf("requestID(%q) = %q, not a sane id", in, id)
		}
		if validHeaderToken(in) && id != in {
			t.Fatalf("sane id %q replaced by %q", in, id)
		}
		if !validHeaderToken(in) && !generatedID.MatchString(id) {
			t.Fatalf("insane id %q kept as %q", in, id)
		}
	})
}
