package node_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/internal/testcluster"
	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/replication"
	"github.com/edgeplane/edgeplane/pkg/router"
	"github.com/edgeplane/edgeplane/pkg/service"
	"google.golang.org/grpc"
)

// probe is a service that exists only in this test: one route of each
// placement, each answering which node served it, and a replicated counter
// (a Raft state machine with a snapshot section) behind the leader route.
// It proves the seam before a real service depends on it.
type probe struct {
	deps  service.Deps
	total atomic.Uint64
}

const probeCommand = 100

func probeFactory() service.Factory {
	return service.Factory{Name: "probe", New: func(d service.Deps) (service.Service, error) {
		return &probe{deps: d}, nil
	}}
}

// probeAnswer is what every probe route answers.
type probeAnswer struct {
	Node          string `json:"node"`
	RequestID     string `json:"request_id"`
	ForwardedFrom string `json:"forwarded_from"`
	Total         uint64 `json:"total"`
}

func (p *probe) answer(w http.ResponseWriter, r *http.Request) {
	api.WriteResult(w, http.StatusOK, probeAnswer{
		Node: p.deps.NodeID, RequestID: api.RequestIDFrom(r.Context()),
		ForwardedFrom: r.Header.Get(api.HeaderForwardedFrom), Total: p.total.Load(),
	}, nil)
}

func (p *probe) Name() string { return "probe" }

func (p *probe) Routes() []service.Route {
	add := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.ParseUint(r.URL.Query().Get("n"), 10, 8)
		if err != nil {
			api.WriteFailure(w, r, api.BadRequest(api.CodeBadRequest, "n must be a small number"))
			return
		}
		cmd := replication.EncodeCommand(probeCommand, []byte{byte(n)})
		if _, err := p.deps.Propose(r.Context(), cmd); err != nil {
			api.WriteFailure(w, r, err)
			return
		}
		p.answer(w, r)
	})
	return []service.Route{
		{Pattern: "GET /client/v4/probe/here", Placement: router.Here(), Handler: http.HandlerFunc(p.answer)},
		{Pattern: "POST /client/v4/probe/leader", Placement: router.AtLeader(), Handler: add},
		{Pattern: "GET /client/v4/probe/owner/{key}", Placement: router.AtOwner(func(r *http.Request) (string, error) {
			if k := r.PathValue("key"); k != "bad" {
				return k, nil
			}
			return "", errors.New("bad key")
		}), Handler: http.HandlerFunc(p.answer)},
		{Pattern: "GET /client/v4/probe/nearest/{holder}", Placement: router.AtNearest(func(r *http.Request) ([]string, error) {
			return []string{r.PathValue("holder")}, nil
		}), Handler: http.HandlerFunc(p.answer)},
	}
}

func (p *probe) Resources() []service.ResourceKind { return nil }
func (p *probe) RegisterGRPC(*grpc.Server)         {}
func (p *probe) Run(ctx context.Context)           { <-ctx.Done() }
func (p *probe) Close() error                      { return nil }

// The probe's state machine: a counter of the bytes of every command.
func (p *probe) CommandType() uint8 { return probeCommand }
func (p *probe) ValidateCommand(b []byte, _ string) error {
	if len(b) != 1 {
		return fmt.Errorf("probe command of %d bytes", len(b))
	}
	return nil
}
func (p *probe) ApplyCommand(_ uint64, b []byte) ([]byte, error) {
	if err := p.ValidateCommand(b, ""); err != nil {
		return nil, err
	}
	return []byte(strconv.FormatUint(p.total.Add(uint64(b[0])), 10)), nil
}
func (p *probe) Snapshot(w io.Writer) error {
	return binary.Write(w, binary.BigEndian, p.total.Load())
}
func (p *probe) Restore(r io.Reader) error {
	var v uint64
	if err := binary.Read(r, binary.BigEndian, &v); err != nil {
		return err
	}
	p.total.Store(v)
	return nil
}

// call sends one request to member m and decodes the answer.
func call(t *testing.T, c *testcluster.Cluster, m *testcluster.Member, method, path string, hdr map[string]string) (probeAnswer, *http.Response) {
	t.Helper()
	req, err := http.NewRequest(method, m.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token())
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Success bool            `json:"success"`
		Result  json.RawMessage `json:"result"`
	}
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("%s %s: %v: %s", method, path, err, body)
	}
	var a probeAnswer
	if env.Success {
		if err := json.Unmarshal(env.Result, &a); err != nil {
			t.Fatal(err)
		}
	}
	return a, resp
}

