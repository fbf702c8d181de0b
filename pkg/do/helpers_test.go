package do_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/internal/testcluster"
	"github.com/edgeplane/edgeplane/pkg/do"
	"github.com/edgeplane/edgeplane/pkg/service"
)

// reply is one HTTP answer with its envelope.
type reply struct {
	status int
	header http.Header
	env    struct {
		Success bool `json:"success"`
		Errors  []struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
		Result json.RawMessage `json:"result"`
	}
}

func (r reply) code() int {
	if len(r.env.Errors) == 0 {
		return 0
	}
	return r.env.Errors[0].Code
}

// httpClient speaks to one cluster's HTTP API.
type httpClient struct {
	t  testing.TB
	c  *testcluster.Cluster
	hc *http.Client
}

func newClient(t testing.TB, c *testcluster.Cluster, timeout time.Duration) httpClient {
	hc := c.HTTPClient()
	hc.Timeout = timeout
	return httpClient{t: t, c: c, hc: hc}
}

func (cl httpClient) do(m *testcluster.Member, method, path string, body any) (reply, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return reply{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, m.URL()+path, rd)
	if err != nil {
		return reply{}, err
	}
	req.Header.Set("Authorization", "Bearer "+cl.c.Token())
	req.Header.Set("Content-Type", "application/json")
	resp, err := cl.hc.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	var r reply
	r.status, r.header = resp.StatusCode, resp.Header
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &r.env); err != nil {
		return r, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return r, nil
}

// must sends a request, retrying 502, 503 and 504 (safe for idempotent requests only)
// for up to 20 s, and fails the test unless it succeeds.
func (cl httpClient) must(m *testcluster.Member, method, path string, body any, out any) reply {
	cl.t.Helper()
	return cl.mustWithin(20*time.Second, m, method, path, body, out)
}

// mustWithin is must retrying for up to d.
func (cl httpClient) mustWithin(d time.Duration, m *testcluster.Member, method, path string, body any, out any) reply {
	cl.t.Helper()
	r, err := cl.do(m, method, path, body)
	for deadline := time.Now().Add(d); (err != nil || retryable(r.status)) && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		r, err = cl.do(m, method, path, body)
	}
	if err != nil {
		cl.t.Fatal(err)
	}
	if r.status != http.StatusOK || !r.env.Success {
		cl.t.Fatalf("%s %s via %s: %d %+v", method, path, m.ID, r.status, r.env.Errors)
	}
	if out != nil {
		if err := json.Unmarshal(r.env.Result, out); err != nil {
			cl.t.Fatal(err)
		}
	}
	return r
}

// retryable: the cluster could not serve the request now (no owner yet,
// owner unreachable or slow); an idempotent request may be sent again.
func retryable(status int) bool {
	return status == http.StatusServiceUnavailable || status == http.StatusBadGateway || status == http.StatusGatewayTimeout
}

// expect sends a request once and checks its status and first error code.
func (cl httpClient) expect(m *testcluster.Member, method, path string, body any, status, code int) reply {
	cl.t.Helper()
	r, err := cl.do(m, method, path, body)
	if err != nil {
		cl.t.Fatal(err)
	}
	if r.status != status || (code != 0 && r.code() != code) {
		cl.t.Fatalf("%s %s: got %d %+v, want %d code %d", method, path, r.status, r.env.Errors, status, code)
	}
	return r
}

func module(m *testcluster.Member) *do.Module { return m.Node().Service("do").(*do.Module) }

func accountID(t testing.TB, c *testcluster.Cluster) string {
	t.Helper()
	id := c.Member(0).Node().AccountID()
	if id == "" {
		t.Fatal("no account")
	}
	return id
}

// serveLog records every acknowledged request of every node.
type serveLog struct {
	mu   sync.Mutex
	recs []do.ServeRecord
}

func (l *serveLog) record(r do.ServeRecord) {
	l.mu.Lock()
	l.recs = append(l.recs, r)
	l.mu.Unlock()
}

func (l *serveLog) all() []do.ServeRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]do.ServeRecord(nil), l.recs...)
}

// services returns the node services of a DO test cluster: only DO, to
// spare the CPU.
func services(opts do.Options) []service.Factory { return []service.Factory{do.Factory(opts)} }

// cluster starts n nodes running DO and creates a namespace; it returns the
// namespace's base path.
func cluster(t *testing.T, n int, opts do.Options, nsAttrs map[string]string) (*testcluster.Cluster, httpClient, string) {
	t.Helper()
	c := testcluster.Start(t, testcluster.Options{Nodes: n, Voters: min(n, 5), Services: services(opts)})
	cl := newClient(t, c, 20*time.Second)
	base := "/client/v4/accounts/" + accountID(t, c) + "/durable_objects/namespaces"
	body := map[string]string{"name": "ns-" + t.Name()}
	for k, v := range nsAttrs {
		body[k] = v
	}
	var ns do.Namespace
	cl.must(c.Member(0), http.MethodPost, base, body, &ns)
	waitLeases(t, c, cl, base+"/"+ns.ID, 45*time.Second)
	return c, cl, base + "/" + ns.ID
}

// waitLeases waits until every up node knows namespace ns and holds a
// valid lease; on timeout it names the nodes that do not.
func waitLeases(t *testing.T, c *testcluster.Cluster, cl httpClient, ns string, timeout time.Duration) {
	t.Helper()
	var missing []string
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		missing = missing[:0]
		for _, m := range c.Up() {
			if r, err := cl.do(m, http.MethodGet, ns, nil); err != nil || r.status != http.StatusOK {
				missing = append(missing, m.ID+": namespace unknown")
			} else if st := module(m).Lease(); !st.Valid(time.Now()) {
				missing = append(missing, fmt.Sprintf("%s: lease %+v", m.ID, st))
			}
		}
		if len(missing) == 0 {
			return
		}
	}
	t.Fatalf("after %v, not every node knows the namespace and holds a lease: %v", timeout, missing)
}

// metric sums the samples of a series on node m's /metrics whose line
// starts with prefix (a name, or a name and the first labels).
func (cl httpClient) metric(m *testcluster.Member, prefix string) float64 {
	cl.t.Helper()
	resp, err := cl.hc.Get(m.URL() + "/metrics")
	if err != nil {
		cl.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var sum float64
	found := false
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		rest := line[len(prefix):]
		if rest == "" || (rest[0] != ' ' && rest[0] != '{' && rest[0] != ',' && rest[0] != '}') {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(line[strings.LastIndex(line, " ")+1:], &v); err == nil {
			sum += v
			found = true
		}
	}
	if !found {
		cl.t.Fatalf("%s: no series %s", m.ID, prefix)
	}
	return sum
}
