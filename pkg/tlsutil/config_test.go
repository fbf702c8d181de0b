package tlsutil

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHandshakeClusterCerts(t *testing.T) {
	p := newPKI(t)
	a, b := p.node(t, "a"), p.node(t, "b")
	srv, srvErr, cli, cliErr := handshake(t, a.ServerConfig(), b.ClientConfig("a"))
	if srvErr != nil || cliErr != nil {
		t.Fatalf("server %v, client %v", srvErr, cliErr)
	}
	if srv.Version != tls.VersionTLS13 || cli.Version != tls.VersionTLS13 {
		t.Fatalf("versions %x %x, want TLS 1.3", srv.Version, cli.Version)
	}
	id, err := PeerIdentity(srv)
	if err != nil || id != NodeIdentity("b") {
		t.Fatalf("server sees %v, %v; want node b", id, err)
	}
	if len(cli.PeerCertificates) == 0 || cli.PeerCertificates[0].SerialNumber.Cmp(a.Leaf().SerialNumber) != 0 {
		t.Fatal("client did not see a's certificate")
	}
	// Any node will do when none is expected.
	if _, srvErr, _, cliErr := handshake(t, a.ServerConfig(), b.ClientConfig("")); srvErr != nil || cliErr != nil {
		t.Fatalf("no expected id: server %v, client %v", srvErr, cliErr)
	}
}

func TestHandshakeWithoutClientCert(t *testing.T) {
	p := newPKI(t)
	a := p.node(t, "a")
	ca, _, err := LoadCA(p.caDir)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	// The client trusts the CA but has no certificate of its own.
	_, srvErr, _, cliErr := handshake(t, a.ServerConfig(), &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS13})
	if srvErr == nil || cliErr == nil {
		t.Fatalf("handshake without a client certificate: server %v, client %v", srvErr, cliErr)
	}
	if !strings.Contains(srvErr.Error(), "certificate") {
		t.Fatalf("server error %v", srvErr)
	}
}

func TestHandshakeForeignCA(t *testing.T) {
	p, evil := newPKI(t), newPKI(t)
	a, mallory := p.node(t, "a"), evil.node(t, "b") // mallory claims a member's id
	t.Run("client from another CA", func(t *testing.T) {
		_, srvErr, _, cliErr := handshake(t, a.ServerConfig(), mallory.ClientConfig(""))
		if srvErr == nil {
			t.Fatal("server accepted a client certificate from another CA")
		}
		_ = cliErr // mallory also refuses a's certificate
	})
	t.Run("server from another CA", func(t *testing.T) {
		_, _, _, cliErr := handshake(t, mallory.ServerConfig(), a.ClientConfig("b"))
		if cliErr == nil || !strings.Contains(cliErr.Error(), "not from the cluster CA") {
			t.Fatalf("client accepted a server from another CA: %v", cliErr)
		}
	})
}

func TestHandshakeWrongNodeID(t *testing.T) {
	p := newPKI(t)
	a, b := p.node(t, "a"), p.node(t, "b")
	_, _, _, cliErr := handshake(t, a.ServerConfig(), b.ClientConfig("c"))
	if cliErr == nil || !strings.Contains(cliErr.Error(), `want node "c"`) {
		t.Fatalf("client accepted node a when expecting c: %v", cliErr)
	}
}

func TestHandshakeClientIdentity(t *testing.T) {
	p := newPKI(t)
	a := p.node(t, "a")
	ops := p.reloader(t, CertRequest{Identity: ClientIdentity("ops")})
	// ServerConfig admits operator clients (RequireMember narrows that)...
	srv, srvErr, _, cliErr := handshake(t, a.ServerConfig(), ops.ClientConfig("a"))
	if srvErr != nil || cliErr != nil {
		t.Fatalf("server %v, client %v", srvErr, cliErr)
	}
	if id, _ := PeerIdentity(srv); id != ClientIdentity("ops") {
		t.Fatalf("peer %v", id)
	}
	// ...the nodes-only config (Raft) does not.
	if _, srvErr, _, _ := handshake(t, a.serverConfig(true), ops.ClientConfig("a")); srvErr == nil {
		t.Fatal("nodes-only server accepted a client identity")
	}
	// A client certificate cannot serve.
	if _, _, _, cliErr := handshake(t, ops.HTTPServerConfig(), a.ClientConfig("")); cliErr == nil {
		t.Fatal("client accepted a server presenting a client-only certificate")
	}
}

