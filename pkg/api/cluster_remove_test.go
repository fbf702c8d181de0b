package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

// removingCluster is a fakeCluster that can remove members.
type removingCluster struct {
	*fakeCluster
	calls []string
}

func (r *removingCluster) RemoveMember(_ context.Context, id string, force bool) (wire.MemberRemoval, error) {
	r.calls = append(r.calls, fmt.Sprintf("%s force=%v", id, force))
	switch {
	case id == "live" && !force:
		return wire.MemberRemoval{}, &HTTPError{Status: http.StatusConflict, Code: CodeConflict, Message: "live", Err: ErrConflict}
	case id == "nope":
		return wire.MemberRemoval{}, fmt.Errorf("%w: nope", ErrNotFound)
	}
	return wire.MemberRemoval{ID: id, WasVoter: true, RaftIndex: 9}, nil
}

func TestClusterRemoveMember(t *testing.T) {
	env := newEnv(t, nil)
	// A cluster that cannot remove members answers 501.
	if w := env.serve(request(http.MethodDelete, "/client/v4/cluster/members/x", testAdmin, nil)); w.Code != http.StatusNotImplemented {
		t.Fatalf("without a remover: %d %s", w.Code, w.Body)
	}
	rc := &removingCluster{fakeCluster: env.cl}
	reg := prometheus.NewRegistry()
	srv, err := New(env.srv.cfg, rc, env.id, reg, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	do := func(target, token string) int {
		w := httptestServe(srv, request(http.MethodDelete, target, token, nil))
		return w.Code
	}
	if c := do("/client/v4/cluster/members/dead", ""); c != http.StatusUnauthorized && c != http.StatusForbidden {
		t.Fatalf("no token: %d", c)
	}
	if c := do("/client/v4/cluster/members/dead", testAdmin); c != http.StatusOK {
		t.Fatalf("dead: %d", c)
	}
	if c := do("/client/v4/cluster/members/live", testAdmin); c != http.StatusConflict {
		t.Fatalf("live: %d", c)
	}
	if c := do("/client/v4/cluster/members/live?force=true", testAdmin); c != http.StatusOK {
		t.Fatalf("live forced: %d", c)
	}
	if c := do("/client/v4/cluster/members/nope", testAdmin); c != http.StatusNotFound {
		t.Fatalf("unknown: %d", c)
	}
	if c := do("/client/v4/cluster/members/x?force=maybe", testAdmin); c != http.StatusBadRequest {
		t.Fatalf("bad force: %d", c)
	}
	want := []string{"dead force=false", "live force=false", "live force=true", "nope force=false"}
	if fmt.Sprint(rc.calls) != fmt.Sprint(want) {
		t.Fatalf("calls %v, want %v", rc.calls, want)
	}
}

func httptestServe(s *Server, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	return w
}
