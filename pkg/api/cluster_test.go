package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

func TestClusterMembers(t *testing.T) {
	env := newEnv(t, nil)
	w := env.get("/client/v4/cluster/members")
	if !strings.Contains(w.Body.String(), `"result":[]`) {
		t.Fatalf("no members is not []: %s", w.Body)
	}
	env.cl.members = func() []wire.Member {
		return []wire.Member{{ID: "a", Region: "eu", State: wire.StateAlive, Self: true}, {ID: "b", State: wire.StateSuspect}}
	}
	var ms []wire.Member
	result(t, env.get("/client/v4/cluster/members"), &ms)
	if len(ms) != 2 || ms[0].ID != "a" || !ms[0].Self || ms[1].State != wire.StateSuspect {
		t.Fatalf("members = %+v", ms)
	}
}

func TestClusterStatus(t *testing.T) {
	env := newEnv(t, nil)
	env.cl.status = func() wire.Status {
		return wire.Status{NodeID: "a", Raft: wire.RaftStatus{State: wire.RaftLeader, Term: 7}}
	}
	var st wire.Status
	result(t, env.get("/client/v4/cluster/status"), &st)
	if st.NodeID != "a" || st.Raft.State != wire.RaftLeader || st.Raft.Term != 7 {
		t.Fatalf("status = %+v", st)
	}
}

func TestHealthz(t *testing.T) {
	env := newEnv(t, nil)
	env.cl.ready = func() error { return errors.New("no leader") } // healthz ignores readiness
	w := env.serve(request(http.MethodGet, "/healthz", "", nil))
	var h HealthStatus
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &h) != nil || h.Status != "ok" || h.NodeID != testNode {
		t.Fatalf("healthz = %d %s", w.Code, w.Body)
	}
}

func TestReadyz(t *testing.T) {
	env := newEnv(t, nil)
	var reason error = errors.New("no raft leader known")
	env.cl.ready = func() error { return reason }
	w := env.serve(request(http.MethodGet, "/readyz", "", nil))
	var h HealthStatus
	if w.Code != http.StatusServiceUnavailable || json.Unmarshal(w.Body.Bytes(), &h) != nil ||
		h.Reason != "no raft leader known" || h.Status != "unavailable" {
		t.Fatalf("not ready: %d %s", w.Code, w.Body)
	}
	reason = nil
	w = env.serve(request(http.MethodGet, "/readyz", "", nil))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"status":"ready"`) {
		t.Fatalf("ready: %d %s", w.Code, w.Body)
	}
}

func TestAccessLogLine(t *testing.T) {
	env := newEnv(t, nil)
	r := request(http.MethodGet, "/client/v4/cluster/status", testAdmin, nil)
	r.Header.Set(HeaderRequestID, "log-rid")
	env.serve(r)
	var line map[string]any
	for _, l := range strings.Split(strings.TrimSpace(env.log.String()), "\n") {
		if strings.Contains(l, "log-rid") {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[string]any{
		"component": "http", "request_id": "log-rid", "method": "GET", "path": "/client/v4/cluster/status",
		"status": float64(200), "service": "cluster", "operation": "GET /client/v4/cluster/status",
	}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("log %s = %v, want %v (line %v)", k, line[k], v, line)
		}
	}
	for _, k := range []string{"bytes", "duration"} {
		if _, ok := line[k]; !ok {
			t.Errorf("log lacks %s", k)
		}
	}
}

// TestAccessLogLevels: without AccessLog, a successful request is a debug
// line and a 5xx an error line; with it, the success is an info line.
func TestAccessLogLevels(t *testing.T) {
	levelOf := func(env *testEnv, rid string) string {
		for _, l := range strings.Split(strings.TrimSpace(env.log.String()), "\n") {
			var line map[string]any
			if json.Unmarshal([]byte(l), &line) == nil && line["request_id"] == rid {
				return fmt.Sprint(line["level"])
			}
		}
		return ""
	}
	for _, tc := range []struct {
		accessLog bool
		want      string
	}{{false, "DEBUG"}, {true, "INFO"}} {
		env := newEnv(t, func(c *Config) { c.AccessLog = tc.accessLog })
		r := request(http.MethodGet, "/client/v4/cluster/status", testAdmin, nil)
		r.Header.Set(HeaderRequestID, "ok-rid")
		env.serve(r)
		if got := levelOf(env, "ok-rid"); got != tc.want {
			t.Errorf("AccessLog=%v: 200 logged at %q, want %q", tc.accessLog, got, tc.want)
		}
	}
}
