package testcluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/kv"
	"github.com/edgeplane/edgeplane/pkg/tlsutil"
	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
	"github.com/hashicorp/raft"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// api calls a member's public API with the admin token and decodes the
// Cloudflare envelope's result into out (nil: ignore).
func apiCall(t *testing.T, c *Cluster, m *Member, method, path string, body []byte, out any) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, m.URL()+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token())
	if body != nil && method != http.MethodPut {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("%s %s on %s: %v", method, path, m.ID, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s on %s: %d %s", method, path, m.ID, resp.StatusCode, b)
	}
	if out != nil {
		var env struct {
			Result json.RawMessage `json:"result"`
		}
		if err := json.Unmarshal(b, &env); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		if err := json.Unmarshal(env.Result, out); err != nil {
			t.Fatalf("decode result %s: %v", env.Result, err)
		}
	}
	return resp
}

// TestMutualTLSClusterFormsReplicatesAndForwards: three nodes with mutual
// TLS between them and HTTPS APIs elect a leader, a namespace created on a
// follower (a leader-placed write, forwarded over gRPC) exists everywhere,
// and a KV write on another follower replicates to every node.
func TestMutualTLSClusterFormsReplicatesAndForwards(t *testing.T) {
	c := Start(t, Options{Nodes: 3, TLS: true})
	leader := c.WaitLeader(10 * time.Second)
	if !strings.HasPrefix(leader.URL(), "https://") || !leader.Node().TLSEnabled() {
		t.Fatalf("leader %s: URL %s, TLS %v", leader.ID, leader.URL(), leader.Node().TLSEnabled())
	}
	f1 := c.Member((c.Index(leader) + 1) % 3)
	f2 := c.Member((c.Index(leader) + 2) % 3)
	account := f1.Node().AccountID()

	var ns struct {
		ID string `json:"id"`
	}
	resp := apiCall(t, c, f1, http.MethodPost, "/client/v4/accounts/"+account+"/storage/kv/namespaces",
		[]byte(`{"title":"over-mtls"}`), &ns)
	if got := resp.Header.Get("Edge-Served-By"); got != "" && got != leader.ID {
		t.Logf("served-by header %q (leader %s)", got, leader.ID)
	}
	if ns.ID == "" {
		t.Fatal("no namespace id")
	}
	// The catalog entry is on f1 when the create answers (read-your-writes
	// where it was asked); f2 applies it moments later.
	c.WaitFor("the namespace on "+f2.ID, 10*time.Second, func() bool {
		_, ok := f2.Node().Catalog().Resource(catalog.KindKVNamespace, account, ns.ID)
		return ok
	})
	apiCall(t, c, f2, http.MethodPut, "/client/v4/accounts/"+account+"/storage/kv/namespaces/"+ns.ID+"/values/greeting",
		[]byte("hello over TLS"), nil)
	c.WaitFor("the value on every node", 10*time.Second, func() bool {
		for _, m := range c.Up() {
			e, err := m.Node().Service("kv").(*kv.Module).Service().Get(context.Background(), ns.ID, "greeting")
			if err != nil || string(e.Value) != "hello over TLS" {
				return false
			}
		}
		return true
	})
	// Plain HTTP to an HTTPS API fails.
	if r, err := http.Get("http://" + leader.HTTPAddr() + "/healthz"); err == nil {
		r.Body.Close()
		if r.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP served by an HTTPS API")
		}
	}
}

// intruder is a TLS client configuration that presents cert (none when
// empty) and does not check the server, so that refusals seen are the
// server's.
func intruder(t *testing.T, certFile, keyFile string) *tls.Config {
	t.Helper()
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true} //nolint:gosec // the test checks the server's refusal
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg
}

