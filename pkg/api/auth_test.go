package api

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

func TestAuthRejects(t *testing.T) {
	env := newEnv(t, nil)
	var ran atomic.Int32
	env.srv.Mount("POST /client/v4/accounts/{account_id}/things", "things", 0,
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ran.Add(1)
			WriteResult(w, http.StatusOK, nil, nil)
		}))
	headers := map[string]string{
		"missing":        "",
		"bad token":      "Bearer nope",
		"wrong scheme":   "Basic " + testAdmin,
		"no token":       "Bearer ",
		"bare token":     testAdmin,
		"admin prefix":   "Bearer " + testAdmin[:len(testAdmin)-1],
		"admin extended": "Bearer " + testAdmin + "x",
		"too long":       "Bearer " + strings.Repeat("a", maxTokenLen+1),
	}
	for name, h := range headers {
		r := request(http.MethodPost, "/client/v4/accounts/a/things", "", strings.NewReader(`{}`))
		if h != "" {
			r.Header.Set("Authorization", h)
		}
		w := env.serve(r)
		e := wantError(t, w, http.StatusUnauthorized, CodeAuthentication)
		if e.Errors[0].Message != "Authentication error" {
			t.Errorf("%s: message %q", name, e.Errors[0].Message)
		}
		if w.Header().Get("x-should-retry") != "false" {
			t.Errorf("%s: 401 without x-should-retry: false", name)
		}
	}
	if n := ran.Load(); n != 0 {
		t.Fatalf("handler ran %d times for unauthenticated requests", n)
	}
}

func TestAuthAccepts(t *testing.T) {
	env := newEnv(t, nil)
	for _, tok := range []string{testAdmin, testToken} {
		w := env.serve(request(http.MethodGet, "/client/v4/cluster/status", tok, nil))
		result(t, w, nil)
	}
	// Scheme is case-insensitive.
	r := request(http.MethodGet, "/client/v4/cluster/status", "", nil)
	r.Header.Set("Authorization", "bearer "+testToken)
	result(t, env.serve(r), nil)
}

func TestEveryOwnClientV4RouteNeedsAuth(t *testing.T) {
	env := newEnv(t, nil)
	for _, target := range []string{
		"/client/v4/cluster/members", "/client/v4/cluster/status", "/client/v4/user",
		"/client/v4/user/tokens/verify", "/client/v4/accounts", "/client/v4/accounts/x",
		"/client/v4/memberships", "/client/v4/user/tokens", "/client/v4/user/tokens/t",
	} {
		w := env.serve(request(http.MethodGet, target, "", nil))
		wantError(t, w, http.StatusUnauthorized, CodeAuthentication)
	}
}

func TestNoAdminTokenConfigured(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.AdminToken = "" })
	var asked []string
	env.id.verify = func(tok string) (string, bool) { asked = append(asked, tok); return "", false }
	w := env.serve(request(http.MethodGet, "/client/v4/cluster/status", "", nil))
	wantError(t, w, http.StatusUnauthorized, CodeAuthentication)
	w = env.serve(request(http.MethodGet, "/client/v4/cluster/status", testAdmin, nil))
	wantError(t, w, http.StatusUnauthorized, CodeAuthentication)
	if len(asked) != 1 || asked[0] != testAdmin {
		t.Fatalf("VerifyToken calls = %q", asked)
	}
}

func TestPublicEndpointsNeedNoAuth(t *testing.T) {
	env := newEnv(t, nil)
	for _, target := range []string{"/healthz", "/readyz", "/metrics"} {
		w := env.serve(request(http.MethodGet, target, "", nil))
		if w.Code != http.StatusOK {
			t.Errorf("%s: status %d", target, w.Code)
		}
	}
}
