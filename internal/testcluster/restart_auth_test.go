package testcluster

import (
	"net/http"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
)

// A restarted node loads the catalog from its log only once a leader says
// what committed. Until then it cannot tell a token it has not loaded yet
// from a bad one, and must say "retry" (503, Retry-After), never 401 or
// 403: Cloudflare's clients take those as final (a revoked token), and the
// node's local admin token must not stand in for the cluster's.
func TestRestartedNodeAnswersRetryNotAuthErrorsUntilItsCatalogLoads(t *testing.T) {
	c := Start(t, Options{Nodes: 3})
	leader := c.WaitLeader(10 * time.Second)
	path := "/client/v4/accounts/" + leader.Node().AccountID() + "/storage/kv/namespaces"
	const bogus = "not-a-token-of-this-cluster"

	// A follower, killed and restarted while cut off: its log holds the
	// catalog, but no leader can tell it that those entries committed.
	fi := (c.Index(leader) + 1) % 3
	f := c.Member(fi)
	if code, _ := call(t, f, http.MethodGet, path, c.Token(), ""); code != http.StatusOK {
		t.Fatalf("before the restart: %d", code)
	}
	c.Kill(fi)
	c.Isolate(fi)
	c.Restart(fi)
	for _, tok := range []string{c.Token(), bogus} {
		code, env := call(t, f, http.MethodGet, path, tok, "")
		if code != http.StatusServiceUnavailable || len(env.Errors) != 1 || env.Errors[0].Code != api.CodeUnavailable {
			t.Fatalf("while the catalog loads: %d %+v, want 503 with code %d", code, env.Errors, api.CodeUnavailable)
		}
	}

	c.Heal()
	c.WaitFor("the restarted node serves the cluster's token", 15*time.Second, func() bool {
		code, _ := call(t, f, http.MethodGet, path, c.Token(), "")
		return code == http.StatusOK
	})
	if code, _ := call(t, f, http.MethodGet, path, bogus, ""); code != http.StatusUnauthorized {
		t.Fatalf("a bad token once the catalog loaded: %d, want 401", code)
	}
}