func TestHTTPServerConfig(t *testing.T) {
	p := newPKI(t)
	a := p.node(t, "a")
	ca, _, err := LoadCA(p.caDir)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	// An ordinary HTTPS client: checks the host name (the 127.0.0.1 SAN),
	// presents no certificate.
	_, srvErr, cli, cliErr := handshake(t, a.HTTPServerConfig(), &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
	if srvErr != nil || cliErr != nil {
		t.Fatalf("server %v, client %v", srvErr, cliErr)
	}
	if len(cli.VerifiedChains) == 0 {
		t.Fatal("client did not verify the server")
	}
}

func TestReloadSwapsCertificate(t *testing.T) {
	p := newPKI(t)
	a, b := p.node(t, "a"), p.node(t, "b")
	oldSerial := a.Leaf().SerialNumber
	_, _, cli, err := handshake(t, a.ServerConfig(), b.ClientConfig("a"))
	if err != nil || cli.PeerCertificates[0].SerialNumber.Cmp(oldSerial) != 0 {
		t.Fatalf("first handshake: %v", err)
	}
	// Reissue a's certificate and put it where a loads from.
	next := p.issue(t, CertRequest{Identity: NodeIdentity("a")})
	copyFile(t, next.CertFile, a.certFile)
	copyFile(t, next.KeyFile, a.keyFile)
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	if a.Leaf().SerialNumber.Cmp(next.Cert.SerialNumber) != 0 {
		t.Fatal("Leaf is not the new certificate")
	}
	srv, srvErr, cli, cliErr := handshake(t, a.ServerConfig(), b.ClientConfig("a"))
	if srvErr != nil || cliErr != nil {
		t.Fatalf("after reload: server %v, client %v", srvErr, cliErr)
	}
	if got := cli.PeerCertificates[0].SerialNumber; got.Cmp(next.Cert.SerialNumber) != 0 {
		t.Fatalf("client saw serial %v, want the new %v", got, next.Cert.SerialNumber)
	}
	// The client side reloads too: b's new certificate is what a sees.
	nextB := p.issue(t, CertRequest{Identity: NodeIdentity("b")})
	copyFile(t, nextB.CertFile, b.certFile)
	copyFile(t, nextB.KeyFile, b.keyFile)
	if err := b.Reload(); err != nil {
		t.Fatal(err)
	}
	srv, srvErr, _, cliErr = handshake(t, a.ServerConfig(), b.ClientConfig("a"))
	if srvErr != nil || cliErr != nil || srv.VerifiedChains[0][0].SerialNumber.Cmp(nextB.Cert.SerialNumber) != 0 {
		t.Fatalf("client cert after reload: server %v, client %v", srvErr, cliErr)
	}
}

func TestBadReloadKeepsOld(t *testing.T) {
	p := newPKI(t)
	a, b := p.node(t, "a"), p.node(t, "b")
	serial := a.Leaf().SerialNumber
	certPEM, _ := os.ReadFile(a.certFile)
	keyPEM, _ := os.ReadFile(a.keyFile)
	restore := func() {
		_ = os.WriteFile(a.certFile, certPEM, 0o600)
		_ = os.WriteFile(a.keyFile, keyPEM, 0o600)
	}
	other := newPKI(t)
	foreign := other.issue(t, CertRequest{Identity: NodeIdentity("a")})
	renamed := p.issue(t, CertRequest{Identity: NodeIdentity("z")})
	mismatched := p.issue(t, CertRequest{Identity: NodeIdentity("a")})
	cases := []struct {
		name  string
		apply func()
		want  string
	}{
		{"garbage key", func() { _ = os.WriteFile(a.keyFile, []byte("not a key"), 0o600) }, "certificate"},
		{"missing cert", func() { _ = os.Remove(a.certFile) }, "no such file"},
		{"key of another cert", func() { copyFile(t, mismatched.KeyFile, a.keyFile) }, "private key does not match"},
		{"cert from another CA", func() {
			copyFile(t, foreign.CertFile, a.certFile)
			copyFile(t, foreign.KeyFile, a.keyFile)
		}, "does not verify"},
		{"another node's identity", func() {
			copyFile(t, renamed.CertFile, a.certFile)
			copyFile(t, renamed.KeyFile, a.keyFile)
		}, "not edgeplane://node/a"},
		{"garbage CA bundle", func() { _ = os.WriteFile(a.caFile+".bad", nil, 0o600); a.caFile += ".bad" }, "CA bundle"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			caFile := a.caFile
			defer func() { restore(); a.caFile = caFile }()
			c.apply()
			err := a.Reload()
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "keeping the current certificate") {
				t.Fatalf("Reload = %v, want an error about %q", err, c.want)
			}
			if a.Leaf().SerialNumber.Cmp(serial) != 0 {
				t.Fatal("a failed reload changed the certificate")
			}
			_, srvErr, cli, cliErr := handshake(t, a.ServerConfig(), b.ClientConfig("a"))
			if srvErr != nil || cliErr != nil || cli.PeerCertificates[0].SerialNumber.Cmp(serial) != 0 {
				t.Fatalf("handshake after failed reload: server %v, client %v", srvErr, cliErr)
			}
		})
	}
}