func TestSeamServesEveryPlacementFromEveryNode(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3,
		Services: append(testcluster.FastServices(), probeFactory())})
	leader := c.WaitLeader(10 * time.Second)
	ids := []string{c.Member(0).ID, c.Member(1).ID, c.Member(2).ID}

	var want uint64
	for i, m := range c.Members() {
		// Here: the receiving node.
		a, resp := call(t, c, m, http.MethodGet, "/client/v4/probe/here", nil)
		if a.Node != m.ID || resp.Header.Get(router.HeaderServedBy) != m.ID || a.ForwardedFrom != "" {
			t.Fatalf("here via %s: served by %s (header %q, from %q)", m.ID, a.Node, resp.Header.Get(router.HeaderServedBy), a.ForwardedFrom)
		}

		// Leader: served by the leader, and the write is readable on the
		// receiving node as soon as the answer arrives.
		want += uint64(i + 1)
		a, resp = call(t, c, m, http.MethodPost, fmt.Sprintf("/client/v4/probe/leader?n=%d", i+1),
			map[string]string{"X-Request-Id": "req-leader-" + m.ID})
		if resp.StatusCode != http.StatusOK || a.Node != leader.ID || resp.Header.Get(router.HeaderServedBy) != leader.ID {
			t.Fatalf("leader via %s: status %d served by %s, want %s", m.ID, resp.StatusCode, a.Node, leader.ID)
		}
		if a.RequestID != "req-leader-"+m.ID {
			t.Fatalf("leader via %s: request id %q did not travel", m.ID, a.RequestID)
		}
		if m.ID != leader.ID && a.ForwardedFrom != m.ID {
			t.Fatalf("leader via %s: forwarded-from %q", m.ID, a.ForwardedFrom)
		}
		if got := m.Node().Service("probe").(*probe).total.Load(); got != want {
			t.Fatalf("after a leader write via %s, its own counter is %d, want %d", m.ID, got, want)
		}

		// Owner: the first node of the key's rendezvous order; a client's
		// forwarded-from header does not make a request look forwarded.
		for _, key := range []string{"alpha", "beta", "gamma", "delta"} {
			owner := router.Owner(key, ids)
			a, resp = call(t, c, m, http.MethodGet, "/client/v4/probe/owner/"+key,
				map[string]string{api.HeaderForwardedFrom: "forged"})
			if a.Node != owner || resp.Header.Get(router.HeaderServedBy) != owner {
				t.Fatalf("owner of %s via %s: served by %s, want %s", key, m.ID, a.Node, owner)
			}
			if owner != m.ID && a.ForwardedFrom != m.ID {
				t.Fatalf("owner of %s via %s: forwarded-from %q, want %s", key, m.ID, a.ForwardedFrom, m.ID)
			}
			if owner == m.ID && a.ForwardedFrom != "" {
				t.Fatalf("owner of %s via %s: a client's forged header reached the handler: %q", key, m.ID, a.ForwardedFrom)
			}
		}
		_, resp = call(t, c, m, http.MethodGet, "/client/v4/probe/owner/bad", nil)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("bad key via %s: status %d, want 400", m.ID, resp.StatusCode)
		}

		// Nearest: the only holder serves.
		for _, holder := range ids {
			a, _ = call(t, c, m, http.MethodGet, "/client/v4/probe/nearest/"+holder, nil)
			if a.Node != holder {
				t.Fatalf("nearest holder %s via %s: served by %s", holder, m.ID, a.Node)
			}
		}
		_, resp = call(t, c, m, http.MethodGet, "/client/v4/probe/nearest/nobody", nil)
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("no holder via %s: status %d, want 503", m.ID, resp.StatusCode)
		}
	}

	// Forwarding is counted where it happened.
	for _, m := range c.Members() {
		if m.ID == leader.ID {
			continue
		}
		if got := scrape(t, m, `edge_forwarded_requests_total{reason="leader",service="probe"}`); got != 1 {
			t.Errorf("%s forwarded %v leader requests, want 1", m.ID, got)
		}
	}

	// The counter is replicated, and survives a snapshot and a restart.
	for _, m := range c.Members() {
		if err := m.Node().Snapshot(); err != nil {
			t.Fatal(err)
		}
	}
	c.Stop(1)
	c.Restart(1)
	c.WaitReady(20 * time.Second)
	if got := c.Member(1).Node().Service("probe").(*probe).total.Load(); got != want {
		t.Fatalf("after restart the counter is %d, want %d", got, want)
	}
}

// TestSeamLeaderWritesUnderConcurrency sends leader-placed writes from
// every node at once: every acknowledged write is applied exactly once, on
// every node. A write answered 503 may or may not have been applied (the
// leader lost its leadership while committing it); none is applied twice.
func TestSeamLeaderWritesUnderConcurrency(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3,
		Services: append(testcluster.FastServices(), probeFactory())})
	var wg sync.WaitGroup
	var acked, unknown atomic.Uint64
	for _, m := range c.Members() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				switch _, resp := call(t, c, m, http.MethodPost, "/client/v4/probe/leader?n=1", nil); resp.StatusCode {
				case http.StatusOK:
					acked.Add(1)
				case http.StatusServiceUnavailable:
					unknown.Add(1)
				default:
					t.Errorf("write via %s: status %d", m.ID, resp.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("%d writes acknowledged, %d answered 503", acked.Load(), unknown.Load())
	totals := func() []uint64 {
		var out []uint64
		for _, m := range c.Members() {
			out = append(out, m.Node().Service("probe").(*probe).total.Load())
		}
		return out
	}
	c.WaitFor("every node applied every acknowledged write, and the same ones", 10*time.Second, func() bool {
		ts := totals()
		return ts[0] >= acked.Load() && ts[0] == ts[1] && ts[1] == ts[2]
	})
	if got := totals()[0]; got > acked.Load()+unknown.Load() {
		t.Fatalf("counter %d is above the %d writes sent: a write was applied twice", got, acked.Load()+unknown.Load())
	}
}

// scrape reads one sample from a node's /metrics.
func scrape(t *testing.T, m *testcluster.Member, series string) float64 {
	t.Helper()
	resp, err := http.Get(m.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}
