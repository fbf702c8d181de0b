package tlsutil

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// members is a concurrency-safe member set for RequireMember.
type members struct {
	mu  sync.Mutex
	ids map[string]bool
}

func (m *members) has(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ids[id]
}

func (m *members) set(id string, in bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ids[id] = in
}

// grpcServer serves the health service over TLS from srv on 127.0.0.1
// behind RequireMember; callers records what CallerNodeID saw.
func grpcServer(t *testing.T, srv *Reloader, m *members) (addr string, callers *[]string) {
	t.Helper()
	var mu sync.Mutex
	var seen []string
	record := func(ctx context.Context) {
		id, _ := CallerNodeID(ctx)
		mu.Lock()
		seen = append(seen, id)
		mu.Unlock()
	}
	opts := append([]grpc.ServerOption{grpc.Creds(srv.ServerCredentials())}, RequireMember(m.has)...)
	opts = append(opts,
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			record(ctx)
			return h(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(s any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			record(ss.Context())
			return h(s, ss)
		}),
	)
	gs := grpc.NewServer(opts...)
	healthpb.RegisterHealthServer(gs, health.NewServer())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = gs.Serve(ln) }()
	t.Cleanup(gs.Stop)
	return ln.Addr().String(), &seen
}

func healthCall(t *testing.T, addr string, creds credentials.TransportCredentials) error {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	return err
}

func healthWatch(t *testing.T, addr string, creds credentials.TransportCredentials) error {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := healthpb.NewHealthClient(conn).Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return err
	}
	_, err = st.Recv()
	return err
}

func TestGRPCRequireMember(t *testing.T) {
	p := newPKI(t)
	a, b, c := p.node(t, "a"), p.node(t, "b"), p.node(t, "c")
	m := &members{ids: map[string]bool{"a": true, "b": true}}
	addr, seen := grpcServer(t, a, m)

	if err := healthCall(t, addr, b.ClientCredentials("a")); err != nil {
		t.Fatalf("member b: %v", err)
	}
	if err := healthWatch(t, addr, b.ClientCredentials("a")); err != nil {
		t.Fatalf("member b stream: %v", err)
	}
	if got := *seen; len(got) != 2 || got[0] != "b" || got[1] != "b" {
		t.Fatalf("CallerNodeID saw %v, want [b b]", got)
	}

	// c holds a cluster certificate but is not a member.
	if err := healthCall(t, addr, c.ClientCredentials("a")); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("non-member c unary: %v, want PermissionDenied", err)
	}
	if err := healthWatch(t, addr, c.ClientCredentials("a")); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("non-member c stream: %v, want PermissionDenied", err)
	}
	// Membership is asked per call: c joins, then b leaves.
	m.set("c", true)
	m.set("b", false)
	if err := healthCall(t, addr, c.ClientCredentials("a")); err != nil {
		t.Fatalf("c after joining: %v", err)
	}
	if err := healthCall(t, addr, b.ClientCredentials("a")); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("b after leaving: %v, want PermissionDenied", err)
	}

	// An operator client certificate is from the CA but is not a node.
	ops := p.reloader(t, CertRequest{Identity: ClientIdentity("ops")})
	if err := healthCall(t, addr, ops.ClientCredentials("a")); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("operator client: %v, want PermissionDenied", err)
	}

	// No client certificate, and a certificate from another CA, fail the
	// handshake: the call never reaches the server.
	ca, _, err := LoadCA(p.caDir)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	noCert := credentials.NewTLS(&tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS13})
	if err := healthCall(t, addr, noCert); status.Code(err) != codes.Unavailable {
		t.Fatalf("no client certificate: %v, want Unavailable", err)
	}
	evil := newPKI(t).node(t, "b")
	if err := healthCall(t, addr, evil.ClientCredentials("")); status.Code(err) != codes.Unavailable {
		t.Fatalf("foreign CA: %v, want Unavailable", err)
	}
	// Dialing the wrong node fails on the client side.
	if err := healthCall(t, addr, c.ClientCredentials("b")); status.Code(err) != codes.Unavailable {
		t.Fatalf("wrong expected node: %v, want Unavailable", err)
	}
}

func TestGRPCInterceptorWithoutTLS(t *testing.T) {
	// A server built without transport credentials: every call is refused
	// as unauthenticated rather than let through.
	gs := grpc.NewServer(RequireMember(func(string) bool { return true })...)
	healthpb.RegisterHealthServer(gs, health.NewServer())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = gs.Serve(ln) }()
	defer gs.Stop()
	err = healthCall(t, ln.Addr().String(), insecureCreds())
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("plaintext call: %v, want Unauthenticated", err)
	}
}

func TestCallerNodeIDWithoutPeer(t *testing.T) {
	if id, ok := CallerNodeID(context.Background()); ok || id != "" {
		t.Fatalf("CallerNodeID = %q, %v", id, ok)
	}
	if _, err := authorize(context.Background(), func(string) bool { return true }); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("authorize without peer: %v", err)
	}
}