// TestReloadCABundle is a CA rotation as docs/security.md describes it:
// every node trusts both CAs, then nodes get certificates from the new CA,
// then the old CA is dropped and a node still on it is refused.
func TestReloadCABundle(t *testing.T) {
	oldCA, newCA := newPKI(t), newPKI(t)
	a, b, c := oldCA.node(t, "a"), oldCA.node(t, "b"), oldCA.node(t, "c")
	bundle := filepath.Join(t.TempDir(), "bundle.crt")
	oldPEM, _ := os.ReadFile(filepath.Join(oldCA.caDir, CACertFile))
	newPEM, _ := os.ReadFile(filepath.Join(newCA.caDir, CACertFile))
	if err := os.WriteFile(bundle, append(append([]byte{}, oldPEM...), newPEM...), 0o644); err != nil {
		t.Fatal(err)
	}
	both := func(from, to *Reloader) {
		t.Helper()
		if _, srvErr, _, cliErr := handshake(t, to.ServerConfig(), from.ClientConfig(to.Identity().Name)); srvErr != nil || cliErr != nil {
			t.Fatalf("%s -> %s: server %v, client %v", from.Identity(), to.Identity(), srvErr, cliErr)
		}
	}
	// Step 1: a and b trust both CAs.
	for _, r := range []*Reloader{a, b} {
		copyFile(t, bundle, r.caFile)
		if err := r.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(a.CAs()); n != 2 {
		t.Fatalf("%d CAs after reload, want 2", n)
	}
	// Step 2: a moves to a certificate from the new CA.
	next := newCA.issue(t, CertRequest{Identity: NodeIdentity("a")})
	copyFile(t, next.CertFile, a.certFile)
	copyFile(t, next.KeyFile, a.keyFile)
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	both(a, b)
	both(b, a)
	// c, which never got the bundle, refuses a's new certificate.
	if _, _, _, cliErr := handshake(t, a.ServerConfig(), c.ClientConfig("a")); cliErr == nil {
		t.Fatal("c trusted a CA it was never given")
	}
	// Step 3: a drops the old CA; c (old certificate) is refused both ways.
	copyFile(t, filepath.Join(newCA.caDir, CACertFile), a.caFile)
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, srvErr, _, _ := handshake(t, a.ServerConfig(), c.ClientConfig("")); srvErr == nil {
		t.Fatal("a still accepts a client from the removed CA")
	}
	if _, _, _, cliErr := handshake(t, c.ServerConfig(), a.ClientConfig("c")); cliErr == nil {
		t.Fatal("a still accepts a server from the removed CA")
	}
}

func TestNewReloaderErrors(t *testing.T) {
	p := newPKI(t)
	iss := p.issue(t, CertRequest{Identity: NodeIdentity("a")})
	ca := filepath.Join(p.caDir, CACertFile)
	if _, err := NewReloader(ca, iss.CertFile, filepath.Join(p.caDir, CAKeyFile)); err == nil {
		t.Fatal("accepted a key that is not the certificate's")
	}
	if _, err := NewReloader(iss.CertFile, iss.CertFile, iss.KeyFile); err == nil || !strings.Contains(err.Error(), "not a CA") {
		t.Fatalf("accepted a leaf as CA bundle: %v", err)
	}
	// Expired certificate.
	old := p.issue(t, CertRequest{Identity: NodeIdentity("b"), Validity: time.Hour, Now: time.Now().Add(-2 * time.Hour)})
	if _, err := NewReloader(ca, old.CertFile, old.KeyFile); err == nil {
		t.Fatal("accepted an expired certificate")
	}
	caFile, certFile, keyFile := NodeFiles("/etc/edge", "n1")
	if caFile != "/etc/edge/ca.crt" || certFile != "/etc/edge/n1.crt" || keyFile != "/etc/edge/n1.key" {
		t.Fatalf("NodeFiles = %s %s %s", caFile, certFile, keyFile)
	}
}