// grpcCalls runs Info, Forward, Apply and a KV push against addr as the
// holder of creds, claiming origin, and returns each call's error.
func grpcCalls(t *testing.T, addr string, creds credentials.TransportCredentials, origin string) map[string]error {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	node := edgev1.NewNodeClient(conn)
	out := map[string]error{}
	_, out["info"] = node.Info(ctx, &edgev1.InfoRequest{})
	_, out["forward"] = node.Forward(ctx, &edgev1.ForwardRequest{Method: "GET", Path: "/client/v4/cluster/status", OriginNode: origin})
	_, out["apply"] = node.Apply(ctx, &edgev1.ApplyRequest{Command: []byte("{}"), OriginNode: origin})
	out["kv push"] = func() error {
		st, err := edgev1.NewKVClient(conn).Push(ctx)
		if err != nil {
			return err
		}
		if err := st.Send(&edgev1.PushBatch{Seq: 1, OriginNode: origin}); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		_, err = st.Recv()
		return err
	}()
	return out
}

// TestInternalRPCsRefuseNonMembers: a client without a certificate, with
// one from another CA, with a cluster certificate of a node that is not a
// member, or with a member's certificate claiming another origin cannot
// use the internal gRPC; the member itself can.
func TestInternalRPCsRefuseNonMembers(t *testing.T) {
	c := Start(t, Options{Nodes: 3, TLS: true})
	leader := c.WaitLeader(10 * time.Second)
	target := leader.GRPCAddr()
	caDir := c.CADir()

	otherCA := filepath.Join(t.TempDir(), "other")
	if _, err := tlsutil.CreateCA(otherCA, tlsutil.CAOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := tlsutil.CreateNodeCert(otherCA, "node-2", nil, nil, otherCA); err != nil {
		t.Fatal(err)
	}
	strangerDir := t.TempDir()
	if _, err := tlsutil.CreateNodeCert(caDir, "n9", nil, nil, strangerDir); err != nil {
		t.Fatal(err)
	}
	other := c.Member((c.Index(leader) + 1) % 3)
	third := c.Member((c.Index(leader) + 2) % 3)
	otherCert, otherKey := tlsutil.CertFiles(caDir, other.ID)
	foreignCert, foreignKey := tlsutil.CertFiles(otherCA, "node-2")
	strangerCert, strangerKey := tlsutil.CertFiles(strangerDir, "n9")

	// The member with its own id: allowed (Apply of a junk command fails
	// in validation, not authorization).
	ok := grpcCalls(t, target, credentials.NewTLS(intruder(t, otherCert, otherKey)), other.ID)
	if ok["info"] != nil || ok["forward"] != nil {
		t.Fatalf("member refused: %v", ok)
	}
	if code := status.Code(ok["apply"]); code == codes.PermissionDenied || code == codes.Unauthenticated {
		t.Fatalf("member's apply refused: %v", ok["apply"])
	}

	for _, tc := range []struct {
		name   string
		creds  credentials.TransportCredentials
		origin string
		codes  []codes.Code // acceptable refusals
		only   []string     // calls checked (all when empty)
	}{
		{"plaintext", insecure.NewCredentials(), "n9", []codes.Code{codes.Unavailable}, nil},
		{"no certificate", credentials.NewTLS(intruder(t, "", "")), "n9", []codes.Code{codes.Unavailable, codes.Unauthenticated}, nil},
		{"another CA", credentials.NewTLS(intruder(t, foreignCert, foreignKey)), "node-2", []codes.Code{codes.Unavailable, codes.Unauthenticated}, nil},
		{"cluster cert of a non-member", credentials.NewTLS(intruder(t, strangerCert, strangerKey)), "n9", []codes.Code{codes.PermissionDenied}, nil},
		{"member claiming another origin", credentials.NewTLS(intruder(t, otherCert, otherKey)), third.ID, []codes.Code{codes.PermissionDenied}, []string{"forward", "apply"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := grpcCalls(t, target, tc.creds, tc.origin)
			calls := tc.only
			if calls == nil {
				calls = []string{"info", "forward", "apply", "kv push"}
			}
			for _, call := range calls {
				err := got[call]
				if err == nil {
					t.Errorf("%s: accepted", call)
					continue
				}
				code := status.Code(err)
				found := false
				for _, want := range tc.codes {
					found = found || code == want
				}
				if !found {
					t.Errorf("%s: %v, want one of %v", call, err, tc.codes)
				}
			}
		})
	}
	if l := c.Leader(); l == nil || l.ID != leader.ID {
		t.Fatalf("leader changed")
	}
}

// intruderLayer is a Raft stream layer dialing with an intruder config.
type intruderLayer struct {
	net.Listener
	cfg *tls.Config // nil: plaintext
}

func (l *intruderLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	raw, err := net.DialTimeout("tcp", string(addr), timeout)
	if err != nil || l.cfg == nil {
		return raw, err
	}
	conn := tls.Client(raw, l.cfg)
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if err := conn.Handshake(); err != nil {
		raw.Close()
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	return conn, nil
}

// TestRaftRefusesNonMembers: Raft RPCs with a higher term from a client
// without a certificate, with another CA's certificate or with a cluster
// certificate of a non-member neither depose the leader nor commit.
func TestRaftRefusesNonMembers(t *testing.T) {
	c := Start(t, Options{Nodes: 3, TLS: true})
	leader := c.WaitLeader(10 * time.Second)
	before := leader.Node().Status().Raft
	caDir := c.CADir()

	otherCA := filepath.Join(t.TempDir(), "other")
	if _, err := tlsutil.CreateCA(otherCA, tlsutil.CAOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := tlsutil.CreateNodeCert(otherCA, "node-2", nil, nil, otherCA); err != nil {
		t.Fatal(err)
	}
	strangerDir := t.TempDir()
	if _, err := tlsutil.CreateNodeCert(caDir, "n9", nil, nil, strangerDir); err != nil {
		t.Fatal(err)
	}
	foreignCert, foreignKey := tlsutil.CertFiles(otherCA, "node-2")
	strangerCert, strangerKey := tlsutil.CertFiles(strangerDir, "n9")

	for _, tc := range []struct {
		name string
		cfg  *tls.Config
		id   string
	}{
		{"plaintext", nil, "n9"},
		{"no certificate", intruder(t, "", ""), "n9"},
		{"another CA", intruder(t, foreignCert, foreignKey), "node-2"},
		{"cluster cert of a non-member", intruder(t, strangerCert, strangerKey), "n9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			trans := raft.NewNetworkTransport(&intruderLayer{Listener: ln, cfg: tc.cfg}, 1, 2*time.Second, io.Discard)
			defer trans.Close()
			target := raft.ServerAddress(leader.RaftAddr())
			hdr := raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte(tc.id), Addr: []byte(ln.Addr().String())}
			term := before.Term + 100
			var vote raft.RequestVoteResponse
			if err := trans.RequestVote(raft.ServerID(leader.ID), target, &raft.RequestVoteRequest{
				RPCHeader: hdr, Term: term, LastLogIndex: before.CommitIndex + 100, LastLogTerm: term,
			}, &vote); err == nil {
				t.Errorf("request vote accepted: %+v", vote)
			}
			var app raft.AppendEntriesResponse
			if err := trans.AppendEntries(raft.ServerID(leader.ID), target, &raft.AppendEntriesRequest{
				RPCHeader: hdr, Term: term, PrevLogEntry: before.CommitIndex, PrevLogTerm: before.Term,
				Entries:           []*raft.Log{{Index: before.CommitIndex + 1, Term: term, Type: raft.LogCommand, Data: []byte("intruder")}},
				LeaderCommitIndex: before.CommitIndex + 1,
			}, &app); err == nil {
				t.Errorf("append entries accepted: %+v", app)
			}
		})
	}
	time.Sleep(time.Second)
	after := leader.Node().Status().Raft
	if l := c.Leader(); l == nil || l.ID != leader.ID || after.Term != before.Term {
		t.Fatalf("leader deposed: before %s term %d, after %v term %d", leader.ID, before.Term, l, after.Term)
	}
	t.Logf("leader %s kept term %d (commit %d -> %d)", leader.ID, after.Term, before.CommitIndex, after.CommitIndex)
}
