package api

import (
	"net/http"
	"strings"
	"testing"
)

func TestUnknownRoute404(t *testing.T) {
	env := newEnv(t, nil)
	for _, target := range []string{"/nope", "/client/v4/nope", "/client/v4/accounts/a/b/c/d"} {
		w := env.get(target)
		e := wantError(t, w, http.StatusNotFound, CodeNoRoute)
		if e.Errors[0].Message != "No route for that URI" {
			t.Errorf("message = %q", e.Errors[0].Message)
		}
		if w.Header().Get("x-should-retry") != "false" {
			t.Errorf("%s: 404 without x-should-retry: false", target)
		}
	}
}

func TestWrongMethod405(t *testing.T) {
	env := newEnv(t, nil)
	w := env.serve(request(http.MethodPut, "/client/v4/cluster/members", testAdmin, nil))
	e := wantError(t, w, http.StatusMethodNotAllowed, CodeMethodNotAllowed)
	if e.Errors[0].Message != "Method not allowed for this path" {
		t.Errorf("message = %q", e.Errors[0].Message)
	}
	if allow := w.Header().Get("Allow"); !strings.Contains(allow, "GET") {
		t.Errorf("Allow = %q", allow)
	}
	if w.Header().Get("x-should-retry") != "false" {
		t.Error("405 without x-should-retry: false")
	}
	// Unauthenticated probes of the public endpoints get 405 too.
	w = env.serve(request(http.MethodPost, "/healthz", "", nil))
	wantError(t, w, http.StatusMethodNotAllowed, CodeMethodNotAllowed)
}

func TestUnmatchedUnderClientV4NeedsAuth(t *testing.T) {
	env := newEnv(t, nil)
	w := env.serve(request(http.MethodGet, "/client/v4/nope", "", nil))
	wantError(t, w, http.StatusUnauthorized, CodeAuthentication)
	w = env.serve(request(http.MethodPut, "/client/v4/cluster/members", "wrong", nil))
	wantError(t, w, http.StatusUnauthorized, CodeAuthentication)
}

func TestMountServesBehindMiddleware(t *testing.T) {
	env := newEnv(t, nil)
	env.srv.Mount("GET /client/v4/accounts/{account_id}/storage/kv/namespaces", "kv", 0,
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			WriteResult(w, http.StatusOK, []string{r.PathValue("account_id"), RequestIDFrom(r.Context()), PrincipalFrom(r.Context())}, nil)
		}))
	r := request(http.MethodGet, "/client/v4/accounts/acc1/storage/kv/namespaces", testToken, nil)
	r.Header.Set(HeaderRequestID, "rid-1")
	w := env.serve(r)
	var got []string
	result(t, w, &got)
	if strings.Join(got, ",") != "acc1,rid-1,"+testTokenID {
		t.Fatalf("result = %v", got)
	}
	if w.Header().Get(HeaderNode) != testNode {
		t.Fatalf("X-Edge-Node = %q", w.Header().Get(HeaderNode))
	}
}

func TestMountConflictPanics(t *testing.T) {
	env := newEnv(t, nil)
	defer func() {
		if recover() == nil {
			t.Fatal("mounting a registered pattern again did not panic")
		}
	}()
	env.srv.Mount("GET /client/v4/cluster/members", "x", 0, http.NotFoundHandler())
}
