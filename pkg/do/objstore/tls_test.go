package objstore

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/edgeplane/edgeplane/pkg/router"
	"github.com/edgeplane/edgeplane/pkg/tlsutil"
	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

// nodeTLS issues a node certificate of the test CA in caDir.
func nodeTLS(t *testing.T, caDir, id string) *tlsutil.Reloader {
	t.Helper()
	dir := t.TempDir()
	iss, err := tlsutil.CreateCert(caDir, dir, tlsutil.CertRequest{Identity: tlsutil.NodeIdentity(id),
		IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, tlsutil.CACertFile)
	src, err := os.Open(filepath.Join(caDir, tlsutil.CACertFile))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(caFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	_ = dst.Close()
	r, err := tlsutil.NewReloader(caFile, iss.CertFile, iss.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestCallerMustOwnTheBallot: over mutual TLS, only members reach the
// replica, and a member may only use ballots of its own node id.
func TestCallerMustOwnTheBallot(t *testing.T) {
	caDir := filepath.Join(t.TempDir(), "ca")
	if _, err := tlsutil.CreateCA(caDir, tlsutil.CAOptions{}); err != nil {
		t.Fatal(err)
	}
	a, b, x := nodeTLS(t, caDir, "a"), nodeTLS(t, caDir, "b"), nodeTLS(t, caDir, "x")
	store := openTestStore(t, Options{})
	rep := NewReplicator(store, nil, "a")
	members := map[string]bool{"a": true, "b": true}
	opts := append(router.ServerOptions(), grpc.Creds(a.ServerCredentials()))
	srv := grpc.NewServer(append(opts, tlsutil.RequireMember(func(id string) bool { return members[id] })...)...)
	rep.RegisterGRPC(srv)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	call := func(as *tlsutil.Reloader, ballotNode string) error {
		conn, err := grpc.NewClient("passthrough:///"+lis.Addr().String(), grpc.WithTransportCredentials(as.ClientCredentials("a")))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err = edgev1.NewDOReplicaClient(conn).Prepare(ctx, &edgev1.DOPrepareRequest{Obj: testObj, Ballot: pb(5, ballotNode)})
		return err
	}
	if err := call(b, "b"); err != nil {
		t.Fatalf("member b with its own ballot: %v", err)
	}
	if err := call(b, "a"); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("member b with a's ballot: %v, want PermissionDenied", err)
	}
	if err := call(x, "x"); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("non-member x: %v, want PermissionDenied", err)
	}
	if m, _ := store.Meta(testObj); m.Promised != (Ballot{Counter: 5, Node: "b"}) {
		t.Fatalf("promise %s, want 5.b only", m.Promised)
	}
}
