package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/edgeplane/edgeplane/internal/testcluster"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binaries are built once per test binary run.
var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

func buildBinaries(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "edge-e2e-bin")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", binDir, "github.com/edgeplane/edgeplane/cmd/edged", "github.com/edgeplane/edgeplane/cmd/edgectl")
		cmd.Dir = "../.."
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

// proc is one edged process with fixed ports and data dir.
type proc struct {
	id, region string
	http, grpc string
	raft, gsp  string
	dir        string
	join       string
	extra      []string
	cmd        *exec.Cmd
	log        *lockedBuffer
}

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		p, err := testcluster.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = p
	}
	return ports
}

func newProc(t *testing.T, id, region, join string) *proc {
	ports := freePorts(t, 4)
	a := func(p int) string { return fmt.Sprintf("127.0.0.1:%d", p) }
	return &proc{id: id, region: region, http: a(ports[0]), grpc: a(ports[1]), raft: a(ports[2]), gsp: a(ports[3]),
		dir: filepath.Join(t.TempDir(), id), join: join}
}

const token = "e2e-admin-token"

func (p *proc) start(t *testing.T, bin string) {
	t.Helper()
	args := []string{"--node-id", p.id, "--region", p.region, "--data-dir", p.dir,
		"--http-addr", p.http, "--grpc-addr", p.grpc, "--raft-addr", p.raft, "--gossip-addr", p.gsp,
		"--admin-token", token, "--log-level", "warn"}
	if p.join != "" {
		args = append(args, "--join", p.join)
	}
	args = append(args, p.extra...)
	p.log = &lockedBuffer{}
	p.cmd = exec.Command(filepath.Join(bin, "edged"), args...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.kill() })
}

// kill sends SIGKILL (kill -9) and reaps the process.
func (p *proc) kill() {
	if p.cmd != nil && p.cmd.Process != nil && p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_ = p.cmd.Wait()
	}
}

func (p *proc) url() string { return "http://" + p.http }

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > timeout {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

// edgectl runs the CLI and returns stdout, stderr and the exit error.
func edgectl(bin string, args ...string) (string, string, error) {
	cmd := exec.Command(filepath.Join(bin, "edgectl"), args...)
	cmd.Env = append(os.Environ(), "EDGE_TOKEN="+token)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// member and status decode edgectl's JSON with the field names the issue's
// output contract documents, independently of pkg/wire, so a renamed field
// on the server side fails here.
type member struct {
	ID         string   `json:"id"`
	Region     string   `json:"region"`
	State      string   `json:"state"`
	Voter      bool     `json:"voter"`
	HTTPAddr   string   `json:"http_addr"`
	GRPCAddr   string   `json:"grpc_addr"`
	RaftAddr   string   `json:"raft_addr"`
	GossipAddr string   `json:"gossip_addr"`
	RTTMillis  *float64 `json:"rtt_ms"`
}

type status struct {
	NodeID    string `json:"node_id"`
	ClusterID string `json:"cluster_id"`
	Region    string `json:"region"`
	AccountID string `json:"account_id"`
	Raft      struct {
		State        string `json:"state"`
		LeaderID     string `json:"leader_id"`
		Term         uint64 `json:"term"`
		CommitIndex  uint64 `json:"commit_index"`
		AppliedIndex uint64 `json:"applied_index"`
		Voters       int    `json:"voters"`
	} `json:"raft"`
	CatalogVersion uint64 `json:"catalog_version"`
}

func members(bin, endpoint string) ([]member, error) {
	out, stderr, err := edgectl(bin, "--endpoint", endpoint, "members", "-o", "json")
	if err != nil {
		return nil, fmt.Errorf("edgectl members: %v: %s", err, stderr)
	}
	var ms []member
	if err := json.Unmarshal([]byte(out), &ms); err != nil {
		return nil, fmt.Errorf("members json: %v: %q", err, out)
	}
	return ms, nil
}

func nodeStatus(bin, endpoint string) (status, error) {
	var st status
	out, stderr, err := edgectl(bin, "--endpoint", endpoint, "status", "-o", "json")
	if err != nil {
		return st, fmt.Errorf("edgectl status: %v: %s", err, stderr)
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		return st, fmt.Errorf("status json: %v: %q", err, out)
	}
	return st, nil
}

func stateOf(ms []member, id string) string {
	for _, m := range ms {
		if m.ID == id {
			return m.State
		}
	}
	return ""
}

func httpDo(t *testing.T, method, url, tok string, body []byte) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&env)
	return resp, env
}

func joinHint(ps []*proc) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.id+"@"+p.http)
	}
	return strings.Join(s, " ")
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
